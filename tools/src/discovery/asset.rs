//! A catalog entry as tools and callers see it, and the row it is read from.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::shadow_it::AppUsage;
use super::{AssetKind, Column, Sensitivity};
use crate::pii::PiiKind;

/// A catalog entry.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: Uuid,
    pub kind: AssetKind,
    /// Where it was found: `postgres:<connector>`, `files:<connector or path>`, `app_logs`.
    pub source: String,
    pub qualified_name: String,
    pub name: String,
    pub owner: Option<String>,
    pub tags: Vec<String>,
    pub sensitivity: Sensitivity,
    pub columns: Vec<Column>,
    pub pii_kinds: Vec<PiiKind>,
    pub row_estimate: Option<i64>,
    /// For an application: whether it is on the approved list.
    pub sanctioned: bool,
    pub details: Value,
    pub discovered_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A PII column, as listed in a summary.
#[derive(Debug, Clone, Serialize)]
pub struct PiiColumn {
    pub name: String,
    pub pii: Vec<PiiKind>,
}

/// An asset in a list: what it is and where its PII is, without every column.
#[derive(Debug, Clone, Serialize)]
pub struct AssetSummary {
    pub id: Uuid,
    pub kind: AssetKind,
    pub source: String,
    pub qualified_name: String,
    pub name: String,
    pub owner: Option<String>,
    pub sensitivity: Sensitivity,
    pub sanctioned: bool,
    pub pii_kinds: Vec<PiiKind>,
    pub pii_columns: Vec<PiiColumn>,
    pub column_count: usize,
    pub row_estimate: Option<i64>,
    pub tags: Vec<String>,
    /// An application's usage (users, events, spend); omitted for tables and files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<AppUsage>,
}

impl From<&Asset> for AssetSummary {
    fn from(a: &Asset) -> Self {
        AssetSummary {
            id: a.id,
            kind: a.kind,
            source: a.source.clone(),
            qualified_name: a.qualified_name.clone(),
            name: a.name.clone(),
            owner: a.owner.clone(),
            sensitivity: a.sensitivity,
            sanctioned: a.sanctioned,
            pii_kinds: a.pii_kinds.clone(),
            pii_columns: pii_columns(&a.columns),
            column_count: a.columns.len(),
            row_estimate: a.row_estimate,
            tags: a.tags.clone(),
            usage: (a.kind == AssetKind::Application)
                .then(|| serde_json::from_value(a.details.clone()).unwrap_or_default()),
        }
    }
}

fn pii_columns(columns: &[Column]) -> Vec<PiiColumn> {
    columns
        .iter()
        .filter(|c| !c.pii.is_empty())
        .map(|c| PiiColumn {
            name: c.name.clone(),
            pii: c.pii.clone(),
        })
        .collect()
}

#[derive(sqlx::FromRow)]
pub(super) struct AssetRow {
    id: Uuid,
    kind: String,
    source: String,
    qualified_name: String,
    name: String,
    owner: Option<String>,
    tags: Vec<String>,
    sensitivity: String,
    columns: Value,
    pii_kinds: Vec<String>,
    row_estimate: Option<i64>,
    sanctioned: bool,
    details: Value,
    discovered_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<AssetRow> for Asset {
    fn from(row: AssetRow) -> Self {
        let kind = serde_json::from_value(Value::String(row.kind)).unwrap_or(AssetKind::Table);
        let sensitivity = serde_json::from_value(Value::String(row.sensitivity))
            .unwrap_or(Sensitivity::Restricted);
        Asset {
            id: row.id,
            kind,
            source: row.source,
            qualified_name: row.qualified_name,
            name: row.name,
            owner: row.owner,
            tags: row.tags,
            sensitivity,
            columns: serde_json::from_value(row.columns).unwrap_or_default(),
            pii_kinds: row
                .pii_kinds
                .iter()
                .filter_map(|k| PiiKind::parse(k))
                .collect(),
            row_estimate: row.row_estimate,
            sanctioned: row.sanctioned,
            details: row.details,
            discovered_at: row.discovered_at,
            updated_at: row.updated_at,
        }
    }
}

pub(super) const ASSET_COLUMNS: &str = "id, kind, source, qualified_name, name, owner, tags, sensitivity, columns, \
     pii_kinds, row_estimate, sanctioned, details, discovered_at, updated_at";
