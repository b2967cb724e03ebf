//! Turns streamed chunks into [`LlmDelta`]s: text as it comes, tool calls
//! once merged, usage, and the finish reason held back to the very end (OpenAI
//! sends the usage chunk after the one carrying `finish_reason`).

use std::collections::VecDeque;

use super::error::{classify_status, truncate};
use super::tool_calls::ToolCallMerger;
use super::wire::Chunk;
use super::{FinishReason, LlmDelta, LlmError};

#[derive(Debug, Default)]
pub(crate) struct Decoder {
    merger: ToolCallMerger,
    finish: Option<FinishReason>,
    started: bool,
}

impl Decoder {
    /// Whether the model has begun answering: text, a tool call fragment or a
    /// finish reason has arrived (a role-only first chunk does not count).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Reads one chunk, queueing what the caller may see now.
    pub fn push(&mut self, chunk: Chunk, out: &mut VecDeque<LlmDelta>) -> Result<(), LlmError> {
        if let Some(error) = chunk.error {
            return Err(stream_error(&error));
        }
        // One choice is asked for (no `n`); others would be ignored.
        let choice = chunk
            .choices
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.index.unwrap_or(0) == 0);
        if let Some(choice) = choice {
            if let Some(delta) = choice.delta {
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    self.started = true;
                    out.push_back(LlmDelta::Text(text));
                }
                for fragment in delta.tool_calls.unwrap_or_default() {
                    self.started = true;
                    self.merger.push(fragment.into());
                }
            }
            if let Some(reason) = choice.finish_reason.filter(|r| !r.is_empty()) {
                self.started = true;
                self.flush_tool_calls(out);
                self.finish = Some(FinishReason::from_wire(&reason));
            }
        }
        if let Some(usage) = chunk.usage {
            out.push_back(LlmDelta::Usage {
                prompt_tokens: usage.prompt_tokens.unwrap_or(0),
                completion_tokens: usage.completion_tokens.unwrap_or(0),
            });
        }
        Ok(())
    }

    /// The stream ended cleanly: queue what is left and the finish reason.
    pub fn end(&mut self, out: &mut VecDeque<LlmDelta>) -> Result<(), LlmError> {
        if !self.started {
            return Err(LlmError::Transient(
                "the model server ended the stream without an answer".into(),
            ));
        }
        self.flush_tool_calls(out);
        let finish = self.finish.take().unwrap_or_else(|| {
            tracing::warn!("the model server ended the stream without a finish reason");
            FinishReason::Stop
        });
        out.push_back(LlmDelta::Finish(finish));
        Ok(())
    }

    fn flush_tool_calls(&mut self, out: &mut VecDeque<LlmDelta>) {
        if !self.merger.is_empty() {
            let calls = self.merger.finish();
            if !calls.is_empty() {
                out.push_back(LlmDelta::ToolCalls(calls));
            }
        }
    }
}

/// An `{"error": …}` object inside the stream, sorted like an HTTP error
/// answer (a numeric `code` is taken as the status; otherwise a 500).
fn stream_error(error: &serde_json::Value) -> LlmError {
    let status = error
        .get("code")
        .and_then(serde_json::Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .filter(|c| (400..600).contains(c))
        .unwrap_or(500);
    let body = serde_json::json!({ "error": error }).to_string();
    match classify_status(status, &body) {
        LlmError::Transient(m) => LlmError::Transient(truncate(&format!("in stream: {m}"))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::llm::ToolCall;

    fn run(chunks: &[&str]) -> (Vec<LlmDelta>, Result<(), LlmError>) {
        let mut decoder = Decoder::default();
        let mut out = VecDeque::new();
        for chunk in chunks {
            let chunk: Chunk = serde_json::from_str(chunk).unwrap();
            if let Err(e) = decoder.push(chunk, &mut out) {
                return (out.into(), Err(e));
            }
        }
        let end = decoder.end(&mut out);
        (out.into(), end)
    }

    #[test]
    fn text_then_usage_then_finish() {
        let (deltas, end) = run(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        ]);
        end.unwrap();
        assert_eq!(
            deltas,
            vec![
                LlmDelta::Text("Hel".into()),
                LlmDelta::Text("lo".into()),
                LlmDelta::Usage {
                    prompt_tokens: 9,
                    completion_tokens: 2
                },
                LlmDelta::Finish(FinishReason::Stop),
            ]
        );
    }

    #[test]
    fn tool_call_split_across_chunks() {
        let (deltas, end) = run(&[
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"search","arguments":""}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"q\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"vpn\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
        ]);
        end.unwrap();
        assert_eq!(
            deltas,
            vec![
                LlmDelta::ToolCalls(vec![ToolCall {
                    id: "call_9".into(),
                    name: "search".into(),
                    arguments: r#"{"q":"vpn"}"#.into()
                }]),
                LlmDelta::Finish(FinishReason::ToolCalls),
            ]
        );
    }

    #[test]
    fn an_empty_stream_is_a_transient_failure() {
        let (deltas, end) = run(&[r#"{"choices":[{"delta":{"role":"assistant"}}]}"#]);
        assert!(deltas.is_empty());
        assert!(matches!(end, Err(LlmError::Transient(_))));
    }

    #[test]
    fn errors_inside_the_stream_are_sorted() {
        let (_, end) =
            run(&[r#"{"error":{"message":"maximum context length is 8192 tokens","code":400}}"#]);
        assert!(matches!(end, Err(LlmError::ContextLength(_))));
        let (_, end) = run(&[r#"{"error":{"message":"engine died","type":"internal"}}"#]);
        assert!(matches!(end, Err(LlmError::Transient(m)) if m.contains("engine died")));
    }
}
