//! Reassembles tool calls that the server streams in fragments: the first
//! fragment of a call carries its `index`, `id` and function name, the next
//! ones only more of the JSON `arguments` text, under the same `index`.

use std::collections::BTreeMap;

use super::ToolCall;

/// One streamed fragment, as it came (`delta.tool_calls[i]`).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ToolCallFragment {
    pub index: Option<u32>,
    pub id: Option<String>,
    pub name: Option<String>,
    pub arguments: Option<String>,
}

#[derive(Debug, Default)]
struct Partial {
    id: String,
    name: String,
    arguments: String,
}

/// Merges fragments by `index`; finished calls come out in index order.
#[derive(Debug, Default)]
pub(crate) struct ToolCallMerger {
    calls: BTreeMap<u32, Partial>,
    last_index: Option<u32>,
}

impl ToolCallMerger {
    pub fn push(&mut self, fragment: ToolCallFragment) {
        let index = self.index_of(&fragment);
        self.last_index = Some(index);
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty())
            && call.id.is_empty()
        {
            call.id = id;
        }
        if let Some(name) = fragment.name.filter(|n| !n.is_empty()) {
            // OpenAI sends the name once; some servers repeat it whole in every
            // fragment, a few split it. Repeats are not appended.
            if call.name.is_empty() {
                call.name = name;
            } else if call.name != name {
                call.name.push_str(&name);
            }
        }
        if let Some(arguments) = fragment.arguments {
            call.arguments.push_str(&arguments);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The merged calls, in index order. Calls without an id get a stable one
    /// (some local servers send none), since tool results must name their call.
    pub fn finish(&mut self) -> Vec<ToolCall> {
        self.last_index = None;
        std::mem::take(&mut self.calls)
            .into_iter()
            .filter(|(_, call)| !call.name.is_empty())
            .map(|(index, call)| ToolCall {
                id: if call.id.is_empty() {
                    format!("call_{index}")
                } else {
                    call.id
                },
                name: call.name,
                arguments: if call.arguments.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    call.arguments
                },
            })
            .collect()
    }

    /// Servers that omit `index` (some "compatible" proxies) start a new call
    /// with a new id and continue the last one otherwise.
    fn index_of(&self, fragment: &ToolCallFragment) -> u32 {
        if let Some(index) = fragment.index {
            return index;
        }
        let Some(last) = self.last_index else {
            return 0;
        };
        let starts_new_call = fragment.id.as_deref().is_some_and(|id| {
            !id.is_empty() && self.calls.get(&last).is_some_and(|call| call.id != id)
        });
        if starts_new_call {
            self.calls.keys().next_back().map_or(0, |max| max + 1)
        } else {
            last
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fragment(
        index: Option<u32>,
        id: Option<&str>,
        name: Option<&str>,
        args: &str,
    ) -> ToolCallFragment {
        ToolCallFragment {
            index,
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            arguments: Some(args.to_owned()),
        }
    }

    #[test]
    fn merges_openai_style_fragments_by_index() {
        let mut merger = ToolCallMerger::default();
        merger.push(fragment(Some(0), Some("call_a"), Some("get_weather"), ""));
        merger.push(fragment(Some(1), Some("call_b"), Some("get_time"), ""));
        merger.push(fragment(Some(0), None, None, r#"{"city":"#));
        merger.push(fragment(Some(1), None, None, r#"{"tz":"UTC"}"#));
        merger.push(fragment(Some(0), None, None, r#""Paris"}"#));
        assert_eq!(
            merger.finish(),
            vec![
                ToolCall {
                    id: "call_a".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into()
                },
                ToolCall {
                    id: "call_b".into(),
                    name: "get_time".into(),
                    arguments: r#"{"tz":"UTC"}"#.into()
                },
            ]
        );
        assert!(merger.is_empty());
    }

    #[test]
    fn tolerates_repeated_names_and_ids() {
        let mut merger = ToolCallMerger::default();
        merger.push(fragment(Some(0), Some("c1"), Some("lookup"), "{\"q\":"));
        merger.push(fragment(Some(0), Some("c1"), Some("lookup"), "1}"));
        let calls = merger.finish();
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].name, "lookup");
        assert_eq!(calls[0].arguments, "{\"q\":1}");
    }

    #[test]
    fn copes_with_missing_index_and_id() {
        let mut merger = ToolCallMerger::default();
        merger.push(fragment(None, None, Some("first"), "{\"a\":"));
        merger.push(fragment(None, None, None, "1}"));
        merger.push(fragment(None, Some("x"), Some("second"), ""));
        let calls = merger.finish();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (calls[0].id.as_str(), calls[0].arguments.as_str()),
            ("call_0", "{\"a\":1}")
        );
        assert_eq!(
            (calls[1].id.as_str(), calls[1].name.as_str()),
            ("x", "second")
        );
        assert_eq!(
            calls[1].arguments, "{}",
            "no arguments means an empty object"
        );
    }
}
