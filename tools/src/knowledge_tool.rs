//! `search_knowledge`: hybrid search over the tenant's documents, within the
//! calling persona's scopes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::platform::ToolContext;
use crate::registry::Registry;
use crate::tool::{ReadTool, ToolError, ToolOutput};

pub(crate) fn register(registry: &mut Registry) {
    registry.add_read(SearchKnowledge);
}

pub struct SearchKnowledge;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchKnowledgeArgs {
    /// What to look for, in plain words.
    pub query: String,
    /// How many passages to return (1–20, default 5).
    #[serde(default)]
    pub limit: Option<u8>,
}

#[derive(Serialize)]
struct Passage {
    document_id: uuid::Uuid,
    chunk_id: uuid::Uuid,
    title: String,
    heading_path: Vec<String>,
    snippet: String,
    score: f64,
}

impl ReadTool for SearchKnowledge {
    type Args = SearchKnowledgeArgs;
    const NAME: &'static str = "search_knowledge";
    const DESCRIPTION: &'static str = "Search the company's documents (policies, runbooks, playbooks, glossaries) and return the most relevant passages.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let query = args.query.trim();
        if query.is_empty() || query.chars().count() > 2000 {
            return Err(ToolError::BadArgs(
                "`query` must be between 1 and 2000 characters".into(),
            ));
        }
        let limit = usize::from(args.limit.unwrap_or(5));
        if !(1..=20).contains(&limit) {
            return Err(ToolError::BadArgs(
                "`limit` must be between 1 and 20".into(),
            ));
        }
        let hits = ctx
            .platform
            .knowledge
            .search(ctx.tenant(), ctx.caller.persona, query, limit)
            .await
            .map_err(ToolError::Failed)?;
        let passages: Vec<Passage> = hits
            .into_iter()
            .map(|h| Passage {
                document_id: h.document_id,
                chunk_id: h.chunk_id,
                title: h.title,
                heading_path: h.heading_path,
                snippet: h.snippet,
                score: h.score,
            })
            .collect();
        let summary = match passages.first() {
            None => format!("no passage matches “{query}”"),
            Some(top) => format!(
                "{} passage(s) match “{query}”, best from “{}”",
                passages.len(),
                top.title
            ),
        };
        Ok(ToolOutput::new(summary, passages))
    }
}
