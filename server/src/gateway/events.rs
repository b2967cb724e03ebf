//! The wire protocol: one enum for what the server streams and one for what a
//! client sends. The WebSocket, SSE, OpenAI-compatible and Slack front doors
//! all consume the same [`ServerEvent`] stream.

use chrono::{DateTime, Utc};
use personas::{Intent, Persona};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// A citation: a retrieved passage the answer may cite as `[n]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Citation {
    pub n: usize,
    pub document_id: Uuid,
    pub chunk_id: Uuid,
    pub title: String,
    pub snippet: String,
    pub score: f64,
    pub scores: CitationScores,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CitationScores {
    pub vector_rank: Option<i64>,
    pub lexical_rank: Option<i64>,
    pub fused: f64,
    /// Cosine similarity to the question, when the vector half found it.
    #[serde(default)]
    pub vector_similarity: Option<f64>,
    /// BM25 score, when the lexical half found it.
    #[serde(default)]
    pub bm25: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alternative {
    pub persona: Persona,
    pub intent: Intent,
    pub confidence: f32,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// Milliseconds spent in each stage of a turn.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub classify: u64,
    pub retrieve: u64,
    pub tools: u64,
    pub first_token: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Cancelled,
    Error,
    /// The answer hit its token limit.
    Length,
    /// The turn waits for an approval; it continues when that is decided.
    ApprovalPending,
}

/// What happens inside one assistant message, in order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum EventBody {
    #[serde(rename = "message.start")]
    MessageStart { client_msg_id: String },
    #[serde(rename = "classification")]
    Classification {
        persona: Persona,
        intent: Intent,
        confidence: f32,
        alternatives: Vec<Alternative>,
    },
    #[serde(rename = "retrieval")]
    Retrieval { citations: Vec<Citation> },
    #[serde(rename = "tool.call")]
    ToolCall {
        call_id: String,
        name: String,
        arguments: Value,
    },
    #[serde(rename = "tool.result")]
    ToolResult {
        call_id: String,
        ok: bool,
        summary: String,
        data: Value,
    },
    #[serde(rename = "approval.required")]
    ApprovalRequired {
        approval_id: Uuid,
        action: String,
        arguments: Value,
        summary: String,
        expires_at: DateTime<Utc>,
    },
    #[serde(rename = "approval.decided")]
    ApprovalDecided {
        approval_id: Uuid,
        /// `approve` or `reject`.
        decision: String,
        by: Option<Uuid>,
        /// Where the approval ended: `executed`, `failed` or `rejected`.
        status: tools::ApprovalStatus,
    },
    #[serde(rename = "text.delta")]
    TextDelta { text: String },
    #[serde(rename = "message.end")]
    MessageEnd {
        finish_reason: FinishReason,
        usage: Usage,
        timings_ms: Timings,
    },
    #[serde(rename = "error")]
    Error { error_type: String, message: String },
}

/// One event of one assistant message, numbered so a client can resume.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MessageEvent {
    pub conversation_id: Uuid,
    pub message_id: Uuid,
    pub seq: u64,
    #[serde(flatten)]
    pub body: EventBody,
}

impl MessageEvent {
    pub fn is_end(&self) -> bool {
        matches!(self.body, EventBody::MessageEnd { .. })
    }
}

/// The decision an approval's status records: `approve` for one that was
/// approved (and then executed or failed), `reject` for a rejected one.
pub fn decision_of(status: tools::ApprovalStatus) -> &'static str {
    match status {
        tools::ApprovalStatus::Rejected => "reject",
        tools::ApprovalStatus::Pending | tools::ApprovalStatus::Expired => "none",
        _ => "approve",
    }
}

/// What a client sends over the WebSocket.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ClientMessage {
    #[serde(rename = "chat.send")]
    ChatSend(ChatSend),
    #[serde(rename = "chat.cancel")]
    ChatCancel { message_id: Uuid },
    #[serde(rename = "approval.decide")]
    ApprovalDecide {
        approval_id: Uuid,
        decision: tools::Decision,
        comment: Option<String>,
    },
    #[serde(rename = "resume")]
    Resume { message_id: Uuid, after_seq: i64 },
    #[serde(rename = "ping")]
    Ping,
}

/// A user turn, from any front door.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatSend {
    pub conversation_id: Option<Uuid>,
    pub client_msg_id: String,
    pub text: String,
    pub persona: Option<Persona>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_flat_with_their_type() {
        let event = MessageEvent {
            conversation_id: Uuid::nil(),
            message_id: Uuid::nil(),
            seq: 3,
            body: EventBody::TextDelta { text: "hi".into() },
        };
        let json = serde_json::to_value(&event).unwrap_or_default();
        assert_eq!(json["type"], "text.delta");
        assert_eq!(json["seq"], 3);
        assert_eq!(json["text"], "hi");
        let back: MessageEvent = serde_json::from_value(json).unwrap_or(event.clone());
        assert_eq!(back, event);
    }

    #[test]
    fn client_messages_parse_by_type() {
        let raw = r#"{"type":"chat.send","client_msg_id":"c1","text":"hello"}"#;
        assert!(matches!(
            serde_json::from_str::<ClientMessage>(raw),
            Ok(ClientMessage::ChatSend(ChatSend { .. }))
        ));
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"nope"}"#).is_err());
    }
}
