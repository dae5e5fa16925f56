-- Schedules and re-matching (issue 16). `configs.schedule` is a cron expression in the
-- server's local time zone; `schedule_next_ms` is when it next fires (unix ms), moved on by
-- the server that fires it, so two servers never fire one slot twice and a server that was
-- down fires a missed slot once at start. `rematch_on_new_version`: a new version of the
-- config's table queues a run over the documents whose latest result is still pending.
-- The columns and their index are made by this migration's Rust step
-- (`migrate::schedule_columns`), which adds a column only where it is missing.
SELECT 1;
