//! Pure parsers for the values found in business documents: text normalisation, dates,
//! amounts and currencies. Ingest and the matcher both use them, so a value means the same
//! thing wherever it is read. Nothing here allocates more than the value it returns, does
//! I/O, or knows about files, SQLite or HTTP.

pub mod date;
pub mod number;
pub mod text;

pub use date::{parse_date, DateOrder};
pub use number::{parse_amount, Amount, Currency};
pub use text::normalize_text;
