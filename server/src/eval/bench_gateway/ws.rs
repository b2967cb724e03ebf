//! Benchmark 3: WebSocket density. Memory per idle connection (the server's
//! resident memory before and after opening many, divided), and many
//! concurrent streaming sessions checked frame by frame: every event of a
//! message numbered 0, 1, 2, … with none missing, repeated or out of order,
//! and the answer text complete.

use anyhow::{Context, Result};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use uuid::Uuid;

use super::processes::AosServer;
use super::stats::{Summary, ms};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connections opened at once.
const CONNECT_PARALLEL: usize = 64;
/// How long one streaming session may take.
const SESSION_TIMEOUT: Duration = Duration::from_secs(300);

/// `ws://…/ws/chat?access_token=…` for a server at `http://…`.
pub fn chat_url(base_url: &str, token: &str) -> String {
    format!(
        "{}/ws/chat?access_token={token}",
        base_url.replacen("http", "ws", 1)
    )
}

async fn connect(url: &str) -> Result<Socket> {
    // Small client buffers too: the bench holds thousands of these.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .context("cannot open a WebSocket")?;
    Ok(socket)
}

/// Opens `n` connections, `CONNECT_PARALLEL` at a time.
async fn connect_many(url: &str, n: usize) -> (Vec<Socket>, usize, Option<String>) {
    let results: Vec<Result<Socket>> = futures::stream::iter(0..n)
        .map(|_| connect(url))
        .buffer_unordered(CONNECT_PARALLEL)
        .collect()
        .await;
    let mut sockets = Vec::with_capacity(n);
    let mut failed = 0;
    let mut first_error = None;
    for result in results {
        match result {
            Ok(socket) => sockets.push(socket),
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    (sockets, failed, first_error)
}

/// What idle connections cost the server.
#[derive(Debug, Clone)]
pub struct IdleReport {
    pub requested: usize,
    pub opened: usize,
    pub failed: usize,
    pub first_error: Option<String>,
    pub connect_secs: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// Connections that answered a `ping` after all were open (of those asked).
    pub alive: (usize, usize),
}

impl IdleReport {
    pub fn bytes_per_connection(&self) -> f64 {
        (self.rss_after_kib.saturating_sub(self.rss_before_kib) as f64 * 1024.0)
            / self.opened.max(1) as f64
    }
}

/// Opens `n` idle connections and measures the server's memory.
pub async fn idle(server: &AosServer, token: &str, n: usize) -> Result<IdleReport> {
    let url = chat_url(&server.base_url, token);
    // Warm up: the first connections allocate what every later one shares.
    let (warm, _, warm_error) = connect_many(&url, 200).await;
    if warm.is_empty() {
        anyhow::bail!(
            "no WebSocket connection could be opened: {}",
            warm_error.unwrap_or_default()
        );
    }
    close_all(warm).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_before_kib = server
        .rss_kib()
        .context("cannot read the server's memory")?;
    let started = Instant::now();
    let (mut sockets, failed, first_error) = connect_many(&url, n).await;
    let connect_secs = started.elapsed().as_secs_f64();
    // Let the server settle (its tasks reach their idle await points).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after_kib = server
        .rss_kib()
        .context("cannot read the server's memory")?;
    let alive = ping_some(&mut sockets, 100).await;
    let opened = sockets.len();
    close_all(sockets).await;
    Ok(IdleReport {
        requested: n,
        opened,
        failed,
        first_error,
        connect_secs,
        rss_before_kib,
        rss_after_kib,
        alive,
    })
}

/// Sends `{"type":"ping"}` on up to `n` connections spread over all of them
/// and counts the `pong`s.
async fn ping_some(sockets: &mut [Socket], n: usize) -> (usize, usize) {
    let step = (sockets.len() / n.max(1)).max(1);
    let mut asked = 0;
    let mut answered = 0;
    for socket in sockets.iter_mut().step_by(step).take(n) {
        asked += 1;
        if socket
            .send(Message::text(json!({"type": "ping"}).to_string()))
            .await
            .is_err()
        {
            continue;
        }
        let pong = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(message)) = socket.next().await {
                if let Message::Text(text) = message
                    && text.as_str().contains("\"pong\"")
                {
                    return true;
                }
            }
            false
        })
        .await;
        if pong.unwrap_or(false) {
            answered += 1;
        }
    }
    (answered, asked)
}

async fn close_all(sockets: Vec<Socket>) {
    futures::stream::iter(sockets)
        .for_each_concurrent(CONNECT_PARALLEL, |mut socket| async move {
            let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
        })
        .await;
}

/// How one streaming session went.
#[derive(Debug, Clone, Default)]
struct Session {
    completed: bool,
    /// Events whose seq skipped ahead (frames lost).
    gaps: usize,
    /// Events whose seq went back (reordered or repeated).
    out_of_order: usize,
    text_ok: bool,
    error: Option<String>,
    first_text: Option<Instant>,
    end: Option<Instant>,
    sent: Option<Instant>,
    events: usize,
}

/// What the streaming sessions showed.
#[derive(Debug, Clone)]
pub struct StreamingReport {
    pub sessions: usize,
    pub completed: usize,
    pub gaps: usize,
    pub out_of_order: usize,
    pub text_mismatches: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub events: usize,
    /// Most sessions between their first text and their end at one moment.
    pub peak_streaming: usize,
    pub ttft: Summary,
    pub duration: Summary,
    pub wall_secs: f64,
    pub rss_peak_kib: u64,
}

