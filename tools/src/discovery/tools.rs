//! The discovery tools: `search_assets`, `get_asset`, `list_shadow_it` (read)
//! and `run_discovery` (a side effect, so it waits for an approval).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

use super::asset::AssetSummary;
use super::search::{self, AssetQuery};
use super::{AssetKind, DiscoveryTarget, Sensitivity, counted};
use crate::approvals::Approved;
use crate::platform::ToolContext;
use crate::role::Role;
use crate::tool::{ActionTool, ReadTool, ToolError, ToolOutput};

const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 100;

fn limit(requested: Option<u32>) -> Result<i64, ToolError> {
    match requested.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(i64::from(n)),
        n => Err(ToolError::BadArgs(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {n}"
        ))),
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchAssetsArgs {
    /// Words to look for in asset names, tags, PII kinds and column names,
    /// e.g. "customers email" or "card_number".
    #[serde(default)]
    pub query: Option<String>,
    /// Only assets of this kind.
    #[serde(default)]
    pub kind: Option<AssetKind>,
    /// Only assets of this sensitivity.
    #[serde(default)]
    pub sensitivity: Option<Sensitivity>,
    /// Only assets holding PII.
    #[serde(default)]
    pub pii_only: bool,
    /// At most this many results (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

pub(crate) struct SearchAssets;

impl ReadTool for SearchAssets {
    type Args = SearchAssetsArgs;
    const NAME: &'static str = "search_assets";
    const DESCRIPTION: &'static str = "Search the data catalog (tables, files and applications found by discovery) by name, tag, PII kind or column name; shows where PII lives and how sensitive each asset is.";

    async fn run(
        &self,
        ctx: &ToolContext,
        args: SearchAssetsArgs,
    ) -> Result<ToolOutput, ToolError> {
        let query = AssetQuery {
            text: args.query.clone().filter(|q| !q.trim().is_empty()),
            kind: args.kind,
            sensitivity: args.sensitivity,
            pii_only: args.pii_only,
            sanctioned: None,
            limit: limit(args.limit)?,
        };
        let mut tx = ctx.tx().await?;
        let (assets, total) = search::search_assets(&mut tx, &query).await?;
        tx.commit().await?;
        let summary = if assets.is_empty() {
            format!(
                "No {} in the catalog; a discovery scan (run_discovery) fills it",
                describe_query(&query, 0)
            )
        } else {
            let listed: Vec<String> = assets.iter().take(3).map(describe_brief).collect();
            let more = usize::try_from(total).unwrap_or(0).saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "{}: {}{more}",
                describe_query(&query, total),
                listed.join("; ")
            )
        };
        Ok(ToolOutput::new(
            summary,
            json!({"total": total, "assets": assets}),
        ))
    }
}

/// "3 restricted tables holding PII matching “crm”"; `count` 0 leaves the number out.
fn describe_query(query: &AssetQuery, count: i64) -> String {
    let noun = query.kind.map_or("asset", AssetKind::as_str);
    let noun = match query.sensitivity {
        Some(s) => format!("{} {noun}", s.as_str()),
        None => noun.to_owned(),
    };
    let mut line = if count == 0 {
        format!("{noun}s")
    } else {
        counted(count, &noun)
    };
    if query.pii_only {
        line.push_str(" holding PII");
    }
    if let Some(text) = &query.text {
        line.push_str(&format!(" matching “{}”", text.trim()));
    }
    line
}

