-- refmatch database schema. The offline commands (match, eval) need no database; the
-- service fills this file in, applied through migrations keyed on PRAGMA user_version.
PRAGMA user_version = 0;
