-- One-to-one assignment (config `assignment: "one_to_one"`) may match a document to a row
-- other than its first candidate, or to none because another document took its row. The
-- result says so; results of earlier runs, which had no assignment, say false.
ALTER TABLE results ADD COLUMN assigned INTEGER NOT NULL DEFAULT 0;
