-- A results page counts what it filters, and at 100,000 results counting takes longer than
-- the page itself (issue 17). `runs.results_version` changes whenever a run's results do,
-- so a count can be kept and reused until then: the runner bumps it with each batch it
-- writes and when it re-queues a run; this trigger bumps it whenever a review or the
-- resolver changes what a page filters on, whichever process or code path does so.
ALTER TABLE runs ADD COLUMN results_version INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER results_change_their_run
AFTER UPDATE OF status, matched_reference_row_id, confidence ON results
BEGIN
    UPDATE runs SET results_version = results_version + 1 WHERE id = NEW.run_id;
END;
