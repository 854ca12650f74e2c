-- The state of every message smsform ever started to send.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE messages (
    campaign      TEXT    NOT NULL,
    round         INTEGER NOT NULL,
    destination   TEXT    NOT NULL,               -- E.164, with '+'
    attempt       INTEGER NOT NULL DEFAULT 0,     -- bumped by apply -retry-failed
    message_id    TEXT    NOT NULL,               -- derived from the key and attempt, so unique
    bulk_id       TEXT    NOT NULL,
    text_hash     INTEGER NOT NULL,               -- rendered text and send options
    state         TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown', 'abandoned')),
    status_group  INTEGER,
    status_id     INTEGER,
    status_name   TEXT,
    sms_count     INTEGER NOT NULL DEFAULT 0,
    tracking_type TEXT,                           -- NULL: sent without tracking
    error         TEXT,
    created_at    TEXT    NOT NULL,
    sending_at    TEXT    NOT NULL,               -- when the latest send attempt was recorded
    updated_at    TEXT    NOT NULL,
    PRIMARY KEY (campaign, round, destination),
    CHECK (round >= 1 AND attempt >= 0)
) WITHOUT ROWID;

-- Requests that may be in flight: a batch's messages are recorded here, durably, before its
-- request leaves, and moved into messages with their outcome when the answer is recorded.
-- One row per request instead of one write per message; a row left here belongs to a run
-- that died, and its messages' outcome is unknown.
CREATE TABLE inflight (
    id         INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    messages   TEXT NOT NULL   -- JSON: the batch's state.Outgoing messages
);

-- No secondary index: every write finds its row by the primary key, and the rare lookups by
-- messageId or state scan. Each index would be one more random B-tree write per message.
