//! The matching engine of the service: the dedicated matcher pool and the cache of built
//! indexes, shared by runs (`runner`) and real-time matching (`service::match_inline`).
//! It loads reference versions from the store and builds matchers over them; it knows
//! nothing of runs, queues or HTTP, and imports neither `runner` nor `service`.

use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde_json::Value;

use crate::config::MatchConfig;
use crate::error::Result;
use crate::ingest::body::field_text;
use crate::matcher::{index_key, CandidateEvidence, Evidence, MatchIndex, Matcher, Mode};
use crate::store::{Store, WorkspaceId};

/// The matcher pool and the index cache of one process.
pub struct Engine {
    store: Store,
    pool: Arc<rayon::ThreadPool>,
    cache: Mutex<IndexCache>,
}

impl Engine {
    /// An engine whose cache keeps up to `index_cache_bytes` of indexes.
    pub fn new(store: Store, pool: Arc<rayon::ThreadPool>, index_cache_bytes: usize) -> Engine {
        Engine {
            store,
            pool,
            cache: Mutex::new(IndexCache {
                capacity: index_cache_bytes,
                entries: Vec::new(),
                clock: 0,
            }),
        }
    }

    /// The matcher pool (strategy fitting uses it too).
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// The index of `version` for `config`: from the cache, or loaded and built on the pool
    /// and cached. `on_hit` runs when the cache had it, `on_load` after loading the rows.
    pub fn index_for(
        &self,
        ws: WorkspaceId,
        version: i64,
        config: &MatchConfig,
        on_hit: impl FnOnce() -> Result<()>,
        on_load: impl FnOnce() -> Result<()>,
    ) -> Result<Arc<MatchIndex>> {
        let key = index_key(config);
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|mut c| c.get(version, &key));
        if let Some(index) = cached {
            on_hit()?;
            return Ok(index);
        }
        let reference = self.store.load_version(ws, version)?;
        on_load()?;
        let index = Arc::new(
            self.pool
                .install(|| MatchIndex::build(config, Arc::new(reference)))?,
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(version, key, Arc::clone(&index));
        }
        Ok(index)
    }

    /// Real-time matching: `documents` (fields as stored documents hold them) against the
    /// stored `config` and its table's current version, on the pool, nothing stored. Uses
    /// and fills the same index cache as runs. A one-to-one assignment is made within the
    /// request, ties by `ids` (one per document) then request order. Returns each outcome.
    pub fn match_inline(
        &self,
        ws: WorkspaceId,
        config: MatchConfig,
        version: i64,
        documents: &[&serde_json::Map<String, Value>],
        ids: &[&str],
    ) -> Result<Vec<InlineResult>> {
        let index = self.index_for(ws, version, &config, || Ok(()), || Ok(()))?;
        let matcher = Matcher::with_index(config, index)?;
        let sources: Vec<&str> = matcher.sources().collect();
        let texts: Vec<Vec<Option<std::borrow::Cow<'_, str>>>> = documents
            .iter()
            .map(|fields| {
                sources
                    .iter()
                    .map(|s| fields.get(*s).and_then(field_text))
                    .collect()
            })
            .collect();
        let mut outcomes = matcher.match_many(&texts, Mode::Indexed, &self.pool, &|| {});
        matcher.settle_with(&mut outcomes, &texts, &self.pool);
        matcher.assign(&mut outcomes, ids);
        Ok(self.pool.install(|| {
            texts
                .par_iter()
                .zip(outcomes)
                .map(|(texts, outcome)| {
                    let values: Vec<Option<&str>> = texts.iter().map(|t| t.as_deref()).collect();
                    InlineResult {
                        matched_reference_row_id: outcome
                            .matched
                            .map(|row| matcher.reference().id(row as usize).to_string()),
                        confidence: outcome.confidence,
                        evidence: outcome
                            .candidates
                            .first()
                            .map(|c| matcher.evidence(&values, c)),
                        candidates: matcher.candidates(&values, &outcome),
                        assigned: outcome.assigned,
                    }
                })
                .collect()
        }))
    }
}

/// What real-time matching answers for one document.
pub struct InlineResult {
    pub matched_reference_row_id: Option<String>,
    pub confidence: f64,
    pub evidence: Option<Evidence>,
    pub candidates: Vec<CandidateEvidence>,
    pub assigned: bool,
}

/// Indexes by reference version and mapped columns, least recently used evicted first, so
/// re-running after a weight or threshold change skips loading and indexing the table.
struct IndexCache {
    capacity: usize,
    entries: Vec<CachedIndex>,
    clock: u64,
}

struct CachedIndex {
    version_id: i64,
    key: String,
    index: Arc<MatchIndex>,
    bytes: usize,
    used: u64,
}

impl IndexCache {
    fn get(&mut self, version_id: i64, key: &str) -> Option<Arc<MatchIndex>> {
        self.clock += 1;
        let clock = self.clock;
        self.entries
            .iter_mut()
            .find(|e| e.version_id == version_id && e.key == key)
            .map(|e| {
                e.used = clock;
                Arc::clone(&e.index)
            })
    }

    fn insert(&mut self, version_id: i64, key: String, index: Arc<MatchIndex>) {
        let bytes = index.approx_bytes();
        if bytes > self.capacity {
            return;
        }
        self.clock += 1;
        self.entries.push(CachedIndex {
            version_id,
            key,
            index,
            bytes,
            used: self.clock,
        });
        while self.entries.iter().map(|e| e.bytes).sum::<usize>() > self.capacity {
            let Some(oldest) = self
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.used)
                .map(|(i, _)| i)
            else {
                break;
            };
            self.entries.remove(oldest);
        }
    }
}
