//! One module per subcommand; `run` dispatches. Commands return typed errors and leave
//! printing them and choosing the exit code to `main`.

mod bench;
mod demo;
mod eval;
pub(crate) mod generate;
mod import;
mod keys;
mod match_;
mod ops;
mod run;
mod serve;
mod synth;

use std::path::Path;
use std::sync::Arc;

use crate::cli::{Cli, Command, OfflineInputs};
use crate::config::MatchConfig;
use crate::error::{Error, Result};
use crate::ingest::{self, DocumentScan};
use crate::matcher::Matcher;
use rayon::prelude::*;

pub fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::Match(args) => match_::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Synth(args) => synth::run(args),
        Command::GenerateConfig(args) => generate::run(args),
        Command::Serve(args) => serve::run(&cli, args),
        Command::Demo(args) => demo::run(&cli, args),
        Command::Keys(command) => keys::run(&cli, command),
        Command::Reference(command) => import::reference(&cli, command),
        Command::Documents(command) => import::documents(&cli, command),
        Command::Config(command) => import::config(&cli, command),
        Command::Run(args) => run::run(&cli, args),
        Command::Bench(command) => bench::run(&cli, command),
        Command::Backup { file } => ops::backup(&cli, file),
        Command::Prune { older_than } => ops::prune(&cli, older_than),
    }
}

/// Everything an offline command needs, read and checked; the documents themselves are
/// streamed in chunks (`for_each_chunk`).
pub(crate) struct Offline {
    pub matcher: Matcher,
    pub documents: DocumentScan,
    pub pool: rayon::ThreadPool,
    /// How long reading the inputs and building the index took (for `bench`).
    pub read_time: std::time::Duration,
    pub index_time: std::time::Duration,
    documents_path: std::path::PathBuf,
    encoding: ingest::Encoding,
}

/// Documents matched and written per chunk: memory holds one chunk of documents and
/// results, whatever the number of documents.
const DOCUMENT_CHUNK: usize = 8_192;

impl Offline {
    /// How many times `for_each_chunk` matches each document (and calls `done`): twice
    /// with a one-to-one assignment, once otherwise.
    pub fn passes(&self) -> usize {
        match self.matcher.config().assignment {
            crate::config::Assignment::None => 1,
            crate::config::Assignment::OneToOne => 2,
        }
    }

