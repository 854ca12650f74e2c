-- Contact policy (issue 20): the same schema as the SQLite state's 0006, which rebuilds its
-- table where PostgreSQL changes the CHECK in place. A message a frequency cap held back is
-- recorded 'capped', with the cap's reason in error. New columns, NULL in rows recorded
-- before: purpose ('marketing' | 'transactional'; NULL counts as marketing for the caps),
-- send_at (when a scheduled message went out; NULL: at sending_at), consent_at and
-- consent_source (the consent evidence the message was sent on).
ALTER TABLE messages DROP CONSTRAINT messages_state_check;
ALTER TABLE messages ADD CONSTRAINT messages_state_check
    CHECK (state IN ('sending', 'sent', 'failed', 'unknown', 'abandoned', 'capped'));
ALTER TABLE messages ADD COLUMN purpose TEXT CHECK (purpose IN ('marketing', 'transactional'));
ALTER TABLE messages ADD COLUMN send_at TEXT;
ALTER TABLE messages ADD COLUMN consent_at TEXT;
ALTER TABLE messages ADD COLUMN consent_source TEXT;
