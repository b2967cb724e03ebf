//! Benchmark 2: the pipeline before the first token (classify, redact,
//! retrieve, plan, assemble the prompt, open the LLM stream) with the tenant's
//! index at 100k chunks. The index is built as `aos bench retrieval` builds
//! it; turns go one at a time through `POST /api/v1/chat`, and the gateway's
//! own `timings_ms` from `message.end` are read.

use anyhow::Result;
use serde_json::json;
use std::path::Path;
use std::time::Instant;
use uuid::Uuid;

use super::sse::{Sample, Target, send};
use super::stats::{Summary, ms};
use crate::domain::TenantId;
use crate::eval::bench::load_replicated;
use crate::eval::retrieval::Dataset;
use crate::knowledge::KnowledgeService;
use crate::store::Db;

/// Where the turns' time went.
#[derive(Debug, Clone)]
pub struct PipelineReport {
    pub chunks: usize,
    pub turns: usize,
    pub with_retrieval: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// Server-side stage timings (ms) over turns that retrieved.
    pub first_token: Summary,
    pub classify: Summary,
    pub retrieve: Summary,
    pub tools: Summary,
    /// Client-side: request sent → first text, over turns that retrieved.
    pub client_ttft: Summary,
}

pub struct PipelineOptions<'a> {
    pub dataset: &'a Path,
    pub chunks: usize,
    pub base: usize,
    pub turns: usize,
}

/// Fills `tenant` to `options.chunks` chunks, then runs the turns.
pub async fn run(
    db: &Db,
    service: &KnowledgeService,
    tenant: TenantId,
    base_url: &str,
    token: &str,
    options: &PipelineOptions<'_>,
) -> Result<PipelineReport> {
    let dataset = Dataset::load(options.dataset)?;
    let chunks =
        load_replicated(db, service, tenant, &dataset, options.chunks, options.base).await?;
    let queries: Vec<String> = dataset.query_texts().collect();
    anyhow::ensure!(!queries.is_empty(), "the data set has no queries");
    let client = reqwest::Client::builder().tcp_nodelay(true).build()?;
    let url = format!("{base_url}/api/v1/chat");
    let target_for = |text: &str| Target {
        name: "aos",
        url: url.clone(),
        bearer: Some(token.to_owned()),
        body: json!({"client_msg_id": Uuid::new_v4().to_string(), "text": text})
            .to_string()
            .into(),
    };
    // Warm the server's caches (tenant exemplars, connections) first.
    for text in queries.iter().take(5) {
        send(&client, &target_for(text), Instant::now(), None).await;
    }
    let mut samples: Vec<Sample> = Vec::with_capacity(options.turns);
    for (i, text) in queries.iter().cycle().take(options.turns).enumerate() {
        samples.push(send(&client, &target_for(text), Instant::now(), None).await);
        eprint!("\r  turn {}/{}", i + 1, options.turns);
    }
    eprintln!();
    let retrieved: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.ok && s.retrieved && s.timings.is_some())
        .collect();
    let timing = |f: fn(&super::sse::StageTimings) -> f64| {
        Summary::of(retrieved.iter().filter_map(|s| s.timings.as_ref().map(f)))
    };
    Ok(PipelineReport {
        chunks,
        turns: samples.len(),
        with_retrieval: retrieved.len(),
        errors: samples.iter().filter(|s| !s.ok).count(),
        first_error: samples.iter().find_map(|s| s.error.clone()),
        first_token: timing(|t| t.first_token),
        classify: timing(|t| t.classify),
        retrieve: timing(|t| t.retrieve),
        tools: timing(|t| t.tools),
        client_ttft: Summary::of(retrieved.iter().map(|s| ms(s.ttft))),
    })
}
