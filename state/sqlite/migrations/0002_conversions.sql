-- Conversions submitted to Infobip: at most one per message, ever. Keyed like messages, so
-- that writing them in key order and joining them to their messages walk both B-trees in
-- the same order.
CREATE TABLE conversions (
    campaign     TEXT    NOT NULL,
    round        INTEGER NOT NULL,
    destination  TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,  -- the message converted; a later attempt has another
    state        TEXT    NOT NULL CHECK (state IN ('submitting', 'converted', 'failed', 'unknown')),
    process_key  TEXT,
    error        TEXT,
    source       TEXT    NOT NULL,  -- FILE:LINE of the event row
    submitted_at TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (campaign, round, destination)
) WITHOUT ROWID;

-- When Infobip's logs last reported the message's delivery status.
ALTER TABLE messages ADD COLUMN done_at TEXT;
