-- The messages of unknown outcome, found without reading every message: apply counts them
-- before and after it sends, and reconciliation lists them, and a scan of ten million rows
-- for the handful there are took seconds each time. A partial index holds only those rows,
-- so recording a sent message (nearly all of them) writes nothing more.
CREATE INDEX messages_unresolved ON messages (state) WHERE state IN ('sending', 'unknown');
