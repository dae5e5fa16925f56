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
    /// How many bytes of documents settling an assignment keeps (`KEPT_BYTES`).
    kept_bytes: usize,
    /// How many bytes of whole outcomes a one-to-one `for_each_chunk` keeps
    /// (`FULL_OUTCOME_BYTES`).
    whole_bytes: usize,
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
        Ok(self.assigned_outcomes_keeping(mode, done, 0)?.0)
    }

    /// `assigned_outcomes`, keeping every candidate with its evidence while all the
    /// outcomes fit in `full_bytes` (then `true` comes back): a caller that writes them
    /// needs no second matching pass.
    fn assigned_outcomes_keeping(
        &self,
        mode: crate::matcher::Mode,
        done: &(dyn Fn() + Sync),
        full_bytes: usize,
    ) -> Result<(Vec<crate::matcher::MatchOutcome>, bool)> {
        let sources: Vec<&str> = self.matcher.sources().collect();
        let mut lite = Vec::with_capacity(self.documents.ids.len());
        let mut kept = KeptDocuments::new(self.kept_bytes);
        // What the outcomes kept whole take, while they fit in `full_bytes`.
        let mut whole = Some(0usize);
        ingest::for_each_document_chunk(
            &self.documents_path,
            self.encoding,
            &sources,
            DOCUMENT_CHUNK,
            |first, values| {
                let outcomes = self.matcher.match_many(values, mode, &self.pool, done);
                for (i, (outcome, doc)) in outcomes.iter().zip(values).enumerate() {
                    // Only a document that brings a head may have to be matched again.
                    if !outcome.complete && !outcome.assignable.is_empty() {
                        kept.keep(first + i, doc);
                    }
                }
                let was_whole = whole.is_some();
                whole = whole
                    .map(|bytes| bytes + outcomes.iter().map(outcome_bytes).sum::<usize>())
                    .filter(|&bytes| bytes <= full_bytes);
                if was_whole && whole.is_none() {
                    // Past the limit: what was kept whole is stripped once.
                    lite.iter_mut().for_each(strip);
                }
                let at = lite.len();
                lite.extend(outcomes);
                if whole.is_none() {
                    lite[at..].iter_mut().for_each(strip);
                }
                Ok(())
            },
        )?;
        // The documents whose head does not settle them are rematched for their full
        // lists (a few percent of them on ledgers), from memory while their values fit
        // there, else read again from the file.
        self.matcher.settle(&mut lite, |positions| {
            if let Some(docs) = kept.all(positions) {
                return Ok(self.pool.install(|| {
                    docs.par_iter()
                        .map(|doc| self.matcher.full_assignable(doc, &[]))
                        .collect()
                }));
            }
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
        Ok((lite, whole.is_some()))
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
        let (mut assigned, whole) = if self.assigns_here() {
            let (outcomes, whole) = self.assigned_outcomes_keeping(mode, done, self.whole_bytes)?;
            (Some(outcomes), whole)
        } else {
            (None, false)
        };
        let mut positions = Vec::new();
        ingest::for_each_document_chunk(
            &self.documents_path,
            self.encoding,
            &sources,
            DOCUMENT_CHUNK,
            |first, values| {
                if let (true, Some(assigned)) = (whole, assigned.as_mut()) {
                    // The first pass kept every outcome whole: hand them out in order.
                    positions.clear();
                    positions.extend(first..first + values.len());
                    let outcomes: Vec<crate::matcher::MatchOutcome> = positions
                        .iter()
                        .map(|&at| assigned.get_mut(at).map(std::mem::take).unwrap_or_default())
                        .collect();
                    for _ in &outcomes {
                        done();
                    }
                    return on_chunk(&positions, values, &outcomes);
                }
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

/// What the outcomes of a one-to-one `match` may take whole (every candidate with its
/// evidence, about 1 KB a document) so that writing them needs no second matching pass.
/// Past it, outcomes are stripped to what the assignment needs and documents are matched
/// again as they are written.
const FULL_OUTCOME_BYTES: usize = 256 << 20;

/// What one outcome takes in memory (see `FULL_OUTCOME_BYTES`).
fn outcome_bytes(o: &crate::matcher::MatchOutcome) -> usize {
    std::mem::size_of::<crate::matcher::MatchOutcome>()
        + o.candidates
            .iter()
            .map(|c| {
                std::mem::size_of::<crate::matcher::Candidate>()
                    + c.fields.len() * std::mem::size_of::<crate::matcher::FieldScore>()
            })
            .sum::<usize>()
        + o.assignable.len() * std::mem::size_of::<(u32, f64)>()
}

/// Keeps of an outcome what the assignment and predictions need: its first candidate,
/// without evidence.
fn strip(o: &mut crate::matcher::MatchOutcome) {
    o.candidates.truncate(1);
    o.candidates.shrink_to_fit();
    for c in &mut o.candidates {
        c.fields = Vec::new();
    }
}

/// What `KeptDocuments` may hold: the fields of about a million invoices.
const KEPT_BYTES: usize = 128 << 20;

/// The values of the documents a one-to-one assignment may have to match again (those
/// that bring only their head), kept in one buffer while they fit in `limit` bytes, so
/// settling the assignment reads none of the documents file again (each read of it cost
/// as much as matching the few documents it was for). Past the limit it holds nothing,
/// and settling reads the file, so memory stays bounded whatever the input.
struct KeptDocuments {
    limit: usize,
    text: String,
    /// Per kept document, ascending: its position in the file and its first span.
    documents: Vec<(usize, usize)>,
    /// Per field of each kept document, its value's place in `text` (`None`: missing).
    spans: Vec<Option<(usize, usize)>>,
    overflowed: bool,
}

impl KeptDocuments {
    fn new(limit: usize) -> KeptDocuments {
        KeptDocuments {
            limit,
            text: String::new(),
            documents: Vec::new(),
            spans: Vec::new(),
            overflowed: false,
        }
    }

    /// What the kept documents take, in bytes.
    fn size(&self) -> usize {
        self.text.len()
            + self.documents.len() * std::mem::size_of::<(usize, usize)>()
            + self.spans.len() * std::mem::size_of::<Option<(usize, usize)>>()
    }

    /// Keeps the values of the document at `position` (positions come ascending).
    fn keep(&mut self, position: usize, values: &[Option<String>]) {
        if self.overflowed {
            return;
        }
        let adds = values.iter().flatten().map(String::len).sum::<usize>()
            + std::mem::size_of::<(usize, usize)>()
            + values.len() * std::mem::size_of::<Option<(usize, usize)>>();
        if self.size() + adds > self.limit {
            *self = KeptDocuments::new(self.limit);
            self.overflowed = true;
            return;
        }
        self.documents.push((position, self.spans.len()));
        for value in values {
            self.spans.push(value.as_ref().map(|v| {
                let start = self.text.len();
                self.text.push_str(v);
                (start, v.len())
            }));
        }
    }

    /// The values of every document at `positions`, or `None` when one was not kept.
    fn all(&self, positions: &[usize]) -> Option<Vec<Vec<Option<&str>>>> {
        if self.overflowed {
            return None;
        }
        positions
            .iter()
            .map(|&p| {
                let at = self.documents.binary_search_by_key(&p, |&(q, _)| q).ok()?;
                let start = self.documents[at].1;
                let end = self.documents.get(at + 1).map_or(self.spans.len(), |d| d.1);
                Some(
                    self.spans[start..end]
                        .iter()
                        .map(|span| span.and_then(|(s, n)| self.text.get(s..s + n)))
                        .collect(),
                )
            })
            .collect()
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
    // The documents are scanned (ids checked) on their own thread while the reference is
    // read: both are mostly one core's parsing. A reference error is reported first.
    let (source, documents) = std::thread::scope(|scope| {
        let documents = scope.spawn(|| {
            ingest::scan_documents(
                &inputs.documents,
                inputs.encoding,
                inputs.document_id_column.as_deref(),
            )
        });
        let source = match (&inputs.index, &inputs.reference) {
            (Some(path), _) => read_index(path, &config, &pool)
                .map(|index| (Source::Index(index), path.display().to_string())),
            (None, Some(path)) => pool
                .install(|| {
                    ingest::read_reference(path, inputs.encoding, inputs.id_column.as_deref())
                })
                .map(|table| (Source::Table(table), path.display().to_string())),
            (None, None) => Err(Error::invalid(
                "arguments",
                "--reference",
                "a reference table or --index is required",
            )),
        };
        let documents = documents
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (source, documents)
    });
    let (source, reference_name) = source?;
    let documents = documents?;
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
        kept_bytes: KEPT_BYTES,
        whole_bytes: FULL_OUTCOME_BYTES,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::Mode;

    fn doc(values: &[Option<&str>]) -> Vec<Option<String>> {
        values.iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn kept_documents_give_back_the_values_kept_until_the_limit_is_passed() {
        let mut kept = KeptDocuments::new(1 << 20);
        kept.keep(2, &doc(&[Some("Acme"), None, Some("101")]));
        kept.keep(7, &doc(&[Some(""), Some("Zeta"), None]));
        kept.keep(9, &doc(&[None, None, Some("5")]));
        assert_eq!(
            kept.all(&[2, 9]),
            Some(vec![
                vec![Some("Acme"), None, Some("101")],
                vec![None, None, Some("5")]
            ])
        );
        assert_eq!(
            kept.all(&[7]),
            Some(vec![vec![Some(""), Some("Zeta"), None]])
        );
        // A document that was not kept means the file must be read.
        assert_eq!(kept.all(&[2, 3]), None);

        let mut small = KeptDocuments::new(kept.size());
        small.keep(2, &doc(&[Some("Acme"), None, Some("101")]));
        small.keep(7, &doc(&[Some(""), Some("Zeta"), None]));
        small.keep(9, &doc(&[None, None, Some("5")]));
        assert_eq!(
            small.all(&[2]),
            Some(vec![vec![Some("Acme"), None, Some("101")]])
        );
        small.keep(10, &doc(&[Some("x"), None, None]));
        // Past the limit nothing is kept, not even what fitted.
        assert_eq!(small.all(&[2]), None);
        assert_eq!(small.size(), 0);
    }

    /// Two documents whose best row is the same: their heads do not settle them, so the
    /// assignment matches both again for their full lists, from memory or from the file.
    #[test]
    fn settling_from_kept_documents_assigns_as_settling_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
        write(
            "reference.csv",
            "id,vendor,amount\nr1,Acme,100\nr2,Acme,103\nr3,Other,500\nr4,Other,520\n",
        );
        write(
            "documents.csv",
            "document_id,vendor,amount\na,Acme,101\nb,Acme,96\nc,Nobody,1\nd,Other,505\ne,Other,497\n",
        );
        write(
            "config.json",
            r#"{"threshold": 0.85, "assignment": "one_to_one", "field_mappings": [
                {"source": "vendor", "target": "vendor", "strategy": "exact", "weight": 0.5},
                {"source": "amount", "target": "amount", "strategy": "numeric_range",
                 "weight": 0.5, "tolerance_pct": 10}]}"#,
        );
        let inputs = OfflineInputs {
            reference: Some(d.join("reference.csv")),
            index: None,
            documents: d.join("documents.csv"),
            config: d.join("config.json"),
            id_column: None,
            document_id_column: None,
            encoding: ingest::Encoding::Utf8,
            threads: 2,
            exhaustive: false,
        };
        let answers = |kept_bytes: usize| {
            let mut offline = load_offline(&inputs).unwrap();
            offline.kept_bytes = kept_bytes;
            let reference = offline.matcher.reference();
            offline
                .assigned_outcomes(Mode::Indexed, &|| {})
                .unwrap()
                .iter()
                .map(|o| {
                    let matched = o.matched.map(|row| reference.id(row as usize).to_string());
                    (matched, o.confidence, o.assigned, o.assignable.clone())
                })
                .collect::<Vec<_>>()
        };
        let from_memory = answers(KEPT_BYTES);
        let from_file = answers(0);
        assert_eq!(from_memory, from_file);
        let matched: Vec<Option<&str>> = from_memory.iter().map(|a| a.0.as_deref()).collect();
        assert_eq!(
            matched,
            [Some("r2"), Some("r1"), None, Some("r4"), Some("r3")]
        );
        // Settling completed the contested documents' lists: each holds both rows.
        assert_eq!(from_memory[0].3.len(), 2);
        assert_eq!(from_memory[3].3.len(), 2);
        assert!(from_memory[0].2 && !from_memory[1].2);

        // Writing outcomes kept whole gives what matching every document again gives.
        let written = |whole_bytes: usize| {
            let mut offline = load_offline(&inputs).unwrap();
            offline.whole_bytes = whole_bytes;
            let matched = std::sync::atomic::AtomicUsize::new(0);
            let mut lines = Vec::new();
            offline
                .for_each_chunk(
                    Mode::Indexed,
                    &|| {
                        matched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    },
                    |positions, values, outcomes| {
                        for ((&at, doc), o) in positions.iter().zip(values).zip(outcomes) {
                            let candidates: Vec<(u32, f64, Vec<crate::matcher::FieldScore>)> = o
                                .candidates
                                .iter()
                                .map(|c| (c.row, c.confidence, c.fields.clone()))
                                .collect();
                            lines.push((
                                at,
                                doc.clone(),
                                o.matched,
                                o.confidence,
                                o.assigned,
                                candidates,
                            ));
                        }
                        Ok(())
                    },
                )
                .unwrap();
            // Progress counts both passes either way.
            assert_eq!(matched.into_inner(), 2 * lines.len());
            lines
        };
        let whole = written(FULL_OUTCOME_BYTES);
        assert_eq!(whole, written(0));
        assert_eq!(whole.len(), 5);
        assert_eq!(
            whole[0].5.len(),
            2,
            "every candidate is kept with its evidence"
        );
        assert_eq!(whole[0].5[0].2.len(), 2);
        assert!(whole[0].4, "a is moved to its second best");
    }
}
