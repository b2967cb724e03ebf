//! `aos eval retrieval`: loads a BEIR-layout data set into a scratch tenant,
//! runs every query in lexical, dense and hybrid mode, prints nDCG@10,
//! recall@10 and MRR@10 with search latencies, and removes the tenant.

use anyhow::{Context, Result};
use knowledge::ingest::DocumentMeta;
use knowledge::parse::Format;
use knowledge::scope::Scope;
use knowledge::search::{FusionWeights, SearchMode, SearchQuery};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;
use uuid::Uuid;

use super::metrics::{mrr_at, ndcg_at, percentile, recall_at};
use crate::domain::TenantId;
use crate::knowledge::{BulkDocument, KnowledgeService};
use crate::store::{Db, tenants};

#[derive(Deserialize)]
struct CorpusRow {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    text: String,
}

#[derive(Deserialize)]
struct QueryRow {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// A BEIR data set: passages, queries and graded judgments.
pub struct Dataset {
    corpus: Vec<CorpusRow>,
    queries: Vec<QueryRow>,
    qrels: HashMap<String, HashMap<String, i32>>,
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).with_context(|| format!("{} line {}", path.display(), i + 1))
        })
        .collect()
}

impl Dataset {
    /// `(id, text)` of every passage, title first when there is one.
    pub fn passages(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.corpus.iter().map(|row| {
            let text = if row.title.is_empty() {
                row.text.clone()
            } else {
                format!("{}\n\n{}", row.title, row.text)
            };
            (row.id.clone(), text)
        })
    }

    /// The judged queries' texts.
    pub fn query_texts(&self) -> impl Iterator<Item = String> + '_ {
        self.queries.iter().map(|q| q.text.clone())
    }

    pub fn load(dir: &Path) -> Result<Dataset> {
        let corpus: Vec<CorpusRow> = read_jsonl(&dir.join("corpus.jsonl"))?;
        let qrels_path = dir.join("qrels").join("test.tsv");
        let qrels_text = std::fs::read_to_string(&qrels_path)
            .with_context(|| format!("cannot read {}", qrels_path.display()))?;
        let mut qrels: HashMap<String, HashMap<String, i32>> = HashMap::new();
        for line in qrels_text.lines().skip(1) {
            let mut cols = line.split('\t');
            if let (Some(q), Some(d), Some(score)) = (cols.next(), cols.next(), cols.next()) {
                let score: i32 = score
                    .trim()
                    .parse()
                    .with_context(|| format!("bad qrels line `{line}`"))?;
                qrels
                    .entry(q.to_owned())
                    .or_default()
                    .insert(d.to_owned(), score);
            }
        }
        let queries = read_jsonl::<QueryRow>(&dir.join("queries.jsonl"))?
            .into_iter()
            .filter(|q| qrels.contains_key(&q.id))
            .collect();
        Ok(Dataset {
            corpus,
            queries,
            qrels,
        })
    }
}

/// Parses `vector:lexical`, e.g. `1:0.5`.
pub fn parse_weights(raw: &str) -> Result<FusionWeights> {
    let (vector, lexical) = raw
        .split_once(':')
        .with_context(|| format!("weights `{raw}` are not `vector:lexical`"))?;
    Ok(FusionWeights {
        vector: vector
            .trim()
            .parse()
            .with_context(|| format!("bad vector weight in `{raw}`"))?,
        lexical: lexical
            .trim()
            .parse()
            .with_context(|| format!("bad lexical weight in `{raw}`"))?,
    })
}

pub async fn run(
    db: &Db,
    service: &KnowledgeService,
    dir: &Path,
    weights: &[FusionWeights],
    postings: &[usize],
) -> Result<()> {
    let dataset = Dataset::load(dir)?;
    eprintln!(
        "{}: {} passages, {} judged queries",
        dir.display(),
        dataset.corpus.len(),
        dataset.queries.len()
    );
    let tenant = TenantId(Uuid::new_v4());
    let mut tx = db.tenant(tenant).await?;
    tenants::create(&mut tx, tenant, "retrieval evaluation (scratch)").await?;
    tx.commit().await?;
    let outcome = evaluate(db, service, tenant, dataset, weights, postings).await;
    let mut tx = db.tenant(tenant).await?;
    sqlx::query("delete from tenants").execute(&mut *tx).await?;
    tx.commit().await?;
    outcome
}

