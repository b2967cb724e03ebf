//! The offline grounded composer: when no LLM is configured (or it is down),
//! the answer is written from the tool results and the best passages, in the
//! persona's order of things, with citations, and says it is offline.

use personas::{Intent, PersonaDefinition};
use serde_json::Value;
use std::collections::HashSet;

use super::events::Citation;

/// What a tool returned in this turn.
#[derive(Debug, Clone)]
pub struct ToolOutcome {
    pub name: String,
    pub ok: bool,
    pub summary: String,
    pub data: Value,
}

/// Everything the composer writes from.
pub struct Material<'a> {
    pub definition: &'a PersonaDefinition,
    pub intent: Intent,
    pub question: &'a str,
    pub citations: &'a [Citation],
    pub tools: &'a [ToolOutcome],
    /// Why the LLM was not used, when one is configured but failed.
    pub llm_unavailable: Option<&'a str>,
}

const MAX_TABLE_ROWS: usize = 8;
const MAX_TABLE_COLUMNS: usize = 5;
const MAX_PASSAGES: usize = 3;

/// The answer, in Markdown.
pub fn compose(material: &Material<'_>) -> String {
    let mut out = String::new();
    match material.intent {
        Intent::OutOfScope if material.tools.is_empty() => {
            out.push_str(
                "That is outside what I can help with. I answer questions about the company's \
                 documents and its data platform: data assets and PII, connectors and schema \
                 drift, mapping approvals, and FinOps, RevOps and Ops analyses.\n",
            );
        }
        Intent::PlatformHelp if material.tools.is_empty() => {
            out.push_str(&format!(
                "I am the {} assistant. Ask me to:\n\n\
                 - explain a policy, process or runbook from your documents (with sources);\n\
                 - find data assets, where PII lives, or unsanctioned apps (shadow IT);\n\
                 - check connector health, sync state and schema drift;\n\
                 - review, approve or reject schema-mapping proposals (approvers decide);\n\
                 - run the FinOps, RevOps or Ops agent on your data.\n",
                material.definition.title
            ));
        }
        _ => {}
    }
    for tool in material.tools {
        write_tool(&mut out, tool);
    }
    let passages = best_passages(material.question, material.citations);
    if !passages.is_empty() {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(if material.tools.is_empty() {
            "From your documents:\n\n"
        } else {
            "What your documents say:\n\n"
        });
        for (sentence, n) in passages {
            out.push_str(&format!("- {sentence} [{n}]\n"));
        }
    }
    if out.is_empty() {
        out.push_str(
            "I found nothing in your documents or platform data that answers this. Try naming \
             the system, team or period you mean.\n",
        );
    }
    out.push('\n');
    match material.llm_unavailable {
        Some(reason) => out.push_str(&format!(
            "_Offline mode: the language model is unavailable ({reason}), so this answer was \
             written directly from your data and documents._\n"
        )),
        None => out.push_str(
            "_Offline mode: no language model is configured, so this answer was written directly \
             from your data and documents._\n",
        ),
    }
    out
}

fn write_tool(out: &mut String, tool: &ToolOutcome) {
    if !tool.ok {
        out.push_str(&format!("**{}** failed: {}\n\n", tool.name, tool.summary));
        return;
    }
    out.push_str(&format!("**{}**\n\n", capitalise(&tool.summary)));
    // Agent results carry a headline and findings; lists become tables.
    if let Some(findings) = tool
        .data
        .pointer("/result/findings")
        .or_else(|| tool.data.get("findings"))
        .and_then(Value::as_array)
    {
        for finding in findings.iter().filter_map(Value::as_str).take(6) {
            out.push_str(&format!("- {finding}\n"));
        }
        out.push('\n');
        return;
    }
    if let Some(rows) = first_list(&tool.data) {
        write_table(out, rows);
    }
}

/// The data itself when it is a list, or its first field that is one.
fn first_list(data: &Value) -> Option<&Vec<Value>> {
    match data {
        Value::Array(rows) => Some(rows),
        Value::Object(map) => map
            .values()
            .find_map(|v| v.as_array().filter(|a| !a.is_empty())),
        _ => None,
    }
}

/// Keys that name a row; one of them leads the table so a reader knows what
/// each row is.
const LABEL_KEYS: &[&str] = &[
    "name",
    "app",
    "title",
    "qualified_name",
    "connector",
    "asset",
    "service",
    "vendor",
    "account",
    "team",
    "source_field",
    "entity",
];

