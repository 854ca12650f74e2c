-- The SQLite state's 0002 creates the conversions table and adds messages.done_at; here
-- 0001 made both already. This migration exists so that a number names the same schema
-- in both backends (0003 is resolve, 0004 opt-outs, in each).
--
-- The row below tells a state numbered so from one made before the numbering was aligned,
-- where 0002 was resolve and 0003 opt-outs: Init renumbers such a state's
-- schema_migrations once (see renumber in postgres.go).
INSERT INTO meta (key, value) VALUES ('migrations', 'numbered as the SQLite state''s');
