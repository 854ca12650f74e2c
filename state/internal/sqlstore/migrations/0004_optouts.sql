-- Opt-outs: numbers that asked for no more marketing texts, from a STOP reply or added by
-- hand. A removal keeps the row (removed_by, removed_at), so the history of who opted out,
-- and who lifted it when, stays. One active opt-out per number.
CREATE TABLE opt_outs (
    id             {{identity}},        -- the order recorded
    number         TEXT NOT NULL,        -- E.164, with '+'
    source         TEXT NOT NULL,        -- "reply STOP at ... (inbound messageId ...)" or "added by hand"
    reply_id       TEXT,                 -- the inbound reply's messageId, when it came from one
    added_by       TEXT,                 -- who added it by hand
    reason         TEXT,
    received_at    TEXT NOT NULL,        -- when the person asked
    recorded_at    TEXT NOT NULL,        -- when smsform recorded it
    removed_by     TEXT,
    removed_at     TEXT,
    removed_reason TEXT
);
CREATE UNIQUE INDEX opt_outs_active ON opt_outs (number) WHERE removed_at IS NULL;

-- Inbound replies as Infobip handed them out (each once): kept so a repeated pull, or the
-- same reply delivered twice, records nothing twice, and so an opt-out can be traced.
CREATE TABLE inbound (
    message_id  TEXT PRIMARY KEY,
    sender      TEXT NOT NULL,           -- E.164, with '+'
    receiver    TEXT NOT NULL,
    text        TEXT NOT NULL,
    keyword     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);

-- Test sends (`smsform test-send`): apart from messages, so plan, report and convert never
-- count them.
CREATE TABLE test_sends (
    message_id  TEXT PRIMARY KEY,
    destination TEXT NOT NULL,
    campaign    TEXT NOT NULL,
    text        TEXT NOT NULL,
    sent_by     TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    outcome     TEXT NOT NULL
);
