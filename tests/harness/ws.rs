//! A test client of the chat WebSocket `/ws/chat`: connects with a token,
//! sends client messages and reads server events, always with a timeout so a
//! silent server fails the test instead of hanging it.

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The raw socket, for tests that split it or send odd frames.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long any one event may take to arrive.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(30);

/// `ws://…/ws/chat?access_token=…` for a server at `base` (`http://…`).
pub fn chat_url(base: &str, token: &str) -> String {
    format!(
        "{}/ws/chat?access_token={token}",
        base.replacen("http://", "ws://", 1)
    )
}

/// A connected chat client.
pub struct ChatSocket {
    pub socket: Socket,
}

/// What the server did next on a socket.
#[derive(Debug)]
pub enum Next {
    Event(Value),
    /// A close frame (with its code, if any).
    Closed(Option<CloseFrame>),
    /// The connection ended without a close frame, or with an error.
    Dropped(String),
}

impl ChatSocket {
    pub async fn connect(base: &str, token: &str) -> ChatSocket {
        let (socket, _) = tokio_tungstenite::connect_async(chat_url(base, token))
            .await
            .expect("WebSocket connect");
        ChatSocket { socket }
    }

    /// Sends a client message as a JSON text frame.
    pub async fn send(&mut self, message: &Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send a frame");
    }

    /// The next thing the server does: a JSON event, a close, or a drop.
    /// Control frames are skipped; panics after [`EVENT_TIMEOUT`].
    pub async fn next(&mut self) -> Next {
        loop {
            let frame = tokio::time::timeout(EVENT_TIMEOUT, self.socket.next())
                .await
                .expect("a frame within 30 s");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let event = serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("server sent non-JSON {text}: {e}"));
                    return Next::Event(event);
                }
                Some(Ok(Message::Close(frame))) => return Next::Closed(frame),
                Some(Ok(Message::Binary(_))) => panic!("the server sent a binary frame"),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Next::Dropped(e.to_string()),
                None => return Next::Dropped("end of stream".into()),
            }
        }
    }

    /// The next JSON event; panics on a close or a timeout.
    pub async fn next_event(&mut self) -> Value {
        match self.next().await {
            Next::Event(event) => event,
            other => panic!("expected an event, got {other:?}"),
        }
    }

    /// Every event up to and including the first `message.end`.
    pub async fn read_turn(&mut self) -> Vec<Value> {
        self.read_until(|e| e["type"] == "message.end").await
    }

    /// Every event up to and including the first that matches `done`.
    pub async fn read_until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let event = self.next_event().await;
            let last = done(&event);
            events.push(event);
            if last {
                return events;
            }
        }
    }

    /// Sends a ping and waits for its pong, skipping other events: the
    /// connection still works.
    pub async fn ping(&mut self) {
        self.send(&serde_json::json!({"type": "ping"})).await;
        self.read_until(|e| e["type"] == "pong").await;
    }

    /// Asserts that no event arrives for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) => panic!("expected silence, got {text}"),
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }
}

/// The concatenated `text.delta` texts of `events`.
pub fn answer_of(events: &[Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "text.delta")
        .map(|e| e["text"].as_str().unwrap_or_default())
        .collect()
}

/// The `type`s of `events`, in order.
pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}
