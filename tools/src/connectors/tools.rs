//! The connector tools: `list_connectors`, `connector_health`,
//! `schema_drift_report` (read) and `trigger_sync` (an action: an approver
//! decides before a sync is queued).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;

use super::drift::describe_all;
use super::runs;
use super::store::{self, Connector, ConnectorStatus};
use super::{check_health, queue_sync, require_named};
use crate::approvals::Approved;
use crate::mapping;
use crate::platform::ToolContext;
use crate::registry::Registry;
use crate::role::Role;
use crate::tool::{ActionTool, ReadTool, ToolError, ToolOutput};

pub(crate) fn register(registry: &mut Registry) {
    registry.add_read(ListConnectors);
    registry.add_read(ConnectorHealth);
    registry.add_read(SchemaDriftReport);
    registry.add_action(TriggerSync);
}

pub struct ListConnectors;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListConnectorsArgs {}

impl ReadTool for ListConnectors {
    type Args = ListConnectorsArgs;
    const NAME: &'static str = "list_connectors";
    const DESCRIPTION: &'static str = "List the data connectors (PostgreSQL, Supabase, file folders) with their status (healthy, failing, drifted), last health check, last sync and its outcome.";

    async fn run(&self, ctx: &ToolContext, _args: Self::Args) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let connectors = store::list(&mut tx).await?;
        let mut items = Vec::with_capacity(connectors.len());
        for c in &connectors {
            let last_run = runs::list_runs(&mut tx, c.id, 1).await?.into_iter().next();
            items.push(json!({
                "id": c.id,
                "name": c.name,
                "kind": c.kind,
                "status": c.status,
                "status_detail": c.status_detail,
                "last_health_at": c.last_health_at,
                "last_sync_at": c.last_sync_at,
                "last_run": last_run.map(|r| json!({
                    "id": r.id, "status": r.status, "rows_read": r.rows_read,
                    "rows_written": r.rows_written, "finished_at": r.finished_at,
                })),
                "config": c.config,
            }));
        }
        Ok(ToolOutput::new(
            summarise(&connectors),
            json!({"connectors": items}),
        ))
    }
}

/// "3 connector(s): 1 healthy, 1 drifted, 1 failing; demo-files drifted (…); billing failing (…)".
fn summarise(connectors: &[Connector]) -> String {
    if connectors.is_empty() {
        return "no connectors are configured".into();
    }
    let mut counts: HashMap<ConnectorStatus, usize> = HashMap::new();
    for c in connectors {
        *counts.entry(c.status).or_default() += 1;
    }
    let tally: Vec<String> = [
        ConnectorStatus::Healthy,
        ConnectorStatus::Drifted,
        ConnectorStatus::Failing,
        ConnectorStatus::Unknown,
    ]
    .iter()
    .filter_map(|s| counts.get(s).map(|n| format!("{n} {}", s.as_str())))
    .collect();
    let troubled: Vec<String> = connectors
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                ConnectorStatus::Drifted | ConnectorStatus::Failing
            )
        })
        .map(|c| {
            format!(
                "{} {} ({})",
                c.name,
                c.status.as_str(),
                c.status_detail.as_deref().unwrap_or("no detail")
            )
        })
        .collect();
    let mut line = format!("{} connector(s): {}", connectors.len(), tally.join(", "));
    if !troubled.is_empty() {
        line.push_str("; ");
        line.push_str(&troubled.join("; "));
    }
    line
}

pub struct ConnectorHealth;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorArgs {
    /// The connector's name or id.
    pub connector: String,
}

impl ReadTool for ConnectorHealth {
    type Args = ConnectorArgs;
    const NAME: &'static str = "connector_health";
    const DESCRIPTION: &'static str = "Check a connector's health now: connect to its source (5 s limit) and report whether it is reachable, why not (bad password, unreachable host), and any schema drift.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let connector = {
            let mut tx = ctx.tx().await?;
            require_named(&mut tx, &args.connector).await?
        };
        let health = check_health(&ctx.platform, ctx.tenant(), connector.id).await?;
        let c = &health.connector;
        let summary = match (health.ok, c.status) {
            (false, _) => format!("`{}` ({}) is failing: {}", c.name, c.kind, health.detail),
            (true, ConnectorStatus::Drifted) => format!(
                "`{}` ({}) is reachable ({}) but drifted: {}",
                c.name,
                c.kind,
                health.detail,
                c.status_detail.as_deref().unwrap_or("schema changed")
            ),
            (true, _) => format!("`{}` ({}) is healthy: {}", c.name, c.kind, health.detail),
        };
        Ok(ToolOutput::new(summary, &health))
    }
}

