//! The mapping tools: `list_pending_mappings`, `explain_mapping` (read), and
//! `approve_mapping`, `reject_mapping` (actions: an approver decides).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::store::{self, Proposal};
use super::{approve, explain, reject, require_pending};
use crate::approvals::Approved;
use crate::connectors;
use crate::platform::ToolContext;
use crate::registry::Registry;
use crate::role::Role;
use crate::tool::{ActionTool, ReadTool, ToolError, ToolOutput};

pub(crate) fn register(registry: &mut Registry) {
    registry.add_read(ListPendingMappings);
    registry.add_read(ExplainMapping);
    registry.add_action(ApproveMapping);
    registry.add_action(RejectMapping);
}

pub struct ListPendingMappings;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPendingMappingsArgs {
    /// Only this connector's proposals (its name or id).
    #[serde(default)]
    pub connector: Option<String>,
    /// How many to return, most confident first (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

impl ReadTool for ListPendingMappings {
    type Args = ListPendingMappingsArgs;
    const NAME: &'static str = "list_pending_mappings";
    const DESCRIPTION: &'static str = "List schema-mapping proposals waiting for a decision (source field → canonical field, with confidence and rationale), optionally for one connector.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let limit = args.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ToolError::BadArgs(
                "`limit` must be between 1 and 100".into(),
            ));
        }
        let mut tx = ctx.tx().await?;
        let connector = match args.connector.as_deref() {
            Some(name) => Some(connectors::require_named(&mut tx, name).await?),
            None => None,
        };
        let connector_id = connector.as_ref().map(|c| c.id);
        let proposals = store::list_pending(&mut tx, connector_id, i64::from(limit)).await?;
        let total = store::pending_count(&mut tx, connector_id).await?;
        let scope = connector
            .as_ref()
            .map_or_else(String::new, |c| format!(" for `{}`", c.name));
        let summary = match proposals.first() {
            None => format!("no mapping proposals waiting{scope}"),
            Some(top) => {
                let low = proposals.iter().filter(|p| p.confidence < 0.6).count();
                format!(
                    "{total} mapping proposal(s) waiting{scope}{}; most confident: {} → {} ({:.2}){}",
                    if i64::try_from(proposals.len()).unwrap_or(i64::MAX) < total {
                        format!(", showing {}", proposals.len())
                    } else {
                        String::new()
                    },
                    top.source_label(),
                    top.target_label(),
                    top.confidence,
                    if low > 0 {
                        format!("; {low} below 0.60 confidence")
                    } else {
                        String::new()
                    },
                )
            }
        };
        let items: Vec<_> = proposals.iter().map(brief).collect();
        Ok(ToolOutput::new(
            summary,
            json!({"total": total, "proposals": items}),
        ))
    }
}

fn brief(p: &Proposal) -> serde_json::Value {
    json!({
        "id": p.id,
        "connector": p.connector,
        "connector_id": p.connector_id,
        "source_entity": p.source_entity,
        "source_field": p.source_field,
        "source_type": p.source_type,
        "canonical_entity": p.canonical_entity,
        "canonical_field": p.canonical_field,
        "confidence": p.confidence,
        "rationale": p.rationale,
        "created_at": p.created_at,
    })
}

pub struct ExplainMapping;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalArgs {
    /// The mapping proposal's id.
    pub proposal_id: Uuid,
}

impl ReadTool for ExplainMapping {
    type Args = ProposalArgs;
    const NAME: &'static str = "explain_mapping";
    const DESCRIPTION: &'static str = "Explain a schema-mapping proposal: the confidence and each signal behind it (name similarity, type compatibility, value profile), the rationale, and sample source values.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let explanation = explain(&mut tx, args.proposal_id).await?;
        let p = &explanation.proposal;
        let samples = if explanation.samples.is_empty() {
            String::new()
        } else {
            format!(
                "; sample values: {}",
                explanation
                    .samples
                    .iter()
                    .take(3)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let summary = format!(
            "{} (confidence {:.2}, {}){samples}",
            p.rationale,
            p.confidence,
            p.status.as_str()
        );
        Ok(ToolOutput::new(summary, &explanation))
    }
}

pub struct ApproveMapping;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveMappingArgs {
    /// The mapping proposal's id.
    pub proposal_id: Uuid,
}

impl ActionTool for ApproveMapping {
    type Args = ApproveMappingArgs;
    const NAME: &'static str = "approve_mapping";
    const DESCRIPTION: &'static str = "Approve a schema-mapping proposal so syncs write the source field into the canonical field (needs an approver's decision).";
    const MIN_ROLE: Role = Role::Analyst;
    const DECIDE_ROLE: Role = Role::Approver;

    async fn prepare(&self, ctx: &ToolContext, args: &Self::Args) -> Result<String, ToolError> {
        let mut tx = ctx.tx().await?;
        let p = require_pending(&mut tx, args.proposal_id).await?;
        Ok(format!(
            "approve mapping {} → {} (confidence {:.2})",
            p.source_label(),
            p.target_label(),
            p.confidence
        ))
    }

    async fn execute(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
        approval: &Approved,
    ) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let decided = approve(&mut tx, args.proposal_id, approval.by()).await?;
        tx.commit().await?;
        let p = &decided.proposal;
        let mut summary = format!(
            "mapped {} → {}; the next sync writes it",
            p.source_label(),
            p.target_label()
        );
        if !decided.replaced.is_empty() {
            summary.push_str(&format!("; replaces {}", decided.replaced.join(", ")));
        }
        if decided.superseded > 0 {
            summary.push_str(&format!(
                "; {} other proposal(s) superseded",
                decided.superseded
            ));
        }
        if decided.drift_resolved {
            summary.push_str(&format!("; `{}` is healthy again", p.connector));
        }
        Ok(ToolOutput::new(summary, &decided))
    }
}

pub struct RejectMapping;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectMappingArgs {
    /// The mapping proposal's id.
    pub proposal_id: Uuid,
    /// Why, for the audit log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ActionTool for RejectMapping {
    type Args = RejectMappingArgs;
    const NAME: &'static str = "reject_mapping";
    const DESCRIPTION: &'static str = "Reject a schema-mapping proposal so the source field is not written into that canonical field (needs an approver's decision).";
    const MIN_ROLE: Role = Role::Analyst;
    const DECIDE_ROLE: Role = Role::Approver;

    async fn prepare(&self, ctx: &ToolContext, args: &Self::Args) -> Result<String, ToolError> {
        if args
            .reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > 1000)
        {
            return Err(ToolError::BadArgs(
                "`reason` must be at most 1000 characters".into(),
            ));
        }
        let mut tx = ctx.tx().await?;
        let p = require_pending(&mut tx, args.proposal_id).await?;
        Ok(format!(
            "reject mapping {} → {} (confidence {:.2})",
            p.source_label(),
            p.target_label(),
            p.confidence
        ))
    }

    async fn execute(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
        approval: &Approved,
    ) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let decided = reject(
            &mut tx,
            args.proposal_id,
            approval.by(),
            args.reason.as_deref(),
        )
        .await?;
        tx.commit().await?;
        let p = &decided.proposal;
        let mut summary = format!(
            "rejected mapping {} → {}",
            p.source_label(),
            p.target_label()
        );
        if decided.drift_resolved {
            summary.push_str(&format!("; `{}` is healthy again", p.connector));
        }
        Ok(ToolOutput::new(summary, &decided))
    }
}
