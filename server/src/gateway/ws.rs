//! `GET /ws/chat`: the chat over a WebSocket. Authenticated before the upgrade
//! (`Authorization: Bearer` or `?access_token=`), small tungstenite buffers, a
//! bounded send queue, ping/pong keep-alive, and a slow consumer closed with
//! code 1013 (it resumes from the buffer after reconnecting).

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::time::Duration;
use tokio::sync::mpsc;

use super::buffer;
use super::events::{ClientMessage, MessageEvent};
use super::turn;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::state::AppState;

/// Largest frame or message a client may send.
const MAX_MESSAGE: usize = 64 * 1024;
/// Events queued for one connection before it counts as a slow consumer.
const SEND_QUEUE: usize = 256;
/// A write that takes longer than this means the client stopped reading.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(20);
/// How long a resume follows a message that is still being written.
const RESUME_WAIT: Duration = Duration::from_secs(120);
/// How long a turn outlives its client's connection, waiting for a resume,
/// before its upstream work is stopped.
const RESUME_GRACE: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
pub struct WsQuery {
    access_token: Option<String>,
}

pub async fn chat_ws(
    State(state): State<AppState>,
    query: Result<Query<WsQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let query_token = query.ok().and_then(|Query(q)| q.access_token);
    let token = query_token.or(header_token).ok_or_else(|| {
        ApiError::Unauthorized(
            "missing credentials: pass `?access_token=` or `Authorization: Bearer`".into(),
        )
    })?;
    let principal = Principal::from_token(&state, token.trim()).await?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::BadRequest(format!(
            "this endpoint needs a WebSocket upgrade: {}",
            e.body_text()
        ))
    })?;
    Ok(upgrade
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(64 * 1024)
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| connection(state, principal, socket)))
}

/// What the writer sends: an event of a message, or a connection-level frame.
enum Outgoing {
    Event(MessageEvent),
    Frame(serde_json::Value),
    Close(u16, &'static str),
}

async fn connection(state: AppState, principal: Principal, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(SEND_QUEUE);
    let (events_tx, mut events_rx) = mpsc::channel::<MessageEvent>(SEND_QUEUE);

    // Events of this connection's turns join the outgoing queue.
    let forward_tx = out_tx.clone();
    let forwarder = tokio::spawn(async move {
        while let Some(event) = events_rx.recv().await {
            if forward_tx.try_send(Outgoing::Event(event)).is_err() {
                let _ = forward_tx
                    .send(Outgoing::Close(1013, "slow consumer: reconnect and resume"))
                    .await;
                break;
            }
        }
    });

    // Approvals decided anywhere reach every open client of the tenant.
    let platform_tx = out_tx.clone();
    let mut platform_events = state.events.subscribe();
    let tenant = principal.tenant.0;
    let announcer = tokio::spawn(async move {
        while let Ok((event_tenant, event)) = platform_events.recv().await {
            if event_tenant != tenant {
                continue;
            }
            if let tools::PlatformEvent::ApprovalDecided {
                approval_id,
                status,
                decided_by,
                ..
            } = event
            {
                let frame = json!({"type": "approval.decided", "approval_id": approval_id,
                    "decision": super::events::decision_of(status), "status": status, "by": decided_by});
                if platform_tx.try_send(Outgoing::Frame(frame)).is_err() {
                    break;
                }
            }
        }
    });

    let writer = tokio::spawn(async move {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let message = tokio::select! {
                next = out_rx.recv() => match next {
                    Some(Outgoing::Event(event)) => text(&event),
                    Some(Outgoing::Frame(frame)) => text(&frame),
                    Some(Outgoing::Close(code, reason)) => {
                        let close = Message::Close(Some(CloseFrame { code, reason: Utf8Bytes::from_static(reason) }));
                        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(close)).await;
                        break;
                    }
                    None => break,
                },
                _ = ping.tick() => Message::Ping(Default::default()),
            };
            match tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => break,
                Err(_) => {
                    let close = Message::Close(Some(CloseFrame {
                        code: 1013,
                        reason: Utf8Bytes::from_static("slow consumer: reconnect and resume"),
                    }));
                    let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(close)).await;
                    break;
                }
            }
        }
    });

    let mut started = Vec::new();
    while let Some(next) = stream.next().await {
        let message = match next {
            Ok(message) => message,
            Err(err) => {
                // Say why before leaving, rather than cutting the connection.
                if let Some((code, reason)) = close_for_read_error(&err) {
                    let close = out_tx.send(Outgoing::Close(code, reason));
                    let _ = tokio::time::timeout(Duration::from_secs(1), close).await;
                }
                break;
            }
        };
        let raw = match message {
            Message::Text(raw) => raw,
            Message::Close(_) => break,
            Message::Binary(_) => {
                send_error(&out_tx, "bad_request", "frames must be JSON text".into()).await;
                continue;
            }
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let parsed: Result<ClientMessage, _> = serde_json::from_str(raw.as_str());
        let client_message = match parsed {
            Ok(m) => m,
            Err(e) => {
                send_error(&out_tx, "bad_request", format!("unreadable message: {e}")).await;
                continue;
            }
        };
        if let Some(message_id) =
            handle(&state, &principal, client_message, &out_tx, &events_tx).await
        {
            started.push(message_id);
        }
    }
    // Turns this client started stop unless some client resumes them soon.
    if !started.is_empty() {
        let state = state.clone();
        let owner = super::buffer::Owner::of(&principal);
        tokio::spawn(async move {
            tokio::time::sleep(RESUME_GRACE).await;
            for message_id in started {
                state
                    .gateway
                    .cancel_unless_resumed(&state, owner, message_id)
                    .await;
            }
        });
    }
    // The client left: its turns finish and are recorded (a reconnecting
    // client resumes them); the tasks of this connection stop.
    drop(out_tx);
    forwarder.abort();
    announcer.abort();
    let _ = writer.await;
}

