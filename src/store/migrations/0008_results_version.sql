-- A results page counts what it filters, and at 100,000 results counting takes longer than
-- the page itself (issue 17). `runs.results_version` changes whenever a run's results do,
-- so a count can be kept and reused until then: the runner bumps it with each batch it
-- writes and when it re-queues a run; a trigger bumps it whenever a review or the resolver
-- changes what a page filters on, whichever process or code path does so. The Rust step of
-- this migration (`results::add_results_version`) adds the column and the trigger, each
-- only where it is missing.
SELECT 1;