/// Opens `n` connections, then starts a turn on each at the same moment and
/// follows every event to `message.end`.
pub async fn streaming(
    server: &AosServer,
    token: &str,
    n: usize,
    expected: &str,
) -> Result<StreamingReport> {
    let url = chat_url(&server.base_url, token);
    let (sockets, failed, first_error) = connect_many(&url, n).await;
    let barrier = Arc::new(Barrier::new(sockets.len() + 1));
    let mut tasks = Vec::with_capacity(sockets.len());
    for socket in sockets {
        let barrier = Arc::clone(&barrier);
        let expected = expected.to_owned();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            match tokio::time::timeout(SESSION_TIMEOUT, session(socket, &expected)).await {
                Ok(session) => session,
                Err(_) => Session {
                    error: Some("the session timed out".into()),
                    ..Session::default()
                },
            }
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut rss_peak_kib = 0;
    let mut sessions = Vec::with_capacity(tasks.len());
    let mut pending = tasks;
    while !pending.is_empty() {
        rss_peak_kib = rss_peak_kib.max(server.rss_kib().unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(250)).await;
        let mut still = Vec::with_capacity(pending.len());
        for task in pending {
            if task.is_finished() {
                sessions.push(task.await.unwrap_or_default());
            } else {
                still.push(task);
            }
        }
        pending = still;
    }
    let wall_secs = started.elapsed().as_secs_f64();
    let mut intervals: Vec<(Instant, Instant)> = sessions
        .iter()
        .filter_map(|s| Some((s.first_text?, s.end?)))
        .collect();
    intervals.sort();
    let errors: Vec<&Session> = sessions.iter().filter(|s| s.error.is_some()).collect();
    Ok(StreamingReport {
        sessions: n,
        completed: sessions.iter().filter(|s| s.completed).count(),
        gaps: sessions.iter().map(|s| s.gaps).sum(),
        out_of_order: sessions.iter().map(|s| s.out_of_order).sum(),
        text_mismatches: sessions
            .iter()
            .filter(|s| s.completed && !s.text_ok)
            .count(),
        errors: errors.len() + failed,
        first_error: first_error.or_else(|| errors.first().and_then(|s| s.error.clone())),
        events: sessions.iter().map(|s| s.events).sum(),
        peak_streaming: peak_overlap(&intervals),
        ttft: Summary::of(
            sessions
                .iter()
                .filter_map(|s| Some(ms(s.first_text? - s.sent?))),
        ),
        duration: Summary::of(sessions.iter().filter_map(|s| Some(ms(s.end? - s.sent?)))),
        wall_secs,
        rss_peak_kib,
    })
}

/// One turn on one connection, every frame checked.
async fn session(mut socket: Socket, expected: &str) -> Session {
    let mut out = Session::default();
    let send = json!({
        "type": "chat.send",
        "client_msg_id": Uuid::new_v4().to_string(),
        "text": super::PROMPT,
        "persona": "cfo",
    });
    out.sent = Some(Instant::now());
    if let Err(e) = socket.send(Message::text(send.to_string())).await {
        out.error = Some(format!("cannot send: {e}"));
        return out;
    }
    let mut message_id: Option<String> = None;
    let mut next_seq = 0u64;
    let mut text = String::new();
    while let Some(frame) = socket.next().await {
        let raw = match frame {
            Ok(Message::Text(raw)) => raw,
            Ok(Message::Close(close)) => {
                out.error = Some(format!("closed by the server: {close:?}"));
                break;
            }
            Ok(_) => continue,
            Err(e) => {
                out.error = Some(format!("connection failed: {e}"));
                break;
            }
        };
        let Ok(event) = serde_json::from_str::<Value>(raw.as_str()) else {
            out.error = Some("a frame that is not JSON".into());
            continue;
        };
        let Some(seq) = event["seq"].as_u64() else {
            if event["type"] == "error" {
                out.error = Some(format!("error frame: {}", event["message"]));
                break;
            }
            continue;
        };
        let id = event["message_id"].as_str().unwrap_or_default();
        match &message_id {
            None => message_id = Some(id.to_owned()),
            Some(known) if known != id => {
                out.error = Some("an event of another message".into());
                continue;
            }
            Some(_) => {}
        }
        out.events += 1;
        if seq > next_seq {
            out.gaps += 1;
        } else if seq < next_seq {
            out.out_of_order += 1;
            continue;
        }
        next_seq = seq + 1;
        match event["type"].as_str() {
            Some("text.delta") => {
                out.first_text.get_or_insert_with(Instant::now);
                text.push_str(event["text"].as_str().unwrap_or_default());
            }
            Some("error") => {
                out.error = Some(format!("error event: {}", event["message"]));
            }
            Some("message.end") => {
                out.end = Some(Instant::now());
                out.completed = true;
                out.text_ok = text == expected;
                break;
            }
            _ => {}
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(None)).await;
    out
}

/// The most intervals covering one instant (`intervals` sorted by start).
fn peak_overlap(intervals: &[(Instant, Instant)]) -> usize {
    let mut ends: std::collections::BinaryHeap<std::cmp::Reverse<Instant>> =
        std::collections::BinaryHeap::new();
    let mut peak = 0;
    for (start, end) in intervals {
        while ends.peek().is_some_and(|e| e.0 <= *start) {
            ends.pop();
        }
        ends.push(std::cmp::Reverse(*end));
        peak = peak.max(ends.len());
    }
    peak
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_overlap_counts_sessions_streaming_at_once() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        let intervals = [
            (at(0), at(10)),
            (at(5), at(20)),
            (at(6), at(7)),
            (at(12), at(30)),
        ];
        assert_eq!(peak_overlap(&intervals), 3);
        assert_eq!(peak_overlap(&[]), 0);
    }

    #[test]
    fn chat_urls_switch_scheme() {
        assert_eq!(
            chat_url("http://127.0.0.1:9", "k"),
            "ws://127.0.0.1:9/ws/chat?access_token=k"
        );
    }
}
