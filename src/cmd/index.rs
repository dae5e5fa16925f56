//! `refmatch index build`: a reference table read and indexed once for a config's
//! mappings, written to one snapshot file (`matcher::snapshot`) that `match --index` and
//! `eval --index` load instead.

use std::io::Write;
use std::sync::Arc;

use crate::cli::{IndexBuildArgs, IndexCommand};
use crate::error::{Error, Result};
use crate::ingest;
use crate::matcher::{snapshot, MatchIndex};

pub fn run(command: &IndexCommand) -> Result<()> {
    match command {
        IndexCommand::Build(args) => build(args),
    }
}

fn build(args: &IndexBuildArgs) -> Result<()> {
    let config = super::read_config(&args.config)?;
    let pool = crate::matcher::thread_pool(args.threads)?;
    let index = pool.install(|| {
        let reference =
            ingest::read_reference(&args.reference, args.encoding, args.id_column.as_deref())?;
        MatchIndex::build(&config, Arc::new(reference))
    })?;
    let bytes = snapshot::encode(&index);
    // Written beside the destination and renamed over it: a reader never sees half a
    // snapshot, and a failed build leaves the previous one in place.
    let out = &args.out;
    let name = out
        .file_name()
        .ok_or_else(|| Error::invalid("arguments", "--out", "names no file"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = out.with_file_name(tmp_name);
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, out));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(out, e));
    }
    super::print_stdout(&format!(
        "{}: {} reference rows, {} mappings, {} bytes\n",
        out.display(),
        index.reference().len(),
        config.mappings.len(),
        bytes.len()
    ))
}
