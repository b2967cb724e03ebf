//! The gateway's LLM client: streamed chat completions, text and tool calls,
//! from any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama,
//! LiteLLM…) through `async-openai`.
//!
//! It is built to fail well: every call has a connect, first-token and total
//! time limit; transient failures are retried with jittered backoff (honouring
//! `Retry-After`) as long as nothing has been shown to the user; and a circuit
//! breaker shared by all requests refuses calls at once while the server is
//! down, so the gateway can answer from its offline composer without waiting.
//!
//! ```ignore
//! let llm = LlmClient::new(LlmConfig::new("http://127.0.0.1:8080/v1", "qwen2.5"))?;
//! let mut answer = llm.stream(&ChatRequest { messages, ..Default::default() }).await?;
//! while let Some(delta) = answer.next().await { /* LlmDelta::Text, ToolCalls, Usage, Finish */ }
//! ```

mod backoff;
mod breaker;
mod client;
mod decode;
mod error;
mod messages;
mod stream;
mod tool_calls;
mod transport;
mod wire;

#[cfg(test)]
pub(crate) mod tests;

pub use breaker::{BreakerConfig, BreakerPermit, BreakerState, CircuitBreaker};
pub use client::{LlmClient, LlmConfig};
pub use error::LlmError;
pub use messages::{ChatMessage, ChatRequest, FinishReason, LlmDelta, ToolCall, ToolDefinition};
pub use stream::LlmStream;
