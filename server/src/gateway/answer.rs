//! The answer from an LLM: a prompt built from the persona, the conversation,
//! the retrieved passages and the tool results (all redacted), streamed back
//! with placeholders restored and citation markers checked against what was
//! retrieved (a marker naming no passage is dropped).

use futures::StreamExt;
use std::collections::HashSet;

use super::composer::ToolOutcome;
use super::events::{Citation, Usage};
use super::llm::{ChatMessage, ChatRequest, LlmDelta, LlmError};
use super::redact::{Redactor, StreamRestorer};
use personas::PersonaDefinition;

/// Tokens of earlier conversation sent along with the question (measured
/// with the local tokenizer; the oldest turns go first when it is exceeded).
const HISTORY_TOKEN_BUDGET: usize = 1500;
const MAX_TOOL_DATA_CHARS: usize = 4000;

pub struct Prompt<'a> {
    pub definition: &'a PersonaDefinition,
    pub history: &'a [(String, String)],
    pub question: &'a str,
    pub citations: &'a [Citation],
    pub tools: &'a [ToolOutcome],
}

/// The chat request for an answer; every text in it is redacted, and the
/// history is trimmed to a token budget counted by `count_tokens`.
pub fn request(
    prompt: &Prompt<'_>,
    redactor: &mut Redactor,
    count_tokens: impl Fn(&str) -> usize,
) -> ChatRequest {
    let mut system = format!(
        "{}\n\nAnswer style: {}\n\nGround every statement in the numbered passages and the tool \
         results below. Cite passages with their marker, e.g. [1]; never cite a number that is \
         not listed. If the material does not answer the question, say so. Placeholders such as \
         [EMAIL_1] stand for redacted values: keep them as they are.\n",
        prompt.definition.system_prompt.trim(),
        prompt.definition.answer_style.trim()
    );
    if !prompt.citations.is_empty() {
        system.push_str("\nPassages:\n");
        for c in prompt.citations {
            system.push_str(&format!(
                "[{}] {}: {}\n",
                c.n,
                redactor.redact(&c.title),
                redactor.redact(&c.snippet)
            ));
        }
    }
    if !prompt.tools.is_empty() {
        system.push_str("\nTool results:\n");
        for t in prompt.tools {
            let mut data = t.data.to_string();
            if data.len() > MAX_TOOL_DATA_CHARS {
                let cut = (0..=MAX_TOOL_DATA_CHARS)
                    .rev()
                    .find(|i| data.is_char_boundary(*i))
                    .unwrap_or(0);
                data.truncate(cut);
                data.push('…');
            }
            system.push_str(&format!(
                "- {} ({}): {}\n  data: {}\n",
                t.name,
                if t.ok { "ok" } else { "failed" },
                redactor.redact(&t.summary),
                redactor.redact(&data)
            ));
        }
    }
    let mut messages = vec![ChatMessage::system(system)];
    let mut spent = 0;
    let start = prompt
        .history
        .iter()
        .rposition(|(_, text)| {
            spent += count_tokens(text);
            spent > HISTORY_TOKEN_BUDGET
        })
        .map_or(0, |over| over + 1);
    for (role, text) in &prompt.history[start..] {
        let text = redactor.redact(text);
        messages.push(if role == "assistant" {
            ChatMessage::Assistant {
                content: Some(text),
                tool_calls: Vec::new(),
            }
        } else {
            ChatMessage::user(text)
        });
    }
    messages.push(ChatMessage::user(redactor.redact(prompt.question)));
    ChatRequest {
        messages,
        tools: Vec::new(),
        max_tokens: Some(800),
        temperature: Some(0.2),
    }
}

/// Drops `[n]` markers whose n was not retrieved, across delta boundaries.
#[derive(Default)]
pub struct CitationFilter {
    pending: String,
}

impl CitationFilter {
    pub fn push(&mut self, valid: &HashSet<usize>, text: &str) -> String {
        self.pending.push_str(text);
        let mut out = String::new();
        loop {
            let Some(open) = self.pending.find('[') else {
                out.push_str(&std::mem::take(&mut self.pending));
                return out;
            };
            out.push_str(&self.pending[..open]);
            let rest = self.pending[open + 1..].to_owned();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let after = &rest[digits.len()..];
            if after.is_empty() && digits.len() < 4 {
                // Maybe a marker still arriving: wait for more text.
                self.pending = self.pending[open..].to_owned();
                return out;
            }
            if !digits.is_empty() && after.starts_with(']') {
                if digits.parse().is_ok_and(|n: usize| valid.contains(&n)) {
                    out.push_str(&format!("[{digits}]"));
                }
                self.pending = after[1..].to_owned();
            } else {
                out.push('[');
                self.pending = rest;
            }
        }
    }

    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

/// Turns streamed LLM text into what the user may see: placeholders
/// restored, invalid citation markers dropped.
pub struct Visible {
    valid: HashSet<usize>,
    restorer: StreamRestorer,
    filter: CitationFilter,
}

impl Visible {
    pub fn new(citations: &[Citation]) -> Visible {
        Visible {
            valid: citations.iter().map(|c| c.n).collect(),
            restorer: StreamRestorer::default(),
            filter: CitationFilter::default(),
        }
    }

    pub fn push(&mut self, redactor: &Redactor, delta: &str) -> String {
        let restored = self.restorer.push(redactor, delta);
        self.filter.push(&self.valid, &restored)
    }

    pub fn finish(&mut self, redactor: &Redactor) -> String {
        let restored = self.restorer.finish(redactor);
        self.filter.push(&self.valid, &restored) + &self.filter.finish()
    }
}

/// What the LLM stream ended with.
pub enum Streamed {
    Done(Usage),
    Cancelled(Usage),
}

/// Reads the next LLM delta unless the turn is cancelled first.
pub async fn next_delta(
    stream: &mut super::llm::LlmStream,
    cancel: &tokio_util::sync::CancellationToken,
) -> Option<Option<Result<LlmDelta, LlmError>>> {
    tokio::select! {
        next = stream.next() => Some(next),
        _ = cancel.cancelled() => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_of_passages_not_retrieved_are_dropped_even_when_split() {
        let valid: HashSet<usize> = [1, 2].into_iter().collect();
        let mut f = CitationFilter::default();
        let mut out = String::new();
        for piece in ["Budgets [", "1] and [", "7] and [2", "] or [x]."] {
            out.push_str(&f.push(&valid, piece));
        }
        out.push_str(&f.finish());
        assert_eq!(out, "Budgets [1] and  and [2] or [x].");
    }
}
