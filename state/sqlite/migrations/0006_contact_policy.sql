-- Contact policy (issue 20). A message a frequency cap held back is recorded 'capped', with
-- the cap's reason in error, so that it is never sent later for its round. SQLite cannot
-- change a CHECK in place: the table is rebuilt, its rows copied as they are.
-- New columns, NULL in rows recorded before:
--   purpose         'marketing' | 'transactional'; NULL (recorded before) counts as
--                   marketing, the default purpose, for the caps
--   send_at         when the message was scheduled to go out (send_at, quiet hours);
--                   NULL: at once, when it was recorded sending (sending_at)
--   consent_at      the consent evidence the message was sent on: when the person agreed
--   consent_source  and where
CREATE TABLE messages_0006 (
    campaign      TEXT    NOT NULL,
    round         INTEGER NOT NULL,
    destination   TEXT    NOT NULL,
    attempt       INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT    NOT NULL,
    bulk_id       TEXT    NOT NULL,
    text_hash     INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('sending', 'sent', 'failed', 'unknown', 'abandoned', 'capped')),
    status_group  INTEGER,
    status_id     INTEGER,
    status_name   TEXT,
    sms_count     INTEGER NOT NULL DEFAULT 0,
    tracking_type TEXT,
    error         TEXT,
    created_at    TEXT    NOT NULL,
    sending_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    done_at       TEXT,
    first_message_id TEXT,
    first_sending_at TEXT,
    resolution    TEXT CHECK (resolution IN ('sent', 'unsent')),
    resolved_by   TEXT,
    resolved_at   TEXT,
    variant       TEXT,
    held          INTEGER NOT NULL DEFAULT 0,
    purpose       TEXT CHECK (purpose IN ('marketing', 'transactional')),
    send_at       TEXT,
    consent_at    TEXT,
    consent_source TEXT,
    PRIMARY KEY (campaign, round, destination),
    CHECK (round >= 1 AND attempt >= 0)
) WITHOUT ROWID;
INSERT INTO messages_0006 (campaign, round, destination, attempt, message_id, bulk_id, text_hash, state, status_group,
    status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at, done_at,
    first_message_id, first_sending_at, resolution, resolved_by, resolved_at, variant, held)
SELECT campaign, round, destination, attempt, message_id, bulk_id, text_hash, state, status_group,
    status_id, status_name, sms_count, tracking_type, error, created_at, sending_at, updated_at, done_at,
    first_message_id, first_sending_at, resolution, resolved_by, resolved_at, variant, held FROM messages;
DROP TABLE messages;
ALTER TABLE messages_0006 RENAME TO messages;
