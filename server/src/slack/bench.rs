//! `aos bench slack-ack`: acknowledgement latency of `POST /slack/events`
//! under a burst of concurrent, signed event posts against a running server,
//! then the same burst again as Slack's retries (which must be answered as
//! duplicates, so every event is answered once).
//!
//! It registers a scratch tenant and workspace whose Web API is a local sink
//! it runs itself, posts `app_mention`s from unlinked Slack users (so the
//! work after each acknowledgement is one `chat.postMessage` to the sink),
//! reports p50/p90/p99/max, counts the sink's messages, and removes the
//! tenant afterwards.

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::routing::post;
use clap::Args;
use rand::RngCore;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

use super::admin::{AddWorkspace, register_workspace};
use super::seal::SecretBox;
use super::signature;
use crate::domain::TenantId;
use crate::store::audit::Actor;
use crate::store::{Db, tenants};

#[derive(Debug, Args)]
pub struct SlackAckArgs {
    /// Base URL of the running `aos serve` (it must share this database and
    /// AOS_JWT_SECRET).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Event posts in the burst, all sent at once.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,
    /// Keep the scratch tenant afterwards.
    #[arg(long)]
    pub keep: bool,
}

/// Latency figures of one burst.
struct Burst {
    latencies: Vec<Duration>,
    ok: usize,
    duplicates: usize,
    failed: usize,
}

pub async fn run(db: &Db, master: Option<&str>, args: SlackAckArgs) -> Result<()> {
    if !(1..=5000).contains(&args.requests) {
        bail!("--requests must be 1 to 5000");
    }
    let master = master.context("AOS_JWT_SECRET is not set (use the server's value)")?;
    let (sink_url, received, sink) = start_sink().await?;
    let tenant = TenantId(Uuid::new_v4());
    {
        let mut tx = db.tenant(tenant).await?;
        tenants::create(&mut tx, tenant, "slack ack benchmark (scratch)").await?;
        tx.commit().await?;
    }
    let outcome = bench(db, master, tenant, &sink_url, &received, &args).await;
    sink.abort();
    if args.keep {
        eprintln!("kept the benchmark tenant {tenant}");
    } else {
        let mut tx = db.tenant(tenant).await?;
        sqlx::query("delete from tenants").execute(&mut *tx).await?;
        tx.commit().await?;
    }
    outcome
}

async fn bench(
    db: &Db,
    master: &str,
    tenant: TenantId,
    sink_url: &str,
    received: &Arc<AtomicUsize>,
    args: &SlackAckArgs,
) -> Result<()> {
    let secrets = SecretBox::from_master_secret(master.as_bytes());
    let mut raw = [0u8; 16];
    rand::rng().fill_bytes(&mut raw);
    let secret = hex::encode(raw);
    let team = format!("TBENCH{}", hex::encode_upper(&raw[..4]));
    register_workspace(
        db,
        &secrets,
        tenant,
        Actor::System,
        AddWorkspace {
            team_id: team.clone(),
            signing_secret: secret.clone(),
            bot_token: "xoxb-bench".into(),
            api_base: Some(sink_url.to_owned()),
            webhook_url: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.public().1))?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.requests)
        .timeout(Duration::from_secs(30))
        .build()?;
    let endpoint = format!("{}/slack/events", args.url.trim_end_matches('/'));
    let body = |i: usize, tag: &str| {
        json!({
            "token": "unused", "team_id": team, "api_app_id": "ABENCH",
            "type": "event_callback", "event_id": format!("Ev{tag}{i:05}"), "event_time": 0,
            "event": {"type": "app_mention", "user": format!("UBENCH{i:05}"), "text": "<@UBOT> hello",
                      "channel": "CBENCH", "ts": format!("1700000000.{i:06}"), "event_ts": "1700000000.000000"}
        })
        .to_string()
    };
    // Warm-up (connections, the server's workspace cache), not measured.
    let warm: Vec<String> = (0..5).map(|i| body(i, "WARM")).collect();
    let warm_up = burst(&client, &endpoint, &secret, &warm, None).await;
    if warm_up.ok + warm_up.duplicates != warm.len() {
        bail!(
            "the server at {} did not accept signed events ({} of {} failed): does it share this database and AOS_JWT_SECRET?",
            args.url,
            warm_up.failed,
            warm.len()
        );
    }
    let bodies: Vec<String> = (0..args.requests).map(|i| body(i, "BENCH")).collect();
    let first = burst(&client, &endpoint, &secret, &bodies, None).await;
    let retries = burst(&client, &endpoint, &secret, &bodies, Some(1)).await;

    // Every event is answered once: one reply each (plus the warm-up's).
    let expected = args.requests + warm.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while received.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answered = received.load(Ordering::SeqCst).saturating_sub(warm.len());

    println!(
        "Slack event acknowledgement, {} concurrent signed posts to {endpoint}",
        args.requests
    );
    println!("| burst | 2xx | duplicates | failed | p50 | p90 | p99 | max |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, b) in [
        ("first deliveries", &first),
        ("retries (X-Slack-Retry-Num: 1)", &retries),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            b.ok + b.duplicates,
            b.duplicates,
            b.failed,
            ms(percentile(&b.latencies, 0.50)),
            ms(percentile(&b.latencies, 0.90)),
            ms(percentile(&b.latencies, 0.99)),
            ms(b.latencies.iter().max().copied().unwrap_or_default()),
        );
    }
    println!(
        "events answered: {answered} of {} (each once: {})",
        args.requests,
        if answered == args.requests {
            "yes"
        } else {
            "NO"
        }
    );
    if first.failed + retries.failed > 0 || retries.duplicates != args.requests {
        bail!("some posts failed or a retry was not recognised as a duplicate");
    }
    Ok(())
}

