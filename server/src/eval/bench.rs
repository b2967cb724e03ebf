//! `aos bench retrieval`: search latency at scale and ingest throughput.
//!
//! The corpus is replicated: `--base` passages of a BEIR data set are embedded
//! for real (this measures ingest throughput with the configured embedder),
//! then copied until the index holds `--chunks` chunks. Each copy's text gets a
//! copy marker and its vector the original plus small Gaussian noise,
//! re-normalised, so copies are near neighbours rather than exact duplicates.
//! Queries are the data set's queries; query embedding and search time are
//! reported separately.

use anyhow::{Context, Result};
use knowledge::ingest::DocumentMeta;
use knowledge::parse::Format;
use knowledge::scope::Scope;
use knowledge::search::{SearchMode, SearchQuery};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::time::Instant;
use uuid::Uuid;

use super::metrics::percentile;
use super::retrieval::Dataset;
use crate::domain::TenantId;
use crate::knowledge::{BulkDocument, KnowledgeService};
use crate::store::{Db, tenants};

pub struct BenchOptions<'a> {
    pub dataset: &'a Path,
    pub chunks: usize,
    pub base: usize,
    pub rounds: usize,
    pub keep: bool,
    /// Extra lexical and hybrid runs with these postings-per-term cut-offs.
    pub postings: &'a [usize],
}

pub async fn run(db: &Db, service: &KnowledgeService, options: BenchOptions<'_>) -> Result<()> {
    let dataset = Dataset::load(options.dataset)?;
    let tenant = TenantId(Uuid::new_v4());
    let mut tx = db.tenant(tenant).await?;
    tenants::create(&mut tx, tenant, "retrieval benchmark (scratch)").await?;
    tx.commit().await?;
    let outcome = bench(db, service, tenant, &dataset, &options).await;
    if options.keep {
        eprintln!("kept the benchmark tenant {tenant}");
    } else {
        let mut tx = db.tenant(tenant).await?;
        sqlx::query("delete from tenants").execute(&mut *tx).await?;
        tx.commit().await?;
    }
    outcome
}

fn document(id: &str, text: String, vectors: Option<Vec<Vec<f32>>>) -> BulkDocument {
    BulkDocument {
        meta: DocumentMeta {
            title: Some(id.to_owned()),
            source: "bench".into(),
            uri: Some(id.to_owned()),
            tags: Vec::new(),
            scope: Scope::ALL,
        },
        format: Format::Text,
        bytes: text.into_bytes(),
        vectors,
    }
}

/// `base` plus Gaussian noise of standard deviation `sigma`, re-normalised.
fn jitter(base: &[f32], sigma: f32, rng: &mut StdRng) -> Vec<f32> {
    let mut out: Vec<f32> = base
        .iter()
        .map(|x| {
            // Box–Muller: two uniforms make one standard normal.
            let u1: f32 = rng.random_range(f32::EPSILON..1.0);
            let u2: f32 = rng.random();
            let normal = (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos();
            x + sigma * normal
        })
        .collect();
    let norm = out
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::EPSILON);
    out.iter_mut().for_each(|x| *x /= norm);
    out
}

async fn bench(
    db: &Db,
    service: &KnowledgeService,
    tenant: TenantId,
    dataset: &Dataset,
    options: &BenchOptions<'_>,
) -> Result<()> {
    let written =
        load_replicated(db, service, tenant, dataset, options.chunks, options.base).await?;
    let queries: Vec<String> = dataset.query_texts().collect();
    println!(
        "{:<14} {:>10} {:>10} {:>12} {:>12}   ({} queries x {} rounds, at {written} chunks)",
        "mode",
        "search p50",
        "search p99",
        "embed p50",
        "embed p99",
        queries.len(),
        options.rounds
    );
    let default = SearchQuery::new("", 10).postings_per_term;
    let runs = [SearchMode::Lexical, SearchMode::Dense, SearchMode::Hybrid]
        .map(|mode| (mode, default))
        .into_iter()
        .chain(
            options
                .postings
                .iter()
                .flat_map(|p| [(SearchMode::Lexical, *p), (SearchMode::Hybrid, *p)]),
        );
    for (mode, postings) in runs {
        let (mut search_ms, mut embed_ms) = (Vec::new(), Vec::new());
        for _ in 0..options.rounds {
            for text in &queries {
                let mut query = SearchQuery::new(text.clone(), 10);
                query.mode = mode;
                query.postings_per_term = postings;
                let results = service.search(db, tenant, &query).await?;
                search_ms.push(results.timings_ms.search);
                embed_ms.push(results.timings_ms.embed);
            }
        }
        let mut name = format!("{mode:?}").to_lowercase();
        if postings != default {
            name = format!("{name}@{postings}");
        }
        println!(
            "{name:<14} {:>8.2}ms {:>8.2}ms {:>10.2}ms {:>10.2}ms",
            percentile(&mut search_ms, 0.5),
            percentile(&mut search_ms, 0.99),
            percentile(&mut embed_ms, 0.5),
            percentile(&mut embed_ms, 0.99),
        );
    }
    println!("peak resident memory of aos: {}", peak_rss());
    Ok(())
}

