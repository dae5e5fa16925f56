-- Schedules and re-matching (issue 16). `schedule` is a cron expression in the server's
-- local time zone; `schedule_next_ms` is when it next fires (unix ms), moved on by the
-- server that fires it, so two servers never fire one slot twice and a server that was
-- down fires a missed slot once at start. `rematch_on_new_version`: a new version of the
-- config's table queues a run over the documents whose latest result is still pending.
ALTER TABLE configs ADD COLUMN schedule TEXT;
ALTER TABLE configs ADD COLUMN schedule_next_ms INTEGER;
ALTER TABLE configs ADD COLUMN rematch_on_new_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX configs_by_schedule ON configs(schedule_next_ms) WHERE schedule IS NOT NULL;
