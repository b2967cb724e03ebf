//! SQL for mapping proposals and the mapping registry, on tenant transactions.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Where a proposal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    Approved,
    Rejected,
    /// Replaced by a newer proposal or decision for the same field.
    Superseded,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "pending",
            ProposalStatus::Approved => "approved",
            ProposalStatus::Rejected => "rejected",
            ProposalStatus::Superseded => "superseded",
        }
    }

    fn parse(raw: &str) -> ProposalStatus {
        match raw {
            "approved" => ProposalStatus::Approved,
            "rejected" => ProposalStatus::Rejected,
            "superseded" => ProposalStatus::Superseded,
            _ => ProposalStatus::Pending,
        }
    }
}

/// A proposed mapping of one source field to one canonical field.
#[derive(Debug, Clone, Serialize)]
pub struct Proposal {
    pub id: Uuid,
    pub connector_id: Uuid,
    /// The connector's name.
    pub connector: String,
    pub source_entity: String,
    pub source_field: String,
    pub source_type: String,
    pub canonical_entity: String,
    pub canonical_field: String,
    pub confidence: f32,
    /// Each part of the confidence, and what it was judged on.
    pub signals: Value,
    pub rationale: String,
    pub status: ProposalStatus,
    pub decided_by_user: Option<Uuid>,
    pub decided_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl Proposal {
    /// `connector/entity.field`, for messages.
    pub fn source_label(&self) -> String {
        format!(
            "{}/{}.{}",
            self.connector, self.source_entity, self.source_field
        )
    }

    /// `entity.field`, for messages.
    pub fn target_label(&self) -> String {
        format!("{}.{}", self.canonical_entity, self.canonical_field)
    }
}

#[derive(sqlx::FromRow)]
struct ProposalRow {
    id: Uuid,
    connector_id: Uuid,
    connector: String,
    source_entity: String,
    source_field: String,
    source_type: String,
    canonical_entity: String,
    canonical_field: String,
    confidence: f32,
    signals: Value,
    rationale: String,
    status: String,
    decided_by_user: Option<Uuid>,
    decided_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<ProposalRow> for Proposal {
    fn from(row: ProposalRow) -> Self {
        Proposal {
            id: row.id,
            connector_id: row.connector_id,
            connector: row.connector,
            source_entity: row.source_entity,
            source_field: row.source_field,
            source_type: row.source_type,
            canonical_entity: row.canonical_entity,
            canonical_field: row.canonical_field,
            confidence: row.confidence,
            signals: row.signals,
            rationale: row.rationale,
            status: ProposalStatus::parse(&row.status),
            decided_by_user: row.decided_by_user,
            decided_at: row.decided_at,
            created_at: row.created_at,
        }
    }
}

const PROPOSAL_SELECT: &str =
    "select p.id, p.connector_id, c.name as connector, p.source_entity, p.source_field,
        p.source_type, p.canonical_entity, p.canonical_field, p.confidence, p.signals, p.rationale,
        p.status, p.decided_by_user, p.decided_at, p.created_at
    from mapping_proposals p join connectors c on c.id = p.connector_id";

pub async fn get_proposal(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<Proposal>, sqlx::Error> {
    let row: Option<ProposalRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROPOSAL_SELECT} where p.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Proposal::from))
}

/// Pending proposals (of one connector, or all), most confident first.
pub async fn list_pending(
    conn: &mut PgConnection,
    connector_id: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Proposal>, sqlx::Error> {
    let rows: Vec<ProposalRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROPOSAL_SELECT} where p.status = 'pending' and ($1::uuid is null or p.connector_id = $1)
         order by p.confidence desc, p.created_at desc, p.id limit $2"
    )))
    .bind(connector_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Proposal::from).collect())
}

/// Pending proposals of one source entity.
pub(crate) async fn pending_for_entity(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
) -> Result<Vec<Proposal>, sqlx::Error> {
    let rows: Vec<ProposalRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{PROPOSAL_SELECT} where p.status = 'pending' and p.connector_id = $1 and p.source_entity = $2
         order by p.confidence desc, p.id"
    )))
    .bind(connector_id)
    .bind(entity)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Proposal::from).collect())
}

/// How many proposals wait (for one connector, or all).
pub async fn pending_count(
    conn: &mut PgConnection,
    connector_id: Option<Uuid>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from mapping_proposals where status = 'pending' and ($1::uuid is null or connector_id = $1)",
    )
        .bind(connector_id)
        .fetch_one(conn)
        .await
}

/// Whether anything (a mapping or any proposal) was ever made for a source entity.
pub(crate) async fn entity_has_history(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from mapping_registry where connector_id = $1 and source_entity = $2)
             or exists (select 1 from mapping_proposals where connector_id = $1 and source_entity = $2)",
    )
    .bind(connector_id)
    .bind(entity)
    .fetch_one(conn)
    .await
}

/// The (source field, canonical entity, canonical field) pairings of a source
/// entity that a person rejected.
pub(crate) async fn rejected_pairs(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select distinct source_field, canonical_entity, canonical_field from mapping_proposals
         where connector_id = $1 and source_entity = $2 and status = 'rejected'",
    )
    .bind(connector_id)
    .bind(entity)
    .fetch_all(conn)
    .await
}

/// A proposal about to be stored.
pub(crate) struct NewProposal {
    pub connector_id: Uuid,
    pub source_entity: String,
    pub source_field: String,
    pub source_type: String,
    pub canonical_entity: String,
    pub canonical_field: String,
    pub confidence: f32,
    pub signals: Value,
    pub rationale: String,
}