/// Posts every body at once (each signed now); their latencies.
async fn burst(
    client: &reqwest::Client,
    endpoint: &str,
    secret: &str,
    bodies: &[String],
    retry: Option<u32>,
) -> Burst {
    let gate = Arc::new(tokio::sync::Barrier::new(bodies.len()));
    let mut tasks = Vec::with_capacity(bodies.len());
    for body in bodies {
        let (client, endpoint, gate) = (client.clone(), endpoint.to_owned(), Arc::clone(&gate));
        let body = body.clone();
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let sig = signature::sign(secret.as_bytes(), &timestamp, body.as_bytes());
        tasks.push(tokio::spawn(async move {
            let mut request = client
                .post(&endpoint)
                .header("content-type", "application/json")
                .header("x-slack-request-timestamp", &timestamp)
                .header("x-slack-signature", &sig)
                .body(body);
            if let Some(n) = retry {
                request = request
                    .header("x-slack-retry-num", n.to_string())
                    .header("x-slack-retry-reason", "http_timeout");
            }
            gate.wait().await;
            let started = Instant::now();
            let answer = request.send().await;
            let status = answer.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
            let text = match answer {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            (
                started.elapsed(),
                status,
                text.contains("\"duplicate\":true"),
            )
        }));
    }
    let mut out = Burst {
        latencies: Vec::with_capacity(bodies.len()),
        ok: 0,
        duplicates: 0,
        failed: 0,
    };
    for task in tasks {
        match task.await {
            Ok((latency, 200, duplicate)) => {
                out.latencies.push(latency);
                if duplicate {
                    out.duplicates += 1;
                } else {
                    out.ok += 1;
                }
            }
            _ => out.failed += 1,
        }
    }
    out
}

/// A Web API stand-in that answers `chat.postMessage` and counts the calls.
async fn start_sink() -> Result<(String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>)> {
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    let app = Router::new()
        .route(
            "/api/chat.postMessage",
            post(move || {
                let counter = Arc::clone(&counter);
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    axum::Json(json!({"ok": true, "channel": "CBENCH", "ts": format!("1800000000.{n:06}")}))
                }
            }),
        )
        .route(
            "/api/chat.update",
            post(|| async { axum::Json(json!({"ok": true})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind the benchmark's Slack sink")?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(error = %e, "the benchmark's Slack sink stopped");
        }
    });
    Ok((format!("http://{address}/api"), received, task))
}

fn percentile(values: &[Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&values, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
    }
}