async fn evaluate(
    db: &Db,
    service: &KnowledgeService,
    tenant: TenantId,
    dataset: Dataset,
    weights: &[FusionWeights],
    postings: &[usize],
) -> Result<()> {
    let documents: Vec<_> = dataset
        .corpus
        .iter()
        .map(|row| {
            let text = if row.title.is_empty() {
                row.text.clone()
            } else {
                format!("{}\n\n{}", row.title, row.text)
            };
            let meta = DocumentMeta {
                title: Some(row.id.clone()),
                source: "eval".into(),
                uri: Some(row.id.clone()),
                tags: Vec::new(),
                scope: Scope::ALL,
            };
            BulkDocument {
                meta,
                format: Format::Text,
                bytes: text.into_bytes(),
                vectors: None,
            }
        })
        .collect();
    let total = documents.len();
    let started = Instant::now();
    let mut done = 0;
    let stats = service
        .bulk_load(db, tenant, documents, |n| {
            done += n;
            eprint!("\ringested {done}/{total} passages");
        })
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "ingest: {total} passages, {} chunks in {seconds:.1} s ({:.0} chunks/s; parse+chunk {:.1} s, embed {:.1} s, write {:.1} s; embedder {})",
        stats.chunks,
        stats.chunks as f64 / seconds,
        stats.prepare_secs,
        stats.embed_secs,
        stats.write_secs,
        service.embedder().model_id()
    );
    println!(
        "{:<8} {:>8} {:>10} {:>8} {:>10} {:>10}",
        "mode", "nDCG@10", "recall@10", "MRR@10", "p50 ms", "p99 ms"
    );
    let base = SearchQuery::new("", 10);
    let (default, default_postings) = (base.weights, base.postings_per_term);
    let runs = [
        (SearchMode::Lexical, default, default_postings),
        (SearchMode::Dense, default, default_postings),
        (SearchMode::Hybrid, default, default_postings),
    ]
    .into_iter()
    .chain(
        weights
            .iter()
            .map(|w| (SearchMode::Hybrid, *w, default_postings)),
    )
    .chain(postings.iter().flat_map(|p| {
        [
            (SearchMode::Lexical, default, *p),
            (SearchMode::Hybrid, default, *p),
        ]
    }));
    for (mode, fusion, cut_off) in runs {
        let (mut ndcg, mut recall, mut mrr) = (0.0, 0.0, 0.0);
        let mut latencies = Vec::with_capacity(dataset.queries.len());
        for query in &dataset.queries {
            let mut search = SearchQuery::new(query.text.clone(), 10);
            search.mode = mode;
            search.weights = fusion;
            search.postings_per_term = cut_off;
            let started = Instant::now();
            let results = service.search(db, tenant, &search).await?;
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            let mut ranked: Vec<String> = Vec::new();
            for hit in results.hits {
                let id = hit.uri.unwrap_or_default();
                if !ranked.contains(&id) {
                    ranked.push(id);
                }
            }
            let judged = dataset.qrels.get(&query.id).cloned().unwrap_or_default();
            ndcg += ndcg_at(&ranked, &judged, 10);
            recall += recall_at(&ranked, &judged, 10);
            mrr += mrr_at(&ranked, &judged, 10);
        }
        let n = dataset.queries.len().max(1) as f64;
        let mut name = match mode {
            SearchMode::Lexical => "lexical".to_owned(),
            SearchMode::Dense => "dense".to_owned(),
            SearchMode::Hybrid if fusion == default => "hybrid".to_owned(),
            SearchMode::Hybrid => format!("hybrid {}:{}", fusion.vector, fusion.lexical),
        };
        if cut_off != default_postings {
            name = format!("{name}@{cut_off}");
        }
        println!(
            "{name:<14} {:>8.4} {:>10.4} {:>8.4} {:>10.2} {:>10.2}",
            ndcg / n,
            recall / n,
            mrr / n,
            percentile(&mut latencies, 0.5),
            percentile(&mut latencies, 0.99)
        );
    }
    Ok(())
}