/// Stores a pending proposal, superseding the one pending for the same field.
pub(crate) async fn insert_proposal(
    conn: &mut PgConnection,
    new: &NewProposal,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query(
        "update mapping_proposals set status = 'superseded'
         where connector_id = $1 and source_entity = $2 and source_field = $3 and status = 'pending'",
    )
    .bind(new.connector_id)
    .bind(&new.source_entity)
    .bind(&new.source_field)
    .execute(&mut *conn)
    .await?;
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into mapping_proposals (id, tenant_id, connector_id, source_entity, source_field, source_type,
             canonical_entity, canonical_field, confidence, signals, rationale)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(new.connector_id)
    .bind(&new.source_entity)
    .bind(&new.source_field)
    .bind(&new.source_type)
    .bind(&new.canonical_entity)
    .bind(&new.canonical_field)
    .bind(new.confidence.clamp(0.0, 1.0))
    .bind(&new.signals)
    .bind(&new.rationale)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Supersedes the pending proposals of an entity's columns that are no
/// longer in `present` (removed or renamed away by drift).
pub(crate) async fn supersede_missing_fields(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
    present: &[String],
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update mapping_proposals set status = 'superseded', decided_at = now()
         where connector_id = $1 and source_entity = $2 and status = 'pending'
           and not (source_field = any($3))",
    )
    .bind(connector_id)
    .bind(entity)
    .bind(present)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// Moves a pending proposal to `status`; `None` when it was not pending.
pub(crate) async fn decide_proposal(
    conn: &mut PgConnection,
    id: Uuid,
    status: ProposalStatus,
    by_user: Option<Uuid>,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "update mapping_proposals set status = $2, decided_by_user = $3, decided_at = now()
         where id = $1 and status = 'pending' returning id",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(by_user)
    .fetch_optional(conn)
    .await
}

/// Supersedes the pending proposals a decision about (`entity.field` →
/// `canonical`) makes moot: others for the same source field, and others
/// from the same source entity to the same canonical field.
pub(crate) async fn supersede_related(
    conn: &mut PgConnection,
    entry: &RegistryEntry,
    except: Option<Uuid>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update mapping_proposals set status = 'superseded', decided_at = now()
         where connector_id = $1 and source_entity = $2 and status = 'pending'
           and ($6::uuid is null or id <> $6)
           and (source_field = $3 or (canonical_entity = $4 and canonical_field = $5))",
    )
    .bind(entry.connector_id)
    .bind(&entry.source_entity)
    .bind(&entry.source_field)
    .bind(&entry.canonical_entity)
    .bind(&entry.canonical_field)
    .bind(except)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// An approved mapping.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct RegistryEntry {
    pub connector_id: Uuid,
    /// The connector's name.
    pub connector: String,
    pub source_entity: String,
    pub source_field: String,
    pub canonical_entity: String,
    pub canonical_field: String,
    pub proposal_id: Option<Uuid>,
    pub approved_by_user: Option<Uuid>,
    pub approved_at: DateTime<Utc>,
}

const REGISTRY_SELECT: &str =
    "select r.connector_id, c.name as connector, r.source_entity, r.source_field,
        r.canonical_entity, r.canonical_field, r.proposal_id, r.approved_by_user, r.approved_at
    from mapping_registry r join connectors c on c.id = r.connector_id";

/// Approved mappings (of one connector, or all), in a stable order.
pub async fn list_registry(
    conn: &mut PgConnection,
    connector_id: Option<Uuid>,
) -> Result<Vec<RegistryEntry>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REGISTRY_SELECT} where $1::uuid is null or r.connector_id = $1
         order by c.name, r.source_entity, r.source_field"
    )))
    .bind(connector_id)
    .fetch_all(conn)
    .await
}

/// The approved mappings of one connector: what a sync writes.
pub async fn approved_for_connector(
    conn: &mut PgConnection,
    connector_id: Uuid,
) -> Result<Vec<RegistryEntry>, sqlx::Error> {
    list_registry(conn, Some(connector_id)).await
}

/// The approved mapping of one source entity's fields.
pub(crate) async fn registry_for_entity(
    conn: &mut PgConnection,
    connector_id: Uuid,
    entity: &str,
) -> Result<Vec<RegistryEntry>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REGISTRY_SELECT} where r.connector_id = $1 and r.source_entity = $2 order by r.source_field"
    )))
    .bind(connector_id)
    .bind(entity)
    .fetch_all(conn)
    .await
}

/// Records an approved mapping, replacing the field's previous one. Any other
/// field of the same source entity that fed the same canonical field stops
/// doing so; their names are returned.
pub(crate) async fn upsert_registry(
    conn: &mut PgConnection,
    entry: &RegistryEntry,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "insert into mapping_registry (tenant_id, connector_id, source_entity, source_field, canonical_entity,
             canonical_field, proposal_id, approved_by_user)
         values (app_current_tenant(), $1, $2, $3, $4, $5, $6, $7)
         on conflict (tenant_id, connector_id, source_entity, source_field)
         do update set canonical_entity = excluded.canonical_entity, canonical_field = excluded.canonical_field,
             proposal_id = excluded.proposal_id, approved_by_user = excluded.approved_by_user, approved_at = now()",
    )
    .bind(entry.connector_id)
    .bind(&entry.source_entity)
    .bind(&entry.source_field)
    .bind(&entry.canonical_entity)
    .bind(&entry.canonical_field)
    .bind(entry.proposal_id)
    .bind(entry.approved_by_user)
    .execute(&mut *conn)
    .await?;
    sqlx::query_scalar(
        "delete from mapping_registry
         where connector_id = $1 and source_entity = $2 and source_field <> $3
           and canonical_entity = $4 and canonical_field = $5
         returning source_field",
    )
    .bind(entry.connector_id)
    .bind(&entry.source_entity)
    .bind(&entry.source_field)
    .bind(&entry.canonical_entity)
    .bind(&entry.canonical_field)
    .fetch_all(conn)
    .await
}
