//! What the gateway sends to a model and what comes back, in the gateway's own
//! terms; `wire` turns these into the OpenAI Chat Completions JSON.

use serde::{Deserialize, Serialize};

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    System {
        content: String,
    },
    User {
        content: String,
    },
    /// A model turn: text, tool calls, or both.
    Assistant {
        content: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// The result of the tool call `tool_call_id`, fed back to the model.
    Tool {
        tool_call_id: String,
        content: String,
    },
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self::System {
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::User {
            content: content.into(),
        }
    }

    /// An assistant turn with text only.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::Assistant {
            content: Some(content.into()),
            tool_calls: Vec::new(),
        }
    }

    /// An assistant turn that called tools (its text, if any, is dropped).
    pub fn assistant_tool_calls(tool_calls: Vec<ToolCall>) -> Self {
        Self::Assistant {
            content: None,
            tool_calls,
        }
    }

    /// A tool's result for the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self::Tool {
            tool_call_id: tool_call_id.into(),
            content: content.into(),
        }
    }
}

/// A tool the model may call: its name, what it does and a JSON Schema of its
/// arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// A tool call the model made; `arguments` is the JSON text as the model wrote
/// it, which may not parse: validating it is the tool layer's job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

/// One completion request. The model is the client's (see `LlmConfig::model`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub tools: Vec<ToolDefinition>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishReason {
    /// A natural end of the answer.
    Stop,
    /// The answer hit `max_tokens`.
    Length,
    /// The model wants its tool calls run; they came as [`LlmDelta::ToolCalls`].
    ToolCalls,
    ContentFilter,
    /// Anything else a compatible server reports.
    Other(String),
}

impl FinishReason {
    pub(crate) fn from_wire(reason: &str) -> Self {
        match reason {
            "stop" | "eos" | "end_turn" => Self::Stop,
            "length" | "max_tokens" => Self::Length,
            "tool_calls" | "function_call" | "tool_use" => Self::ToolCalls,
            "content_filter" => Self::ContentFilter,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// One item of a streamed answer. Text comes as it is generated; tool calls
/// come whole, once the model has finished writing them; `Usage` (when the
/// server reports it) comes before `Finish`, which is always the last item.
#[derive(Debug, Clone, PartialEq)]
pub enum LlmDelta {
    Text(String),
    ToolCalls(Vec<ToolCall>),
    Usage {
        prompt_tokens: u32,
        completion_tokens: u32,
    },
    Finish(FinishReason),
}
