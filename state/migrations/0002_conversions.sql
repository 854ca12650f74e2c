-- Conversions submitted to Infobip: at most one per message, ever.
CREATE TABLE conversions (
    message_id   TEXT PRIMARY KEY,  -- messages.message_id
    state        TEXT NOT NULL CHECK (state IN ('submitting', 'converted', 'failed', 'unknown')),
    process_key  TEXT,
    error        TEXT,
    source       TEXT NOT NULL,   -- FILE:LINE of the event row
    submitted_at TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) WITHOUT ROWID;

-- When Infobip's logs last reported the message's delivery status.
ALTER TABLE messages ADD COLUMN done_at TEXT;
