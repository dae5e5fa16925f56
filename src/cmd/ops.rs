//! `refmatch backup` and `refmatch prune`: operations on the database file.

use std::path::Path;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::store::{now_ms, Store};

pub fn backup(cli: &Cli, file: &Path) -> Result<()> {
    let store = Store::open(&cli.db_path(), 2)?;
    store.backup(file)?;
    eprintln!(
        "backed up {} to {}",
        cli.db_path().display(),
        file.display()
    );
    Ok(())
}

pub fn prune(cli: &Cli, older_than: &str) -> Result<()> {
    let age = parse_age(older_than)?;
    let store = Store::open(&cli.db_path(), 2)?;
    let ws = store.workspace(&cli.workspace, false)?;
    let pruned = store.prune(ws, now_ms().saturating_sub(age))?;
    super::print_stdout(&format!(
        "pruned {} runs, {} results, {} reference versions\n",
        pruned.runs, pruned.results, pruned.reference_versions
    ))
}

/// `90d`, `12h`, `30m` or `45s` in milliseconds.
fn parse_age(text: &str) -> Result<i64> {
    let invalid = || {
        Error::invalid(
            "--older-than",
            "",
            format!("\"{text}\" is not a duration such as 90d, 12h, 30m or 45s"),
        )
    };
    let text = text.trim();
    let split = text.len().checked_sub(1).ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let number: i64 = number.parse().map_err(|_| invalid())?;
    let unit_ms: i64 = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        _ => return Err(invalid()),
    };
    if number < 0 {
        return Err(invalid());
    }
    number.checked_mul(unit_ms).ok_or_else(invalid)
}

/// `refmatch healthcheck`: one `GET /healthz` to a server; Ok when it answers 200.
pub fn healthcheck(addr: &str, timeout_secs: u64) -> Result<()> {
    use std::io::{Read, Write};
    use std::net::{TcpStream, ToSocketAddrs};
    use std::time::Duration;
    let timeout = Duration::from_secs(timeout_secs.max(1));
    let unhealthy = |why: String| Error::Unavailable(format!("{addr} is not healthy: {why}"));
    let target = addr
        .to_socket_addrs()
        .map_err(|e| Error::invalid("--addr", "", format!("\"{addr}\" is not an address: {e}")))?
        .next()
        .ok_or_else(|| Error::invalid("--addr", "", format!("\"{addr}\" resolves to nothing")))?;
    let mut stream =
        TcpStream::connect_timeout(&target, timeout).map_err(|e| unhealthy(e.to_string()))?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|_| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| unhealthy(e.to_string()))?;
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .map_err(|e| unhealthy(e.to_string()))?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .map_err(|e| unhealthy(e.to_string()))?;
    if head.starts_with(b"HTTP/1.1 200") || head.starts_with(b"HTTP/1.0 200") {
        Ok(())
    } else {
        Err(unhealthy(format!(
            "it answered {}",
            String::from_utf8_lossy(&head)
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_need_a_unit() {
        assert_eq!(parse_age("90d").unwrap(), 90 * 86_400_000);
        assert_eq!(parse_age("45s").unwrap(), 45_000);
        for bad in ["", "d", "90", "-1d", "1w", "9999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}
