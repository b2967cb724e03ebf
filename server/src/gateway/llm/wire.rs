//! The Chat Completions wire format, in our own serde types (async-openai's
//! `byot` calls): requests as OpenAI documents them, and streamed chunks read
//! leniently, because "compatible" servers differ from OpenAI in the details:
//! missing `object`/`created`/`model`, `null` where OpenAI omits a field,
//! numeric error codes, finish reasons outside OpenAI's list, error objects
//! sent inside the stream.

use serde::{Deserialize, Serialize};

use super::tool_calls::ToolCallFragment;
use super::{ChatMessage, ChatRequest, ToolCall, ToolDefinition};

/// The body of `POST /chat/completions`, always streamed, with usage asked for.
#[derive(Debug, Serialize)]
pub(crate) struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    stream: bool,
    stream_options: StreamOptions,
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        // OpenAI wants `null`, not a missing field, beside tool calls.
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: &'a str,
    },
}

#[derive(Debug, Serialize)]
struct WireToolCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Debug, Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

impl<'a> WireRequest<'a> {
    pub fn new(model: &'a str, request: &'a ChatRequest) -> Self {
        Self {
            model,
            messages: request.messages.iter().map(WireMessage::from).collect(),
            tools: request.tools.iter().map(WireTool::from).collect(),
            max_tokens: request.max_tokens,
            temperature: request.temperature,
            stream: true,
            stream_options: StreamOptions {
                include_usage: true,
            },
        }
    }
}

impl<'a> From<&'a ChatMessage> for WireMessage<'a> {
    fn from(message: &'a ChatMessage) -> Self {
        match message {
            ChatMessage::System { content } => Self::System { content },
            ChatMessage::User { content } => Self::User { content },
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => Self::Assistant {
                content: content.as_deref(),
                tool_calls: tool_calls.iter().map(WireToolCall::from).collect(),
            },
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => Self::Tool {
                tool_call_id,
                content,
            },
        }
    }
}

impl<'a> From<&'a ToolCall> for WireToolCall<'a> {
    fn from(call: &'a ToolCall) -> Self {
        Self {
            id: &call.id,
            r#type: "function",
            function: WireFunctionCall {
                name: &call.name,
                arguments: &call.arguments,
            },
        }
    }
}

impl<'a> From<&'a ToolDefinition> for WireTool<'a> {
    fn from(tool: &'a ToolDefinition) -> Self {
        Self {
            r#type: "function",
            function: WireFunction {
                name: &tool.name,
                description: &tool.description,
                parameters: &tool.parameters,
            },
        }
    }
}

/// One `chat.completion.chunk`; every field may be missing or `null`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub choices: Option<Vec<ChunkChoice>>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// vLLM, LiteLLM and others report failures inside the stream this way.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChunkChoice {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<WireToolCallFragment>>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireToolCallFragment {
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunctionFragment>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireFunctionFragment {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
}

impl From<WireToolCallFragment> for ToolCallFragment {
    fn from(wire: WireToolCallFragment) -> Self {
        let (name, arguments) = wire
            .function
            .map(|f| (f.name, f.arguments))
            .unwrap_or_default();
        Self {
            index: wire.index,
            id: wire.id,
            name,
            arguments,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_a_request_as_openai_documents_it() {
        let request = ChatRequest {
            messages: vec![
                ChatMessage::system("be brief"),
                ChatMessage::user("weather?"),
                ChatMessage::assistant_tool_calls(vec![ToolCall {
                    id: "call_1".into(),
                    name: "weather".into(),
                    arguments: "{}".into(),
                }]),
                ChatMessage::tool("call_1", "sunny"),
            ],
            tools: vec![ToolDefinition {
                name: "weather".into(),
                description: "Today's weather".into(),
                parameters: json!({"type": "object", "properties": {}}),
            }],
            max_tokens: Some(100),
            temperature: None,
        };
        let body = serde_json::to_value(WireRequest::new("m", &request)).unwrap();
        assert_eq!(
            body,
            json!({
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "weather?"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                    ]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
                ],
                "tools": [{"type": "function", "function": {
                    "name": "weather", "description": "Today's weather",
                    "parameters": {"type": "object", "properties": {}}
                }}],
                "max_tokens": 100,
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn reads_sparse_and_null_heavy_chunks() {
        let chunk: Chunk = serde_json::from_str(
            r#"{"choices":[{"delta":{"content":null,"tool_calls":[{"function":{"arguments":"{}"}}]},"finish_reason":null}],"usage":null}"#,
        )
        .unwrap();
        let choices = chunk.choices.unwrap();
        let calls = choices[0]
            .delta
            .as_ref()
            .unwrap()
            .tool_calls
            .as_ref()
            .unwrap();
        assert_eq!(calls[0].index, None);
        let empty: Chunk = serde_json::from_str(r#"{"choices":null}"#).unwrap();
        assert!(empty.choices.is_none());
    }
}
