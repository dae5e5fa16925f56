//! `refmatch reference import`, `refmatch documents import` and `refmatch config create`:
//! the same use-cases as the API, from files, into the `--workspace`.

use std::path::Path;

use crate::cli::{Cli, ConfigCommand, DocumentsCommand, ReferenceCommand};
use crate::error::{Error, Result};
use crate::ingest::{self, body};
use crate::service;
use crate::store::Store;

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

pub fn reference(cli: &Cli, command: &ReferenceCommand) -> Result<()> {
    let ReferenceCommand::Import {
        file,
        name,
        id_column,
        replace,
        encoding,
    } = command;
    let bytes = read(file)?;
    let origin = file.display().to_string();
    let xlsx = origin.to_ascii_lowercase().ends_with(".xlsx");
    let table = if xlsx {
        ingest::xlsx::reference_from_xlsx(&origin, &bytes, id_column.as_deref(), "--id-column")?
    } else {
        ingest::reference_from_csv(
            &origin,
            &bytes,
            *encoding,
            id_column.as_deref(),
            "--id-column",
        )?
    };
    let store = Store::open(&cli.db_path(), 2)?;
    let ws = store.workspace(&cli.workspace, true)?;
    let default_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| origin.clone());
    let name = match (name, replace) {
        (Some(name), _) => Some(name.clone()),
        (None, None) => Some(default_name),
        (None, Some(_)) => None,
    };
    let created = service::import_reference(
        &store,
        ws,
        replace.as_deref(),
        name.as_deref(),
        if xlsx { "xlsx" } else { "csv" },
        &table,
    )?;
    eprintln!(
        "imported {} rows as version {} of \"{}\"",
        created.row_count, created.version, created.name
    );
    super::print_stdout(&format!("{}\n", created.id))
}

pub fn documents(cli: &Cli, command: &DocumentsCommand) -> Result<()> {
    let DocumentsCommand::Import {
        file,
        id_column,
        filename_column,
        encoding,
    } = command;
    let bytes = read(file)?;
    let origin = file.display().to_string();
    let jsonl = origin.ends_with(".jsonl") || origin.ends_with(".ndjson");
    let (source_type, documents) = if jsonl {
        let documents = body::documents_from_local_jsonl(&bytes).map_err(|e| rename(e, &origin))?;
        ("jsonl", documents)
    } else {
        let documents = body::documents_from_csv(
            &origin,
            &bytes,
            *encoding,
            id_column.as_deref(),
            filename_column.as_deref(),
        )?;
        ("csv", documents)
    };
    let store = Store::open(&cli.db_path(), 2)?;
    let ws = store.workspace(&cli.workspace, true)?;
    let created = service::import_documents(&store, ws, source_type, &documents)?;
    eprintln!("imported {} documents", created.document_count);
    super::print_stdout(&format!("{}\n", created.batch_id))
}

/// Names the file instead of `body` in a validation error.
fn rename(error: Error, origin: &str) -> Error {
    match error {
        Error::Validation { details, .. } => Error::Validation {
            origin: origin.to_string(),
            details,
        },
        other => other,
    }
}

pub fn config(cli: &Cli, command: &ConfigCommand) -> Result<()> {
    let ConfigCommand::Create { file } = command;
    let bytes = read(file)?;
    let store = Store::open(&cli.db_path(), 2)?;
    let ws = store.workspace(&cli.workspace, true)?;
    let origin = file.display().to_string();
    let created = service::create_config(&store, ws, &bytes).map_err(|e| rename(e, &origin))?;
    super::print_stdout(&format!("{}\n", created.id))
}