/// "crm.accounts (table, restricted: email, phone)"; an application by its name.
fn describe_brief(asset: &AssetSummary) -> String {
    let pii: Vec<&str> = asset.pii_kinds.iter().map(|k| k.as_str()).collect();
    let name = match asset.kind {
        AssetKind::Application => &asset.name,
        _ => &asset.qualified_name,
    };
    let mut line = format!(
        "{} ({}, {}",
        name,
        asset.kind.as_str(),
        asset.sensitivity.as_str()
    );
    if !pii.is_empty() {
        line.push_str(&format!(": {}", pii.join(", ")));
    }
    if asset.kind == AssetKind::Application && !asset.sanctioned {
        line.push_str(", unsanctioned");
    }
    line.push(')');
    line
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetAssetArgs {
    /// The asset's id, qualified name ("crm.accounts", "tickets.csv") or name.
    pub asset: String,
    /// The source to pick when the name exists in several, e.g. "postgres:crm".
    #[serde(default)]
    pub source: Option<String>,
}

pub(crate) struct GetAsset;

impl ReadTool for GetAsset {
    type Args = GetAssetArgs;
    const NAME: &'static str = "get_asset";
    const DESCRIPTION: &'static str = "Show one catalog asset: its columns and types, which columns hold PII, owner, sensitivity, row count and source.";

    async fn run(&self, ctx: &ToolContext, args: GetAssetArgs) -> Result<ToolOutput, ToolError> {
        let key = args.asset.trim();
        let mut tx = ctx.tx().await?;
        let mut found = match Uuid::try_parse(key) {
            Ok(id) => search::get_asset(&mut tx, id).await?.into_iter().collect(),
            Err(_) => search::find_assets_by_name(&mut tx, key, args.source.as_deref()).await?,
        };
        tx.commit().await?;
        if found.is_empty() {
            return Err(ToolError::NotFound(format!(
                "no asset `{key}` in the catalog"
            )));
        }
        let asset = found.remove(0);
        let also_in: Vec<String> = found.iter().map(|a| a.source.clone()).collect();
        let pii: Vec<String> = asset
            .columns
            .iter()
            .filter(|c| !c.pii.is_empty())
            .map(|c| {
                let kinds: Vec<&str> = c.pii.iter().map(|k| k.as_str()).collect();
                format!("{} ({})", c.name, kinds.join(", "))
            })
            .collect();
        let mut summary = format!(
            "{} ({} from {}): {} columns",
            asset.qualified_name,
            asset.kind.as_str(),
            asset.source,
            asset.columns.len()
        );
        if let Some(rows) = asset.row_estimate {
            summary.push_str(&format!(", {} rows", thousands(rows)));
        }
        summary.push_str(&format!(", {}", asset.sensitivity.as_str()));
        if !pii.is_empty() {
            summary.push_str(&format!("; PII in {}", pii.join(", ")));
        }
        if asset.kind == AssetKind::Application {
            summary.push_str(if asset.sanctioned {
                "; approved"
            } else {
                "; not on the approved list"
            });
        }
        if let Some(owner) = &asset.owner {
            summary.push_str(&format!("; owner {owner}"));
        }
        if !also_in.is_empty() {
            summary.push_str(&format!("; also found in {}", also_in.join(", ")));
        }
        Ok(ToolOutput::new(
            summary,
            json!({"asset": asset, "also_in": also_in}),
        ))
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListShadowItArgs {
    /// At most this many applications (1–100, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

pub(crate) struct ListShadowIt;

impl ReadTool for ListShadowIt {
    type Args = ListShadowItArgs;
    const NAME: &'static str = "list_shadow_it";
    const DESCRIPTION: &'static str = "List shadow IT: applications seen in SSO sign-ins or expense reports that are not on the approved list, most used first, with users and spend.";

    async fn run(
        &self,
        ctx: &ToolContext,
        args: ListShadowItArgs,
    ) -> Result<ToolOutput, ToolError> {
        let limit = limit(args.limit)?;
        let mut tx = ctx.tx().await?;
        let (apps, total) = search::list_shadow_it(&mut tx, limit).await?;
        tx.commit().await?;
        let spend: f64 = apps.iter().map(|a| a.usage.spend_usd).sum();
        let summary = if apps.is_empty() {
            "No unsanctioned applications found (run_discovery on the SSO and expense logs finds them)".to_owned()
        } else {
            let listed: Vec<String> = apps
                .iter()
                .take(3)
                .map(|a| {
                    let mut usage = counted(a.usage.users, "user");
                    if a.usage.spend_usd > 0.0 {
                        usage.push_str(&format!(", {} spend", dollars(a.usage.spend_usd)));
                    }
                    format!("{} ({usage})", a.name)
                })
                .collect();
            let more = usize::try_from(total).unwrap_or(0).saturating_sub(3);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "{}, {} expensed in all: {}{more}",
                counted(total, "unsanctioned application"),
                dollars(spend),
                listed.join(", ")
            )
        };
        Ok(ToolOutput::new(
            summary,
            json!({"total": total, "spend_usd": (spend * 100.0).round() / 100.0, "applications": apps}),
        ))
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDiscoveryArgs {
    /// A connector to scan (PostgreSQL, Supabase or file source), by name or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector: Option<String>,
    /// A folder (or one file) of CSV/JSON files to scan, inside the allowed file roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files_path: Option<String>,
    /// An SSO sign-in log (CSV: timestamp,user_email,app,result) to check for shadow IT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_log_path: Option<String>,
    /// An expense export (CSV: date,employee_email,vendor,amount_usd,category) to check for shadow IT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expenses_path: Option<String>,
}

impl RunDiscoveryArgs {
    fn target(&self) -> Result<DiscoveryTarget, ToolError> {
        let logs = self.sso_log_path.is_some() || self.expenses_path.is_some();
        match (&self.connector, &self.files_path, logs) {
            (Some(connector), None, false) => Ok(DiscoveryTarget::Connector {
                connector: connector.clone(),
            }),
            (None, Some(path), false) => Ok(DiscoveryTarget::Files { path: path.clone() }),
            (None, None, true) => Ok(DiscoveryTarget::AppLogs {
                sso_log: self.sso_log_path.clone(),
                expenses: self.expenses_path.clone(),
            }),
            _ => Err(ToolError::BadArgs(
                "give exactly one target: `connector`, `files_path`, or `sso_log_path`/`expenses_path`"
                    .into(),
            )),
        }
    }
}

pub(crate) struct RunDiscovery;

impl ActionTool for RunDiscovery {
    type Args = RunDiscoveryArgs;
    const NAME: &'static str = "run_discovery";
    const DESCRIPTION: &'static str = "Scan a connector's database or files, a folder of CSV/JSON files, or SSO/expense logs into the asset catalog, tagging PII and shadow IT. Needs an approval.";
    const MIN_ROLE: Role = Role::Analyst;
    const DECIDE_ROLE: Role = Role::Approver;
    const TIMEOUT: Duration = Duration::from_secs(120);

    async fn prepare(
        &self,
        ctx: &ToolContext,
        args: &RunDiscoveryArgs,
    ) -> Result<String, ToolError> {
        let target = args.target()?;
        Ok(super::describe(&ctx.platform, ctx.tenant(), &target).await?)
    }

    async fn execute(
        &self,
        ctx: &ToolContext,
        args: RunDiscoveryArgs,
        _approval: &Approved,
    ) -> Result<ToolOutput, ToolError> {
        let target = args.target()?;
        let report = super::discover(&ctx.platform, ctx.tenant(), &target).await?;
        Ok(ToolOutput::new(report.summary(), report))
    }
}

/// 1234567 → "1,234,567".
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// 1234.5 → "$1,235".
fn dollars(amount: f64) -> String {
    format!("${}", thousands(amount.round() as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(-1200), "-1,200");
        assert_eq!(dollars(1234.5), "$1,235");
    }

    #[test]
    fn run_discovery_needs_exactly_one_target() {
        let none = RunDiscoveryArgs::default();
        assert!(matches!(none.target(), Err(ToolError::BadArgs(_))));
        let two = RunDiscoveryArgs {
            connector: Some("crm".into()),
            files_path: Some("/x".into()),
            ..RunDiscoveryArgs::default()
        };
        assert!(matches!(two.target(), Err(ToolError::BadArgs(_))));
        let logs = RunDiscoveryArgs {
            expenses_path: Some("/x/e.csv".into()),
            ..RunDiscoveryArgs::default()
        };
        assert_eq!(
            logs.target().ok(),
            Some(DiscoveryTarget::AppLogs {
                sso_log: None,
                expenses: Some("/x/e.csv".into())
            })
        );
    }
}