pub struct SchemaDriftReport;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaDriftReportArgs {
    /// Only this connector (its name or id); all connectors when absent.
    #[serde(default)]
    pub connector: Option<String>,
}

impl ReadTool for SchemaDriftReport {
    type Args = SchemaDriftReportArgs;
    const NAME: &'static str = "schema_drift_report";
    const DESCRIPTION: &'static str = "Report schema drift: for each source table or file, the latest change seen (columns added, removed, renamed, retyped) and when, optionally for one connector.";

    async fn run(&self, ctx: &ToolContext, args: Self::Args) -> Result<ToolOutput, ToolError> {
        let mut tx = ctx.tx().await?;
        let only = match args.connector.as_deref() {
            Some(name) => Some(require_named(&mut tx, name).await?),
            None => None,
        };
        let names: HashMap<uuid::Uuid, String> = store::list(&mut tx)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        let drifts = store::latest_drifts(&mut tx, only.as_ref().map(|c| c.id)).await?;
        let observed = store::observed_entities(&mut tx, only.as_ref().map(|c| c.id)).await?;
        let mut items = Vec::with_capacity(drifts.len());
        let mut lines = Vec::with_capacity(drifts.len());
        for d in &drifts {
            let connector = names.get(&d.connector_id).cloned().unwrap_or_default();
            let latest = store::latest_fingerprint(&mut tx, d.connector_id, &d.entity).await?;
            let pending = mapping::list_pending(&mut tx, Some(d.connector_id), 500)
                .await?
                .into_iter()
                .filter(|p| p.source_entity == d.entity)
                .count();
            lines.push(format!(
                "{connector}/{} ({})",
                d.entity,
                describe_all(&d.changes)
            ));
            items.push(json!({
                "connector": connector,
                "connector_id": d.connector_id,
                "entity": d.entity,
                "observed_at": d.observed_at,
                "changes": d.changes,
                "current": latest.is_some_and(|l| l.id == d.id),
                "pending_proposals": pending,
            }));
        }
        let scope = only
            .as_ref()
            .map_or_else(String::new, |c| format!(" of `{}`", c.name));
        let summary = if drifts.is_empty() {
            format!("no schema drift across {observed} observed entit(ies){scope}")
        } else {
            format!(
                "{} of {observed} observed entit(ies){scope} drifted: {}",
                drifts.len(),
                lines.join("; ")
            )
        };
        Ok(ToolOutput::new(
            summary,
            json!({"observed_entities": observed, "drift": items}),
        ))
    }
}

pub struct TriggerSync;

impl ActionTool for TriggerSync {
    type Args = ConnectorArgs;
    const NAME: &'static str = "trigger_sync";
    const DESCRIPTION: &'static str = "Start a sync of a connector: re-check its schema for drift and write its rows into canonical records through the approved mappings (needs an approver's decision).";
    const MIN_ROLE: Role = Role::Analyst;
    const DECIDE_ROLE: Role = Role::Approver;

    async fn prepare(&self, ctx: &ToolContext, args: &Self::Args) -> Result<String, ToolError> {
        let mut tx = ctx.tx().await?;
        let c = require_named(&mut tx, &args.connector).await?;
        let mappings = mapping::approved_for_connector(&mut tx, c.id).await?;
        let mut entities: Vec<&str> = mappings.iter().map(|m| m.source_entity.as_str()).collect();
        entities.dedup();
        let what = if mappings.is_empty() {
            "no approved mappings yet, so it only re-checks the schema".to_owned()
        } else {
            format!(
                "{} source entit(ies) through {} approved field mapping(s)",
                entities.len(),
                mappings.len()
            )
        };
        let status = match c.status {
            ConnectorStatus::Failing | ConnectorStatus::Drifted => format!(
                "; it is {} ({})",
                c.status.as_str(),
                c.status_detail.as_deref().unwrap_or("no detail")
            ),
            _ => String::new(),
        };
        Ok(format!("sync `{}` ({}): {what}{status}", c.name, c.kind))
    }

    async fn execute(
        &self,
        ctx: &ToolContext,
        args: Self::Args,
        approval: &Approved,
    ) -> Result<ToolOutput, ToolError> {
        let connector = {
            let mut tx = ctx.tx().await?;
            require_named(&mut tx, &args.connector).await?
        };
        let run = queue_sync(
            &ctx.platform,
            ctx.tenant(),
            connector.id,
            Some(approval.id()),
        )
        .await?;
        Ok(ToolOutput::new(
            format!("queued sync run {} for `{}`", run.id, connector.name),
            json!({"run_id": run.id, "connector_id": connector.id, "connector": connector.name, "status": run.status}),
        ))
    }
}
