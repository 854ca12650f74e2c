-- The state of every message smsform ever started to send: the same tables as the SQLite
-- state (state/sqlite/migrations, 0001 and 0002), so that `smsform state migrate` copies
-- rows as they are.
-- Times are text in one layout (UTC, milliseconds), as in SQLite, so a copy is exact.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE messages (
    campaign      TEXT    NOT NULL,
    round         INTEGER NOT NULL,
    destination   TEXT    NOT NULL,               -- E.164, with '+'
    attempt       INTEGER NOT NULL DEFAULT 0,     -- bumped by apply -retry-failed
    message_id    TEXT    NOT NULL,
    bulk_id       TEXT    NOT NULL,
    text_hash     BIGINT  NOT NULL,               -- rendered text and send options
    state         TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown', 'abandoned')),
    status_group  INTEGER,
    status_id     INTEGER,
    status_name   TEXT,
    sms_count     INTEGER NOT NULL DEFAULT 0,
    tracking_type TEXT,                           -- NULL: sent without tracking
    error         TEXT,
    created_at    TEXT    NOT NULL,
    sending_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    done_at       TEXT,
    PRIMARY KEY (campaign, round, destination),
    CHECK (round >= 1 AND attempt >= 0)
);

-- Requests that may be in flight: recorded, committed, before the request leaves.
CREATE TABLE inflight (
    id         BIGSERIAL PRIMARY KEY,
    created_at TEXT NOT NULL,
    messages   TEXT NOT NULL   -- JSON: the batch's state.Outgoing messages
);
-- Stored as is: compressing ~100 kB of JSON per request, to delete it a moment later, cost
-- more than writing it.
ALTER TABLE inflight ALTER COLUMN messages SET STORAGE EXTERNAL;

CREATE TABLE conversions (
    campaign     TEXT    NOT NULL,
    round        INTEGER NOT NULL,
    destination  TEXT    NOT NULL,
    message_id   TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('submitting', 'converted', 'failed', 'unknown')),
    process_key  TEXT,
    error        TEXT,
    source       TEXT    NOT NULL,
    submitted_at TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (campaign, round, destination)
);

-- Who holds the writer's advisory lock: written by the holder once it has the lock, read by
-- the next one to say whom it waits for. The lock itself lives in the holder's session.
CREATE TABLE lock_holder (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    host    TEXT    NOT NULL,
    pid     INTEGER NOT NULL,
    command TEXT    NOT NULL,
    since   TEXT    NOT NULL
);
