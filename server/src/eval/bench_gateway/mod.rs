//! `aos bench gateway`: the chat gateway's speed and density, measured
//! against the real `aos serve` (this binary, started as a child on a free
//! port) with a scratch tenant and Redis prefix that are removed afterwards.
//!
//! 1. Overhead on `/v1/chat/completions` in pass-through use (model `aos-cfo`,
//!    `"aos": {"retrieval": false, "routing": false}`), against an in-process mock upstream,
//!    beside calling the mock directly and through LiteLLM's proxy.
//! 2. WebSocket density: memory per idle connection, and many concurrent
//!    streaming sessions checked for lost or reordered frames.
//! 3. The pipeline before the first token with the tenant's index at 100k
//!    chunks (built as `aos bench retrieval` builds it).
//!
//! Figures are printed, never asserted: they depend on the machine.

mod overhead;
mod pipeline;
mod processes;
mod report;
mod sse;
mod stats;
mod upstream;
mod ws;

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

use crate::admin::api_keys::{CreateApiKey, issue_key};
use crate::domain::{Role, TenantId};
use crate::settings::Settings;
use crate::store::audit::Actor;
use crate::store::{Db, tenants};
use processes::{AosServer, LiteLlm};
use report::Report;
use sse::Target;
use upstream::MockUpstream;

/// What every benchmark turn asks: a knowledge question (so retrieval would
/// run unless switched off) that plans no tool call.
pub const PROMPT: &str = "What does our travel expense policy say about hotel costs?";

#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// LiteLLM's `litellm` command (PyPI `litellm[proxy]`; scripts/bench-gateway.sh
    /// installs it). Without it the LiteLLM column says so.
    #[arg(long)]
    pub litellm: Option<PathBuf>,
    /// LiteLLM proxy worker processes (one per core, as LiteLLM advises;
    /// aos uses every core too).
    #[arg(long, default_value_t = 2)]
    pub litellm_workers: usize,
    /// Chunks of text in each mock answer.
    #[arg(long, default_value_t = 16)]
    pub chunks: usize,
    /// Requests per column with one stream at a time.
    #[arg(long, default_value_t = 300)]
    pub single_requests: usize,
    /// Concurrent streams of the loaded measurement.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Requests per column at that concurrency.
    #[arg(long, default_value_t = 2000)]
    pub concurrent_requests: usize,
    /// Milliseconds between the mock's chunks in the paced measurement: the
    /// same concurrency with streams that last as long as a real model's
    /// (0 skips it).
    #[arg(long, default_value_t = 20)]
    pub paced_gap_ms: u64,
    /// Requests per column in the paced measurement.
    #[arg(long, default_value_t = 1000)]
    pub paced_requests: usize,
    /// Request rates (per second) of the open-loop sweep, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,20,50,100,200,400,800"
    )]
    pub rates: Vec<f64>,
    /// Seconds at each rate.
    #[arg(long, default_value_t = 10.0)]
    pub rate_seconds: f64,
    /// Idle WebSocket connections held at once.
    #[arg(long, default_value_t = 10_000)]
    pub idle_connections: usize,
    /// Concurrent WebSocket streaming sessions.
    #[arg(long, default_value_t = 1_000)]
    pub sessions: usize,
    /// Chunks of each streamed answer in the WebSocket sessions.
    #[arg(long, default_value_t = 100)]
    pub session_chunks: usize,
    /// Milliseconds between those chunks, so the sessions overlap.
    #[arg(long, default_value_t = 250)]
    pub session_gap_ms: u64,
    /// A BEIR-layout folder for the 100k-chunk index; without it the
    /// pipeline benchmark is skipped.
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Chunks in the index of the pipeline benchmark.
    #[arg(long, default_value_t = 100_000)]
    pub index_chunks: usize,
    /// Passages embedded for real before replication.
    #[arg(long, default_value_t = 500)]
    pub base: usize,
    /// Turns of the pipeline benchmark, one at a time.
    #[arg(long, default_value_t = 129)]
    pub turns: usize,
    /// Only these parts (overhead, ws, pipeline), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Keep the scratch tenant afterwards.
    #[arg(long)]
    pub keep: bool,
}

