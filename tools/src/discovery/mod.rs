//! Asset discovery (the AOD role): scans PostgreSQL databases and folders of
//! CSV/JSON files into the `assets` catalog, tagging the columns that hold PII
//! (by name and by sampled values, with the detectors in [`crate::pii`]), and
//! finds shadow IT: applications seen in SSO or expense logs that are not on
//! the tenant's approved list.
//!
//! [`discover`] is the one entry point (tools, the server and the demo seed all
//! call it): it resolves the target, records a `discovery_runs` row, scans
//! without holding a transaction open, then stores what it found at once.

mod asset;
mod file_profile;
mod files;
mod postgres;
mod search;
mod shadow_it;
mod store;
mod target;
mod tools;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::pii::PiiKind;
use crate::platform::Platform;
use crate::registry::Registry;
use crate::tool::ToolError;

pub use asset::{Asset, AssetSummary, PiiColumn};
pub use search::{
    AssetQuery, ShadowApp, find_assets_by_name, get_asset, list_shadow_it, search_assets,
};
pub use shadow_it::{AppUsage, app_key, parse_app_list};
pub use store::set_approved_apps;
pub use target::DiscoveryTarget;
pub use tools::{GetAssetArgs, ListShadowItArgs, RunDiscoveryArgs, SearchAssetsArgs};

pub(crate) fn register(registry: &mut Registry) {
    registry.add_read(tools::SearchAssets);
    registry.add_read(tools::GetAsset);
    registry.add_read(tools::ListShadowIt);
    registry.add_action(tools::RunDiscovery);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Table,
    File,
    Application,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AssetKind::Table => "table",
            AssetKind::File => "file",
            AssetKind::Application => "application",
        }
    }
}

/// Classification, per the data governance policy: any PII column makes an
/// asset `restricted`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Public,
    Internal,
    Confidential,
    Restricted,
}

impl Sensitivity {
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Confidential => "confidential",
            Sensitivity::Restricted => "restricted",
        }
    }
}

/// How a column's PII was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The column's name says so (`contact_email`).
    Name,
    /// A sizeable share of its sampled values matched a detector.
    Values,
}

/// A column of a table or file, as stored in `assets.columns`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    #[serde(default)]
    pub pii: Vec<PiiKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detected_by: Vec<Evidence>,
}

impl Column {
    /// A column with the PII its name and its sampled values show.
    pub(crate) fn classify(name: &str, data_type: &str, samples: &[String]) -> Column {
        let by_name = crate::pii::kinds_for_column_name(name);
        let by_values = crate::pii::kinds_in_values(samples);
        let mut pii: Vec<PiiKind> = by_name.iter().chain(&by_values).copied().collect();
        pii.sort();
        pii.dedup();
        let mut detected_by = Vec::new();
        if !by_name.is_empty() {
            detected_by.push(Evidence::Name);
        }
        if !by_values.is_empty() {
            detected_by.push(Evidence::Values);
        }
        Column {
            name: name.to_owned(),
            data_type: data_type.to_owned(),
            pii,
            detected_by,
        }
    }
}

/// An asset as a scan found it, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoundAsset {
    pub kind: AssetKind,
    pub qualified_name: String,
    pub name: String,
    pub owner: Option<String>,
    /// Tags other than the PII ones, which are added from the columns.
    pub tags: Vec<String>,
    pub columns: Vec<Column>,
    pub row_estimate: Option<i64>,
    pub sanctioned: bool,
    pub details: Value,
}

