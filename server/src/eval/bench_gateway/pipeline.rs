//! Benchmark 2: the pipeline before the first token (classify, redact,
//! retrieve, plan, assemble the prompt, open the LLM stream) with the tenant's
//! index at 100k chunks. The index is built as `aos bench retrieval` builds
//! it; turns go one at a time through `POST /api/v1/chat`, and the gateway's
//! own `timings_ms` from `message.end` are read.

use anyhow::Result;
use serde_json::json;
use std::time::Instant;
use uuid::Uuid;

use super::sse::{Sample, StageTimings, Target, send};
use super::stats::{Summary, ms};
use crate::eval::retrieval::Dataset;

/// Each data-set query is asked as a question about the company's documents:
/// asked bare, most are general-knowledge questions the classifier rightly
/// calls out of scope, and out-of-scope turns retrieve nothing.
const QUESTION: &str = "Find our internal policy document on {query}";

/// Where the turns' time went.
#[derive(Debug, Clone)]
pub struct PipelineReport {
    pub chunks: usize,
    pub turns: usize,
    /// Turns that retrieved and called no tool: the ones measured.
    pub measured: usize,
    /// Turns whose intent made the gateway call a tool (not measured).
    pub with_tools: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// Server-side stage timings (ms).
    pub first_token: Summary,
    pub classify: Summary,
    pub retrieve: Summary,
    /// Client-side: request sent → first text.
    pub client_ttft: Summary,
}

/// Runs `turns` turns, one at a time, against a server whose tenant (the
/// one `token` belongs to) holds `chunks` chunks of `dataset`.
pub async fn run(
    base_url: &str,
    token: &str,
    dataset: &Dataset,
    chunks: usize,
    turns: usize,
) -> Result<PipelineReport> {
    let queries: Vec<String> = dataset
        .query_texts()
        .map(|q| QUESTION.replace("{query}", &q))
        .collect();
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
    // Warm the server up (classifier, tenant exemplars, connections).
    for text in queries.iter().take(5) {
        send(&client, &target_for(text), Instant::now(), None).await;
    }
    let mut samples: Vec<Sample> = Vec::with_capacity(turns);
    for (i, text) in queries.iter().cycle().take(turns).enumerate() {
        samples.push(send(&client, &target_for(text), Instant::now(), None).await);
        eprint!("\r  turn {}/{turns}", i + 1);
    }
    eprintln!();
    let measured: Vec<(&Sample, StageTimings)> = samples
        .iter()
        .filter(|s| s.ok && s.retrieved && s.tool_calls == 0)
        .filter_map(|s| Some((s, s.timings?)))
        .collect();
    let timing = |f: fn(&StageTimings) -> f64| Summary::of(measured.iter().map(|(_, t)| f(t)));
    Ok(PipelineReport {
        chunks,
        turns: samples.len(),
        measured: measured.len(),
        with_tools: samples.iter().filter(|s| s.tool_calls > 0).count(),
        errors: samples.iter().filter(|s| !s.ok).count(),
        first_error: samples.iter().find_map(|s| s.error.clone()),
        first_token: timing(|t| t.first_token),
        classify: timing(|t| t.classify),
        retrieve: timing(|t| t.retrieve),
        client_ttft: Summary::of(measured.iter().map(|(s, _)| ms(s.ttft))),
    })
}
