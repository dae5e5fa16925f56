-- Results store their candidates in a compact form (src/store/compact.rs): the document's
-- values, field names and strategies once per result instead of once per candidate, and
-- the result's evidence not at all when it is its first candidate's. `candidates` holds a
-- BLOB in that form or, as before, JSON text; `evidence` is NULL when it is the first
-- candidate's (BLOB candidates) or there is none (text candidates), else JSON text as
-- before. The API reads the same JSON from either. The rows already stored are rewritten
-- by the Rust step of this migration (`results::compact_stored_results`), each only if its
-- compact form reads back as exactly the text it had; the others keep their text.
SELECT 1;