async fn handle(
    state: &AppState,
    principal: &Principal,
    message: ClientMessage,
    out: &mpsc::Sender<Outgoing>,
    events: &mpsc::Sender<MessageEvent>,
) -> Option<uuid::Uuid> {
    match message {
        ClientMessage::Ping => {
            let _ = out.send(Outgoing::Frame(json!({"type": "pong"}))).await;
        }
        ClientMessage::ChatSend(send) => {
            match turn::start(state, principal, send, events.clone()).await {
                Ok(admitted) if admitted.repeated => {
                    spawn_replay(state, principal, admitted.message_id, -1, events.clone());
                }
                Ok(admitted) => return Some(admitted.message_id),
                Err(e) => {
                    let (error_type, message) = e.public();
                    send_error(out, error_type, message).await;
                }
            }
        }
        ClientMessage::ChatCancel { message_id } => {
            let owner = super::buffer::Owner::of(principal);
            if let Err(e) = state.gateway.cancel(state, owner, message_id).await {
                let (error_type, message) = e.public();
                send_error(out, error_type, message).await;
            }
        }
        ClientMessage::Resume {
            message_id,
            after_seq,
        } => spawn_resume(
            state,
            principal,
            message_id,
            after_seq,
            events.clone(),
            out.clone(),
        ),
        ClientMessage::ApprovalDecide {
            approval_id,
            decision,
            comment,
        } => {
            let ctx = crate::tools_api::context(state, principal, None);
            let decided = state
                .tools
                .decide(&ctx, approval_id, decision, comment.as_deref())
                .await;
            if let Err(e) = decided {
                let (error_type, message) = ApiError::from(e).public();
                send_error(out, error_type, message).await;
            }
        }
    }
    None
}

/// A client's `resume`: known only to the message's owner; the turn is
/// marked as followed again (so it outlives its first client), and a resume
/// that finds nothing gets a `not_found` error.
fn spawn_resume(
    state: &AppState,
    principal: &Principal,
    message_id: uuid::Uuid,
    after_seq: i64,
    events: mpsc::Sender<MessageEvent>,
    out: mpsc::Sender<Outgoing>,
) {
    let state = state.clone();
    let owner = super::buffer::Owner::of(principal);
    tokio::spawn(async move {
        if !buffer::exists(&state, owner, message_id).await {
            send_error(
                &out,
                "not_found",
                format!("no message {message_id} to resume"),
            )
            .await;
            return;
        }
        state.gateway.mark_resumed(&state, message_id).await;
        buffer::replay(&state, owner, message_id, after_seq, &events, RESUME_WAIT).await;
    });
}

fn spawn_replay(
    state: &AppState,
    principal: &Principal,
    message_id: uuid::Uuid,
    after_seq: i64,
    events: mpsc::Sender<MessageEvent>,
) {
    let state = state.clone();
    let owner = super::buffer::Owner::of(principal);
    tokio::spawn(async move {
        if !buffer::replay(&state, owner, message_id, after_seq, &events, RESUME_WAIT).await {
            tracing::debug!(%message_id, "resume of an unknown message");
        }
    });
}

/// The close code for a frame the client sent that could not be read: 1009
/// for one over [`MAX_MESSAGE`], 1002 for broken framing; none when the
/// connection itself failed. axum hides tungstenite's error type, so its
/// message tells them apart.
fn close_for_read_error(err: &axum::Error) -> Option<(u16, &'static str)> {
    let message = err.to_string();
    if message.starts_with("IO error") || message.contains("Connection reset") {
        None
    } else if message.contains("Space limit exceeded") || message.contains("too long") {
        Some((1009, "message too big: the limit is 64 KiB"))
    } else {
        Some((1002, "unreadable WebSocket frame"))
    }
}

async fn send_error(out: &mpsc::Sender<Outgoing>, error_type: &str, message: String) {
    let _ = out
        .send(Outgoing::Frame(
            json!({"type": "error", "error_type": error_type, "message": message}),
        ))
        .await;
}

fn text(value: &impl serde::Serialize) -> Message {
    Message::Text(serde_json::to_string(value).unwrap_or_default().into())
}