impl GatewayArgs {
    fn runs(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

pub async fn run(settings: &Settings, db: &Db, args: GatewayArgs) -> Result<()> {
    for part in &args.only {
        if !["overhead", "ws", "pipeline"].contains(&part.as_str()) {
            bail!("--only takes overhead, ws or pipeline, not `{part}`");
        }
    }
    if settings.jwt_secret.is_none() {
        bail!("AOS_JWT_SECRET is not set: the bench starts `aos serve`, which needs it");
    }
    let work = std::env::temp_dir().join(format!("aos-bench-gateway-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let mock = MockUpstream::start(args.chunks).await?;
    let tenant = TenantId(Uuid::new_v4());
    {
        let mut tx = db.tenant(tenant).await?;
        tenants::create(&mut tx, tenant, "gateway benchmark (scratch)").await?;
        tx.commit().await?;
    }
    let prefix = format!("aosbench:{}:", Uuid::new_v4().simple());
    let outcome = bench(settings, db, tenant, &prefix, &mock, &work, &args).await;
    if args.keep {
        eprintln!("kept the benchmark tenant {tenant}");
    } else {
        let mut tx = db.tenant(tenant).await?;
        sqlx::query("delete from tenants").execute(&mut *tx).await?;
        tx.commit().await?;
    }
    if let Err(err) = delete_redis_keys(settings, &prefix).await {
        eprintln!("could not remove the Redis keys {prefix}*: {err:#}");
    }
    match &outcome {
        Ok(()) => {
            let _ = std::fs::remove_dir_all(&work);
        }
        Err(_) => eprintln!("logs kept in {}", work.display()),
    }
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn bench(
    settings: &Settings,
    db: &Db,
    tenant: TenantId,
    prefix: &str,
    mock: &MockUpstream,
    work: &std::path::Path,
    args: &GatewayArgs,
) -> Result<()> {
    let key = issue_key(
        db,
        tenant,
        Actor::System,
        None,
        CreateApiKey {
            name: "gateway benchmark".into(),
            role: Role::Analyst,
        },
    )
    .await?
    .key;
    let unlimited = "1000000000".to_owned();
    let env = [
        ("OPENAI_BASE_URL", mock.base_url.clone()),
        ("OPENAI_API_KEY", "not-used".to_owned()),
        ("AOS_LLM_MODEL", upstream::MODEL.to_owned()),
        ("AOS_REDIS_PREFIX", prefix.to_owned()),
        ("AOS_CHAT_RATE_PER_USER", unlimited.clone()),
        ("AOS_CHAT_RATE_PER_TENANT", unlimited),
        ("AOS_LOG", "warn".to_owned()),
    ];
    // Each part gets a fresh server, so none inherits another's memory,
    // connections or backlog.
    let start_server = |part: &'static str| {
        let log = work.join(format!("aos-{part}.log"));
        let env = &env;
        async move {
            let server = AosServer::start(env, &log).await?;
            eprintln!(
                "{part}: aos serve (release build: {}) at {}",
                !cfg!(debug_assertions),
                server.base_url
            );
            Ok::<_, anyhow::Error>(server)
        }
    };
    let mut report = Report::new(args);
    if args.runs("overhead") {
        let litellm = match &args.litellm {
            None => {
                Err("not run: no --litellm given (scripts/bench-gateway.sh installs it)".to_owned())
            }
            Some(path) => {
                eprintln!("starting LiteLLM ({})…", path.display());
                LiteLlm::start(path, &mock.base_url, args.litellm_workers, work)
                    .await
                    .map_err(|e| format!("not run: LiteLLM did not start: {e:#}"))
            }
        };
        if let Err(why) = &litellm {
            eprintln!("LiteLLM {why}");
            report.litellm_note = Some(why.clone());
        }
        let server = start_server("overhead").await;
        let proxy = litellm.as_ref().ok();
        report.overhead = Some(match &server {
            Ok(server) => run_overhead(server, proxy, mock, &key, args).await,
            Err(e) => report::Overhead::failed(format!("{e:#}")),
        });
        if let Ok(proxy) = litellm {
            proxy.stop().await;
        }
        if let Ok(server) = server {
            server.stop().await;
        }
    }
    if args.runs("ws") {
        let server = start_server("ws").await;
        report.ws = Some(match &server {
            Ok(server) => run_ws(server, mock, &key, args).await,
            Err(e) => report::Density::failed(format!("{e:#}")),
        });
        if let Ok(server) = server {
            server.stop().await;
        }
    }
    if args.runs("pipeline") {
        report.pipeline = Some(match &args.dataset {
            None => Err("not run: no --dataset given".to_owned()),
            Some(dataset) => run_pipeline(settings, db, tenant, &start_server, &key, dataset, args)
                .await
                .map_err(|e| format!("{e:#}")),
        });
    }
    report.upstream_requests = mock.requests();
    report.print();
    Ok(())
}

async fn run_overhead(
    server: &AosServer,
    litellm: Option<&LiteLlm>,
    mock: &MockUpstream,
    key: &str,
    args: &GatewayArgs,
) -> report::Overhead {
    mock.set_shape(args.chunks, Duration::ZERO);
    let expected = upstream::answer_text(args.chunks);
    let openai_body = |model: &str| {
        json!({"model": model, "stream": true,
            "messages": [{"role": "user", "content": PROMPT}]})
    };
    let direct = Target {
        name: "direct",
        url: format!("{}/chat/completions", mock.base_url),
        bearer: None,
        body: openai_body(upstream::MODEL).to_string().into(),
    };
    let mut gateway_body = openai_body("aos-cfo");
    gateway_body["aos"] = json!({"retrieval": false, "routing": false});
    let gateway = Target {
        name: "aos",
        url: format!("{}/v1/chat/completions", server.base_url),
        bearer: Some(key.to_owned()),
        body: gateway_body.to_string().into(),
    };
    let proxy = litellm.map(|l| Target {
        name: "LiteLLM",
        url: format!("{}/v1/chat/completions", l.base_url),
        bearer: Some(l.master_key.clone()),
        body: openai_body(upstream::MODEL).to_string().into(),
    });
    let client = match reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()
    {
        Ok(c) => c,
        Err(e) => return report::Overhead::failed(format!("no HTTP client: {e}")),
    };
    let targets: Vec<&Target> = [Some(&direct), Some(&gateway), proxy.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    eprintln!("overhead: warming up…");
    for target in &targets {
        let warm = overhead::closed_loop(&client, target, &expected, 20, 200).await;
        if warm.errors > 0 {
            eprintln!(
                "  {}: {} of 200 warm-up requests failed: {}",
                target.name,
                warm.errors,
                warm.first_error.as_deref().unwrap_or("?")
            );
        }
    }
    let probe = sse::send(&client, &gateway, Instant::now(), Some(&expected)).await;
    let mut out = report::Overhead {
        intent: probe.intent.clone(),
        tool_calls: probe.tool_calls,
        retrieved: probe.retrieved,
        ..report::Overhead::default()
    };
    for (concurrency, total) in [
        (1, args.single_requests),
        (args.concurrency, args.concurrent_requests),
    ] {
        for target in &targets {
            tokio::time::sleep(overhead::SETTLE).await;
            eprintln!(
                "overhead: {} at {concurrency} stream(s), {total} requests…",
                target.name
            );
            let measured =
                overhead::closed_loop(&client, target, &expected, concurrency, total).await;
            out.loads
                .push((concurrency, target.name.to_owned(), measured));
        }
    }
    if args.paced_gap_ms > 0 {
        mock.set_shape(args.chunks, Duration::from_millis(args.paced_gap_ms));
        for target in &targets {
            tokio::time::sleep(overhead::SETTLE).await;
            eprintln!(
                "overhead: {} at {} paced stream(s), {} requests…",
                target.name, args.concurrency, args.paced_requests
            );
            let measured = overhead::closed_loop(
                &client,
                target,
                &expected,
                args.concurrency,
                args.paced_requests,
            )
            .await;
            out.paced.push((target.name.to_owned(), measured));
        }
        mock.set_shape(args.chunks, Duration::ZERO);
    }
    eprintln!(
        "overhead: open-loop sweep, added p99 < {} ms…",
        overhead::ADDED_P99_LIMIT_MS
    );
    let proxies: Vec<&Target> = targets[1..].to_vec();
    out.sweep = overhead::rate_sweep(
        &client,
        &direct,
        &proxies,
        &expected,
        &args.rates,
        args.rate_seconds,
    )
    .await;
    out
}

async fn run_ws(
    server: &AosServer,
    mock: &MockUpstream,
    key: &str,
    args: &GatewayArgs,
) -> report::Density {
    let mut density = report::Density {
        connections_before: server.client_connections(),
        ..report::Density::default()
    };
    let limit = open_files_limit().unwrap_or(1024);
    let idle = args
        .idle_connections
        .min(limit.saturating_sub(1_000) as usize);
    if idle < args.idle_connections {
        density.notes.push(format!(
            "only {idle} idle connections: the open-files limit is {limit} (raise `ulimit -n`)"
        ));
    }
    eprintln!("ws: {idle} idle connections…");
    density.idle = Some(
        ws::idle(server, key, idle)
            .await
            .map_err(|e| format!("{e:#}")),
    );
    eprintln!(
        "ws: {} streaming sessions ({} chunks, {} ms apart)…",
        args.sessions, args.session_chunks, args.session_gap_ms
    );
    mock.set_shape(
        args.session_chunks,
        Duration::from_millis(args.session_gap_ms),
    );
    let expected = upstream::answer_text(args.session_chunks);
    density.streaming = Some(
        ws::streaming(server, key, args.sessions, &expected)
            .await
            .map_err(|e| format!("{e:#}")),
    );
    mock.set_shape(args.chunks, Duration::ZERO);
    // Every client closed its connection: the server should have let go.
    let closed = Instant::now();
    density.connections_after = server.client_connections();
    while closed.elapsed() < Duration::from_secs(30)
        && server.client_connections().unwrap_or(0) > density.connections_before.unwrap_or(0)
    {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    density.connections_settled = server
        .client_connections()
        .map(|n| (n, closed.elapsed().as_secs_f64()));
    density
}

async fn run_pipeline<F, Fut>(
    settings: &Settings,
    db: &Db,
    tenant: TenantId,
    start_server: &F,
    key: &str,
    dataset: &std::path::Path,
    args: &GatewayArgs,
) -> Result<pipeline::PipelineReport>
where
    F: Fn(&'static str) -> Fut,
    Fut: std::future::Future<Output = Result<AosServer>>,
{
    eprintln!("pipeline: building a {}-chunk index…", args.index_chunks);
    let service = crate::knowledge::KnowledgeService::from_settings(settings)?;
    let dataset = crate::eval::retrieval::Dataset::load(dataset)?;
    let chunks = crate::eval::bench::load_replicated(
        db,
        &service,
        tenant,
        &dataset,
        args.index_chunks,
        args.base,
    )
    .await?;
    drop(service);
    let server = start_server("pipeline").await?;
    let outcome = pipeline::run(&server.base_url, key, &dataset, chunks, args.turns).await;
    server.stop().await;
    outcome
}

/// The soft limit on open files of this process (`Max open files`).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Removes every Redis key under the bench's prefix.
async fn delete_redis_keys(settings: &Settings, prefix: &str) -> Result<()> {
    let client = redis::Client::open(settings.redis_url.expose())?;
    let mut redis = redis::aio::ConnectionManager::new(client).await?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut redis)
            .await?;
        if !keys.is_empty() {
            let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut redis).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
