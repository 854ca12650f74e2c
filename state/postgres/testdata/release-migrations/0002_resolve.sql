-- What deciding an unknown outcome needs, as in the SQLite state's migration 0003.
-- The first attempt of the current messageId: an idempotency window runs from it, while
-- sending_at moves with every resend. NULL, or another messageId, means sending_at is it.
ALTER TABLE messages ADD COLUMN first_message_id TEXT;
ALTER TABLE messages ADD COLUMN first_sending_at TEXT;
-- A person's decision about an unknown outcome (`smsform state resolve`): 'sent' or 'unsent',
-- who made it and when. An 'unsent' decision is used up by the resend it allows.
ALTER TABLE messages ADD COLUMN resolution TEXT CHECK (resolution IN ('sent', 'unsent'));
ALTER TABLE messages ADD COLUMN resolved_by TEXT;
ALTER TABLE messages ADD COLUMN resolved_at TEXT;
