//! One module per subcommand; `run` dispatches. Commands return typed errors and leave
//! printing them and choosing the exit code to `main`.

mod assign;
mod bench;
mod demo;
mod eval;
pub(crate) mod generate;
mod import;
mod index;
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
        Command::Index(command) => index::run(command),
        Command::Assign(args) => assign::run(args),
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
        Command::Healthcheck { addr, timeout_secs } => ops::healthcheck(addr, *timeout_secs),
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
    /// With `match --shard`, only the shard's documents are matched, and a one-to-one
    /// assignment is left to `refmatch assign` over every shard's candidates.
    pub shard: Option<crate::shard::Shard>,
    /// The one-to-one assignment is left to `refmatch assign` (always with `shard`).
    pub defer_assignment: bool,
}

/// Documents matched and written per chunk: memory holds one chunk of documents and
/// results, whatever the number of documents.
const DOCUMENT_CHUNK: usize = 8_192;

impl Offline {
    /// How many times `for_each_chunk` matches each document (and calls `done`): twice
    /// with a one-to-one assignment, once otherwise.
    pub fn passes(&self) -> usize {
        if self.assigns_here() {
            2
        } else {
            1
        }
    }

    /// Whether this process makes the config's one-to-one assignment: yes unless it
    /// matches one shard, whose candidates `refmatch assign` takes.
    pub fn assigns_here(&self) -> bool {
        self.matcher.config().assignment == crate::config::Assignment::OneToOne
            && self.shard.is_none()
            && !self.defer_assignment
    }

    /// Matches the documents of one chunk that belong to this process's shard (all of
    /// them without one); `positions` receives their positions in the file.
    fn match_chunk(
        &self,
        first: usize,
        values: &[Vec<Option<String>>],
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
        positions: &mut Vec<usize>,
    ) -> (Vec<Vec<Option<String>>>, Vec<crate::matcher::MatchOutcome>) {
        positions.clear();
        let Some(shard) = self.shard else {
            positions.extend(first..first + values.len());
            return (
                Vec::new(),
                self.matcher.match_many(values, mode, &self.pool, done),
            );
        };
        let ids = &self.documents.ids;
        let mut taken = Vec::new();
        for (i, doc) in values.iter().enumerate() {
            if ids.get(first + i).is_some_and(|id| shard.contains(id)) {
                positions.push(first + i);
                taken.push(doc.clone());
            }
        }
        let outcomes = self.matcher.match_many(&taken, mode, &self.pool, done);
        (taken, outcomes)
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

    /// Matches the documents chunk by chunk in file order; `on_chunk` gets the documents'
    /// positions in the file, their values and their outcomes (with `shard`, only the
    /// shard's documents). With a one-to-one assignment made here, a first pass keeps only
    /// each document's assignable rows (a few per document, whatever the input size), the
    /// assignment is made over all documents, and the second pass hands out outcomes with
    /// the assigned row and its confidence.
    pub fn for_each_chunk(
        &self,
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
        mut on_chunk: impl FnMut(
            &[usize],
            &[Vec<Option<String>>],
            &[crate::matcher::MatchOutcome],
        ) -> Result<()>,
    ) -> Result<()> {
        let sources: Vec<&str> = self.matcher.sources().collect();
        let assigned = if self.assigns_here() {
            Some(self.assigned_outcomes(mode, done)?)
        } else {
            None
        };
        let mut positions = Vec::new();
        ingest::for_each_document_chunk(
            &self.documents_path,
            self.encoding,
            &sources,
            DOCUMENT_CHUNK,
            |first, values| {
                let (taken, mut outcomes) =
                    self.match_chunk(first, values, mode, done, &mut positions);
                if let Some(assigned) = &assigned {
                    for (outcome, &at) in outcomes.iter_mut().zip(&positions) {
                        if let Some(a) = assigned.get(at) {
                            outcome.matched = a.matched;
                            outcome.confidence = a.confidence;
                            outcome.assigned = a.assigned;
                        }
                    }
                }
                let values = if self.shard.is_some() { &taken } else { values };
                on_chunk(&positions, values, &outcomes)
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

/// Reads an index snapshot for `config`; a snapshot that is refused (corrupt, truncated,
/// from another version, for other mappings) is a one-line validation error.
pub(crate) fn read_index(
    path: &Path,
    config: &MatchConfig,
    pool: &rayon::ThreadPool,
) -> Result<crate::matcher::MatchIndex> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    pool.install(|| crate::matcher::snapshot::read(&mut file, size, config))
        .map_err(|refused| Error::invalid(path.display().to_string(), "", refused.0))
}

/// Reads the config and both tables (or the index snapshot and the documents), checks
/// them against each other, builds the matcher.
pub(crate) fn load_offline(inputs: &OfflineInputs) -> Result<Offline> {
    let started = std::time::Instant::now();
    let config = read_config(&inputs.config)?;
    let pool = crate::matcher::thread_pool(inputs.threads)?;
    enum Source {
        Table(crate::matcher::ReferenceTable),
        Index(crate::matcher::MatchIndex),
    }
    let (source, reference_name) = match (&inputs.index, &inputs.reference) {
        (Some(path), _) => (
            Source::Index(read_index(path, &config, &pool)?),
            path.display().to_string(),
        ),
        (None, Some(path)) => (
            Source::Table(pool.install(|| {
                ingest::read_reference(path, inputs.encoding, inputs.id_column.as_deref())
            })?),
            path.display().to_string(),
        ),
        (None, None) => {
            return Err(Error::invalid(
                "arguments",
                "--reference",
                "a reference table or --index is required",
            ))
        }
    };
    let documents = ingest::scan_documents(
        &inputs.documents,
        inputs.encoding,
        inputs.document_id_column.as_deref(),
    )?;
    let reference_columns = match &source {
        Source::Table(table) => &table.columns,
        Source::Index(index) => &index.reference().columns,
    };
    config.check_columns(
        &inputs.config.display().to_string(),
        &reference_name,
        reference_columns,
        &documents.name,
        &documents.headers,
    )?;
    let read_time = started.elapsed();
    let matcher = match source {
        Source::Table(reference) => pool.install(|| Matcher::build(config, Arc::new(reference)))?,
        Source::Index(index) => Matcher::with_index(config, Arc::new(index))?,
    };
    Ok(Offline {
        matcher,
        documents,
        pool,
        read_time,
        index_time: started.elapsed() - read_time,
        documents_path: inputs.documents.clone(),
        encoding: inputs.encoding,
        shard: None,
        defer_assignment: false,
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
