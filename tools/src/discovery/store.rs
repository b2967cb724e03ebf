//! Writing the catalog: assets found by a scan (upserted on tenant, source and
//! qualified name), the `discovery_runs` record, the approved applications,
//! and the `connectors` rows a scan reads its target from. Every function
//! works in a tenant transaction, so row-level security scopes it.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use std::collections::HashSet;
use uuid::Uuid;

use super::asset::{ASSET_COLUMNS, Asset, AssetRow, AssetSummary};
use super::shadow_it;
use super::target::Plan;
use super::{AssetKind, DiscoveryReport, FoundAsset, Scan};
use crate::tenant::begin_tenant;

/// Replaces the tenant's approved applications (names compared
/// case-insensitively) and re-marks the catalog's applications. Returns how
/// many names the list holds.
pub async fn set_approved_apps<S: AsRef<str>>(
    conn: &mut PgConnection,
    names: &[S],
) -> Result<usize, sqlx::Error> {
    let mut keys: Vec<String> = names
        .iter()
        .map(|n| shadow_it::app_key(n.as_ref()))
        .filter(|k| !k.is_empty())
        .collect();
    keys.sort();
    keys.dedup();
    sqlx::query("delete from approved_apps")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into approved_apps (tenant_id, name) select app_current_tenant(), unnest($1::text[])",
    )
    .bind(&keys)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update assets set
             sanctioned = exists (select 1 from approved_apps p where p.name = assets.qualified_name),
             tags = array_remove(tags, 'shadow_it')
                 || case when exists (select 1 from approved_apps p where p.name = assets.qualified_name)
                         then '{}'::text[] else '{shadow_it}'::text[] end
         where kind = 'application'",
    )
    .execute(&mut *conn)
    .await?;
    Ok(keys.len())
}

pub(crate) async fn approved_apps(conn: &mut PgConnection) -> Result<HashSet<String>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar("select name from approved_apps")
        .fetch_all(conn)
        .await?;
    Ok(names.into_iter().collect())
}

/// A `connectors` row, as discovery reads it.
pub(crate) struct ConnectorRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub config: Value,
}

/// The connector with this id, or else this name (case-insensitively).
pub(crate) async fn find_connector(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<ConnectorRow>, sqlx::Error> {
    let id = Uuid::try_parse(key.trim()).ok();
    let row: Option<(Uuid, String, String, Value)> = sqlx::query_as(
        "select id, name, kind, config from connectors
         where id = $1 or ($1::uuid is null and lower(name) = lower($2))",
    )
    .bind(id)
    .bind(key.trim())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(id, name, kind, config)| ConnectorRow {
        id,
        name,
        kind,
        config,
    }))
}

pub(crate) async fn start_run(
    pool: &PgPool,
    tenant: Uuid,
    target: &Value,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let mut tx = begin_tenant(pool, tenant).await?;
    sqlx::query(
        "insert into discovery_runs (id, tenant_id, target, status)
         values ($1, app_current_tenant(), $2, 'running')",
    )
    .bind(id)
    .bind(target)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(crate) async fn fail_run(
    pool: &PgPool,
    tenant: Uuid,
    run: Uuid,
    error: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = begin_tenant(pool, tenant).await?;
    sqlx::query(
        "update discovery_runs set status = 'failed', error = $2, finished_at = now() where id = $1",
    )
    .bind(run)
    .bind(error)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Stores every asset a scan found and closes its run, in one transaction.
pub(crate) async fn save_scan(
    pool: &PgPool,
    tenant: Uuid,
    run: Uuid,
    plan: &Plan,
    scan: Scan,
) -> Result<DiscoveryReport, sqlx::Error> {
    let mut tx = begin_tenant(pool, tenant).await?;
    let mut summaries = Vec::with_capacity(scan.assets.len());
    for found in &scan.assets {
        summaries.push(upsert(&mut tx, &plan.source, found).await?);
    }
    let pii_columns: usize = scan.assets.iter().map(FoundAsset::pii_columns).sum();
    sqlx::query(
        "update discovery_runs set status = 'succeeded', assets_found = $2, pii_columns = $3,
             error = $4, finished_at = now()
         where id = $1",
    )
    .bind(run)
    .bind(i32::try_from(scan.assets.len()).unwrap_or(i32::MAX))
    .bind(i32::try_from(pii_columns).unwrap_or(i32::MAX))
    .bind((!scan.warnings.is_empty()).then(|| scan.warnings.join("; ")))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(DiscoveryReport {
        run_id: run,
        target: plan.label.clone(),
        source: plan.source.clone(),
        assets_found: summaries.len(),
        assets_with_pii: summaries.iter().filter(|s| !s.pii_kinds.is_empty()).count(),
        pii_columns,
        unsanctioned_apps: summaries
            .iter()
            .filter(|s| s.kind == AssetKind::Application && !s.sanctioned)
            .count(),
        warnings: scan.warnings,
        assets: summaries,
    })
}

async fn upsert(
    conn: &mut PgConnection,
    source: &str,
    found: &FoundAsset,
) -> Result<AssetSummary, sqlx::Error> {
    let pii_kinds: Vec<&str> = found.pii_kinds().iter().map(|k| k.as_str()).collect();
    let columns = serde_json::to_value(&found.columns).unwrap_or(Value::Array(Vec::new()));
    let sql = format!(
        "insert into assets (id, tenant_id, kind, source, qualified_name, name, owner, tags, sensitivity,
             columns, pii_kinds, row_estimate, sanctioned, details)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         on conflict (tenant_id, source, qualified_name) do update set
             kind = excluded.kind, name = excluded.name, owner = excluded.owner, tags = excluded.tags,
             sensitivity = excluded.sensitivity, columns = excluded.columns,
             pii_kinds = excluded.pii_kinds, row_estimate = excluded.row_estimate,
             sanctioned = excluded.sanctioned, details = excluded.details, updated_at = now()
         returning {ASSET_COLUMNS}"
    );
    let row: AssetRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(Uuid::new_v4())
        .bind(found.kind.as_str())
        .bind(source)
        .bind(&found.qualified_name)
        .bind(&found.name)
        .bind(&found.owner)
        .bind(found.all_tags())
        .bind(found.sensitivity().as_str())
        .bind(columns)
        .bind(pii_kinds)
        .bind(found.row_estimate)
        .bind(found.sanctioned)
        .bind(&found.details)
        .fetch_one(conn)
        .await?;
    Ok(AssetSummary::from(&Asset::from(row)))
}