fn write_table(out: &mut String, rows: &[Value]) {
    let Some(Value::Object(first)) = rows.first() else {
        return;
    };
    let scalar = |k: &String, v: &Value| !v.is_object() && !v.is_array() && !k.ends_with("id");
    let mut columns: Vec<&String> = LABEL_KEYS
        .iter()
        .filter_map(|label| first.get_key_value(*label))
        .filter(|(k, v)| scalar(k, v))
        .map(|(k, _)| k)
        .take(1)
        .collect();
    let rest: Vec<&String> = first
        .iter()
        .filter(|(k, v)| scalar(k, v) && !columns.contains(k))
        .map(|(k, _)| k)
        .collect();
    columns.extend(rest);
    columns.truncate(MAX_TABLE_COLUMNS);
    if columns.is_empty() {
        return;
    }
    out.push_str(&format!(
        "| {} |\n|{}\n",
        columns
            .iter()
            .map(|c| c.replace('_', " "))
            .collect::<Vec<_>>()
            .join(" | "),
        " --- |".repeat(columns.len())
    ));
    for row in rows.iter().take(MAX_TABLE_ROWS) {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| cell(row.get(c.as_str()).unwrap_or(&Value::Null)))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    if rows.len() > MAX_TABLE_ROWS {
        out.push_str(&format!("\n…and {} more.\n", rows.len() - MAX_TABLE_ROWS));
    }
    out.push('\n');
}

fn cell(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => s.replace('|', "/"),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn words(text: &str) -> HashSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// The sentences of a passage: split after `.`, `!` or `?` followed by a
/// space or the end (so "USD 1.2 million" stays whole), and at line breaks.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let ends = match b {
            b'\n' => true,
            b'.' | b'!' | b'?' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if ends {
            out.push(text[start..=i].trim());
            start = i + 1;
        }
    }
    out.push(text[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// The sentence of each top passage that shares the most words with the
/// question, with its citation number.
fn best_passages(question: &str, citations: &[Citation]) -> Vec<(String, usize)> {
    let asked = words(question);
    citations
        .iter()
        .take(MAX_PASSAGES)
        .filter_map(|c| {
            let best = sentences(&c.snippet)
                .into_iter()
                .filter(|s| s.len() > 20)
                .max_by_key(|s| words(s).intersection(&asked).count())?;
            Some((
                best.trim_start_matches(['#', '-', '*', ' ']).to_owned(),
                c.n,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::events::CitationScores;
    use personas::{Persona, PersonaSet};
    use uuid::Uuid;

    fn definition() -> PersonaDefinition {
        PersonaSet::builtin()
            .map(|s| s.get(Persona::Cfo).clone())
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn citation(n: usize, snippet: &str) -> Citation {
        Citation {
            n,
            document_id: Uuid::nil(),
            chunk_id: Uuid::nil(),
            title: "Cloud policy".into(),
            snippet: snippet.into(),
            score: 0.5,
            scores: CitationScores {
                vector_rank: Some(1),
                lexical_rank: None,
                fused: 0.5,
                vector_similarity: Some(0.7),
                bm25: None,
            },
        }
    }

    #[test]
    fn answers_cite_the_passages_they_use_and_say_they_are_offline() {
        let d = definition();
        let citations = [citation(
            1,
            "Budgets are set monthly. An anomaly is a day whose spend exceeds the trailing 14-day average by more than 30%.",
        )];
        let text = compose(&Material {
            definition: &d,
            intent: Intent::KnowledgeQuery,
            question: "what counts as a spend anomaly?",
            citations: &citations,
            tools: &[],
            llm_unavailable: None,
        });
        assert!(
            text.contains("trailing 14-day average by more than 30%. [1]"),
            "{text}"
        );
        assert!(text.contains("Offline mode"), "{text}");
    }

    #[test]
    fn sentences_keep_decimals_whole() {
        assert_eq!(
            sentences("The budget is USD 1.2 million. Next one! Last"),
            vec!["The budget is USD 1.2 million.", "Next one!", "Last"]
        );
    }

    #[test]
    fn a_label_column_leads_the_table() {
        let rows = serde_json::json!([{"events": 3, "expense_reports": 1, "failed": 0,
            "first_seen": "x", "last_seen": "y", "name": "Notion"}]);
        let mut table = String::new();
        write_table(&mut table, rows.as_array().map_or(&[][..], Vec::as_slice));
        assert!(table.starts_with("| name | events |"), "{table}");
    }

    #[test]
    fn tool_lists_become_tables() {
        let d = definition();
        let tools = [ToolOutcome {
            name: "list_shadow_it".into(),
            ok: true,
            summary: "2 unsanctioned apps".into(),
            data: serde_json::json!({"apps": [{"name": "Notion", "users": 8}, {"name": "Dropbox", "users": 6}]}),
        }];
        let text = compose(&Material {
            definition: &d,
            intent: Intent::AssetDiscovery,
            question: "shadow it?",
            citations: &[],
            tools: &tools,
            llm_unavailable: Some("timeout"),
        });
        assert!(text.contains("| name | users |"), "{text}");
        assert!(text.contains("| Notion | 8 |"), "{text}");
        assert!(text.contains("unavailable (timeout)"), "{text}");
    }
}