impl FoundAsset {
    pub fn pii_kinds(&self) -> Vec<PiiKind> {
        let mut kinds: Vec<PiiKind> = self.columns.iter().flat_map(|c| c.pii.clone()).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    pub fn pii_columns(&self) -> usize {
        self.columns.iter().filter(|c| !c.pii.is_empty()).count()
    }

    pub fn sensitivity(&self) -> Sensitivity {
        if self.pii_columns() > 0 {
            Sensitivity::Restricted
        } else {
            Sensitivity::Internal
        }
    }

    /// The tags, with `pii` and each kind added when the asset holds PII.
    pub fn all_tags(&self) -> Vec<String> {
        let kinds = self.pii_kinds();
        let pii = (!kinds.is_empty()).then_some("pii").into_iter();
        let mut tags: Vec<String> = Vec::new();
        for tag in self
            .tags
            .iter()
            .map(String::as_str)
            .chain(pii)
            .chain(kinds.iter().map(|k| k.as_str()))
        {
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        tags
    }
}

/// What a scan found, for the caller to show.
#[derive(Debug, Clone, Serialize)]
pub struct DiscoveryReport {
    pub run_id: Uuid,
    /// What was scanned, in words: "PostgreSQL connector `crm`".
    pub target: String,
    /// The `assets.source` of everything found.
    pub source: String,
    pub assets_found: usize,
    pub assets_with_pii: usize,
    pub pii_columns: usize,
    /// Applications not on the approved list (shadow-IT scans only).
    pub unsanctioned_apps: usize,
    /// Problems that did not stop the scan (ragged rows, unreadable tables).
    pub warnings: Vec<String>,
    pub assets: Vec<AssetSummary>,
}

impl DiscoveryReport {
    /// One line with the numbers, for chat answers.
    pub fn summary(&self) -> String {
        let apps = self.source == shadow_it::SOURCE;
        let noun = if apps { "application" } else { "asset" };
        let mut line = format!(
            "Scanned {}: {}",
            self.target,
            counted(self.assets_found, noun)
        );
        if apps {
            line.push_str(&format!(
                ", {} not on the approved list",
                self.unsanctioned_apps
            ));
        } else {
            line.push_str(&format!(
                ", {} holding PII ({})",
                self.assets_with_pii,
                counted(self.pii_columns, "PII column")
            ));
        }
        if !self.warnings.is_empty() {
            line.push_str(&format!(", {}", counted(self.warnings.len(), "warning")));
        }
        line
    }
}

/// "1 asset", "3 assets".
pub(crate) fn counted(n: impl std::fmt::Display, noun: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Why a discovery could not be done.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// No such connector (for this tenant).
    #[error("{0}")]
    NotFound(String),
    /// A path outside the folders file sources may read.
    #[error("{0}")]
    NotAllowed(String),
    /// The target makes no sense (a connector without a URL, a log without an app column).
    #[error("{0}")]
    BadTarget(String),
    /// The source could not be read: wrong password, unreachable host, unreadable folder.
    #[error("{0}")]
    Source(String),
    #[error("the platform database failed")]
    Database(#[from] sqlx::Error),
}

impl From<DiscoveryError> for ToolError {
    fn from(err: DiscoveryError) -> Self {
        match err {
            DiscoveryError::NotFound(m) => ToolError::NotFound(m),
            DiscoveryError::NotAllowed(m) => ToolError::Denied(m),
            DiscoveryError::BadTarget(m) => ToolError::BadArgs(m),
            DiscoveryError::Source(m) => ToolError::Failed(m),
            DiscoveryError::Database(e) => e.into(),
        }
    }
}

/// Checks `target` can be scanned for `tenant` and says, in one line, what a
/// scan will do (the approver sees it).
pub async fn describe(
    platform: &Platform,
    tenant: Uuid,
    target: &DiscoveryTarget,
) -> Result<String, DiscoveryError> {
    Ok(target::resolve(platform, tenant, target).await?.description)
}

/// Scans `target` into `tenant`'s catalog, recording the run. A failed scan
/// is recorded as failed and returned as the error; nothing found is stored.
pub async fn discover(
    platform: &Platform,
    tenant: Uuid,
    target: &DiscoveryTarget,
) -> Result<DiscoveryReport, DiscoveryError> {
    let plan = target::resolve(platform, tenant, target).await?;
    let run_id = store::start_run(&platform.pool, tenant, &plan.run_target).await?;
    match plan.scan().await {
        Ok(scan) => store::save_scan(&platform.pool, tenant, run_id, &plan, scan)
            .await
            .map_err(DiscoveryError::from),
        Err(err) => {
            tracing::warn!(error = %err, target = %plan.label, "discovery scan failed");
            store::fail_run(&platform.pool, tenant, run_id, &err.to_string()).await?;
            Err(err)
        }
    }
}

/// Assets and the problems that did not stop a scan.
pub(crate) struct Scan {
    pub assets: Vec<FoundAsset>,
    pub warnings: Vec<String>,
}