    /// Each document's prediction (`MatchOutcome::prediction`), in file order, in one pass
    /// even with a one-to-one assignment: the assignment needs only each document's
    /// assignable rows, and the prediction only the matched row or the top candidate.
    pub fn predictions(
        &self,
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<Option<(u32, f64)>>> {
        Ok(self
            .assigned_outcomes(mode, done)?
            .iter()
            .map(crate::matcher::MatchOutcome::prediction)
            .collect())
    }

    /// Every document's outcome in file order, assigned as the config says, keeping of
    /// the candidates only the first without its evidence: a few rows per document,
    /// whatever the input size.
    pub(crate) fn assigned_outcomes(
        &self,
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
    ) -> Result<Vec<crate::matcher::MatchOutcome>> {
        let sources: Vec<&str> = self.matcher.sources().collect();
        let mut lite = Vec::with_capacity(self.documents.ids.len());
        ingest::for_each_document_chunk(
            &self.documents_path,
            self.encoding,
            &sources,
            DOCUMENT_CHUNK,
            |_, values| {
                let outcomes = self.matcher.match_many(values, mode, &self.pool, done);
                lite.extend(outcomes.into_iter().map(|mut o| {
                    o.candidates.truncate(1);
                    for c in &mut o.candidates {
                        c.fields = Vec::new();
                    }
                    o
                }));
                Ok(())
            },
        )?;
        // The documents whose head does not settle them are read again and rematched for
        // their full lists (a few percent of them on ledgers).
        self.matcher.settle(&mut lite, |positions| {
            let mut lists = Vec::with_capacity(positions.len());
            ingest::for_each_document_chunk(
                &self.documents_path,
                self.encoding,
                &sources,
                DOCUMENT_CHUNK,
                |first, values| {
                    let from = positions.partition_point(|&p| p < first);
                    let to = positions.partition_point(|&p| p < first + values.len());
                    let wanted = &positions[from..to];
                    lists.extend(self.pool.install(|| {
                        wanted
                            .par_iter()
                            .map(|&p| {
                                let doc: Vec<Option<&str>> =
                                    values[p - first].iter().map(|v| v.as_deref()).collect();
                                self.matcher.full_assignable(&doc, &[])
                            })
                            .collect::<Vec<_>>()
                    }));
                    Ok(())
                },
            )?;
            Ok::<_, crate::error::Error>(lists)
        })?;
        self.matcher.assign(&mut lite, &self.documents.ids);
        Ok(lite)
    }

    /// Matches the documents chunk by chunk in file order; `on_chunk` gets the position of
    /// the chunk's first document, its values and its outcomes. With a one-to-one
    /// assignment a first pass keeps only each document's assignable rows (a few per
    /// document, whatever the input size), the assignment is made over all documents, and
    /// the second pass hands out outcomes with the assigned row and its confidence.
    pub fn for_each_chunk(
        &self,
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
        mut on_chunk: impl FnMut(
            usize,
            &[Vec<Option<String>>],
            &[crate::matcher::MatchOutcome],
        ) -> Result<()>,
    ) -> Result<()> {
        let sources: Vec<&str> = self.matcher.sources().collect();
        let assigned = match self.matcher.config().assignment {
            crate::config::Assignment::None => None,
            crate::config::Assignment::OneToOne => Some(self.assigned_outcomes(mode, done)?),
        };
        ingest::for_each_document_chunk(
            &self.documents_path,
            self.encoding,
            &sources,
            DOCUMENT_CHUNK,
            |first, values| {
                let mut outcomes = self.matcher.match_many(values, mode, &self.pool, done);
                if let Some(assigned) = &assigned {
                    for (i, outcome) in outcomes.iter_mut().enumerate() {
                        if let Some(a) = assigned.get(first + i) {
                            outcome.matched = a.matched;
                            outcome.confidence = a.confidence;
                            outcome.assigned = a.assigned;
                        }
                    }
                }
                on_chunk(first, values, &outcomes)
            },
        )
    }
}

fn read_config(path: &Path) -> Result<MatchConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => {
            Error::invalid(path.display().to_string(), "", "is not valid UTF-8")
        }
        _ => Error::io(path, e),
    })?;
    MatchConfig::from_json(&text, &path.display().to_string())
}

/// Reads the config and both tables, checks them against each other, builds the matcher.
pub(crate) fn load_offline(inputs: &OfflineInputs) -> Result<Offline> {
    let started = std::time::Instant::now();
    let config = read_config(&inputs.config)?;
    let pool = crate::matcher::thread_pool(inputs.threads)?;
    let reference = pool.install(|| {
        ingest::read_reference(
            &inputs.reference,
            inputs.encoding,
            inputs.id_column.as_deref(),
        )
    })?;
    let documents = ingest::scan_documents(
        &inputs.documents,
        inputs.encoding,
        inputs.document_id_column.as_deref(),
    )?;
    config.check_columns(
        &inputs.config.display().to_string(),
        &inputs.reference.display().to_string(),
        &reference.columns,
        &documents.name,
        &documents.headers,
    )?;
    let read_time = started.elapsed();
    let matcher = pool.install(|| Matcher::build(config, Arc::new(reference)))?;
    Ok(Offline {
        matcher,
        documents,
        pool,
        read_time,
        index_time: started.elapsed() - read_time,
        documents_path: inputs.documents.clone(),
        encoding: inputs.encoding,
    })
}

/// Writes to stdout; a closed pipe (`refmatch eval | head`) is not an error.
pub(crate) fn print_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io(Path::new("<stdout>"), e))
        }
        _ => Ok(()),
    }
}

/// A progress bar on stderr; hidden when stderr is not a terminal.
pub(crate) fn progress_bar(len: usize, what: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} documents ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what);
    bar
}

/// A value as JSON text (`null`, `150`, `0.93`, `1.0`): how the commands print counters
/// and confidences, the same text the API shows.
pub(crate) fn json_text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