/// Indexes `base_count` passages of `dataset` in `tenant`, embedded for real,
/// then copies them (text with a copy marker, vector plus noise) until the
/// index holds `chunks` chunks; prints ingest figures. Returns the chunks indexed.
pub async fn load_replicated(
    db: &Db,
    service: &KnowledgeService,
    tenant: TenantId,
    dataset: &Dataset,
    chunks: usize,
    base_count: usize,
) -> Result<usize> {
    let base: Vec<(String, String)> = dataset.passages().take(base_count).collect();
    anyhow::ensure!(!base.is_empty(), "the data set has no passages");
    let texts: Vec<String> = base.iter().map(|(_, text)| text.clone()).collect();

    eprintln!("embedding {} base passages…", texts.len());
    let started = Instant::now();
    let vectors = service
        .embedder()
        .embed(&texts)
        .await
        .context("embedding the base passages")?;
    let embed_secs = started.elapsed().as_secs_f64();
    let docs = base
        .iter()
        .zip(&vectors)
        .map(|((id, text), v)| document(id, text.clone(), Some(vec![v.clone()])))
        .collect();
    let stats = service.bulk_load(db, tenant, docs, |_| {}).await?;
    let tokens: usize = texts.iter().map(|t| service.count_tokens(t)).sum();
    println!(
        "ingest (real embeddings): {} chunks, {} tokens: embed {:.1} s ({:.0} chunks/s, {:.0} tokens/s), write {:.1} s ({:.0} chunks/s); end to end {:.0} chunks/s",
        stats.chunks,
        tokens,
        embed_secs,
        stats.chunks as f64 / embed_secs,
        tokens as f64 / embed_secs,
        stats.write_secs,
        stats.chunks as f64 / stats.write_secs,
        stats.chunks as f64 / (embed_secs + stats.write_secs + stats.prepare_secs)
    );

    let mut rng = StdRng::seed_from_u64(7);
    let mut written = stats.chunks;
    let started = Instant::now();
    let mut write_secs = 0.0;
    let mut copy = 1;
    while written < chunks {
        let take = (chunks - written).min(base.len());
        let docs: Vec<BulkDocument> = base
            .iter()
            .zip(&vectors)
            .take(take)
            .map(|((id, text), v)| {
                document(
                    &format!("{id}#copy{copy}"),
                    format!("{text} (copy {copy})"),
                    Some(vec![jitter(v, 0.02, &mut rng)]),
                )
            })
            .collect();
        let stats = service.bulk_load(db, tenant, docs, |_| {}).await?;
        written += stats.chunks;
        write_secs += stats.write_secs;
        copy += 1;
        eprint!("\rindexed {written}/{chunks} chunks");
    }
    eprintln!();
    if written > stats.chunks {
        println!(
            "replicated to {written} chunks in {:.0} s (write {:.0} chunks/s including HNSW and BM25 index upkeep)",
            started.elapsed().as_secs_f64(),
            (written - stats.chunks) as f64 / write_secs
        );
    }
    let mut conn = db.pool().acquire().await?;
    sqlx::query("vacuum analyze chunks")
        .execute(&mut *conn)
        .await
        .ok();
    sqlx::query("vacuum analyze chunk_terms")
        .execute(&mut *conn)
        .await
        .ok();
    drop(conn);
    Ok(written)
}

/// VmHWM from /proc/self/status.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}
