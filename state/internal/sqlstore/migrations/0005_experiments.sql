-- Experiments (text variants): which variant each message was sent with, and each
-- experiment round's decision.
-- variant: the variant's name; NULL for a campaign without variants.
-- held: 1 when the recipient was held out of the test and sent the winner afterwards, so
-- that the test's figures, which decide and report the experiment, leave the rest out.
ALTER TABLE messages ADD COLUMN variant TEXT;
ALTER TABLE messages ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

-- The decision of an experiment round, recorded once, when apply first sends the held
-- recipients the winner, and never changed afterwards: a later plan uses it, not the file.
CREATE TABLE experiments (
    campaign   TEXT    NOT NULL,
    round      INTEGER NOT NULL,
    winner     TEXT    NOT NULL,    -- the variant's name
    decided_by TEXT    NOT NULL CHECK (decided_by IN ('file', 'auto')),
    decided_at TEXT    NOT NULL,
    reason     TEXT    NOT NULL,    -- the plan's line explaining the decision
    figures    TEXT    NOT NULL,    -- JSON: per variant, sent with tracking and converted
    PRIMARY KEY (campaign, round)
);
