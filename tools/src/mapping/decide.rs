//! Deciding proposals: approving one puts it in the mapping registry (what
//! syncs write through) and supersedes the proposals it makes moot; rejecting
//! one closes it. Both are audited, and once a drifted connector has no
//! proposal left waiting, it is healthy again.

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::MappingError;
use super::store::{self, Proposal, ProposalStatus, RegistryEntry};
use crate::audit::{self, Actor};
use crate::connectors::{self, ConnectorStatus};

/// What a decision did.
#[derive(Debug, Clone, Serialize)]
pub struct Decided {
    pub proposal: Proposal,
    /// Other pending proposals closed by this decision.
    pub superseded: u64,
    /// Source fields that fed the same canonical field and no longer do.
    pub replaced: Vec<String>,
    /// The connector was drifted and no longer is.
    pub drift_resolved: bool,
}

/// Approves a pending proposal, in the caller's tenant transaction.
pub async fn approve(
    conn: &mut PgConnection,
    proposal_id: Uuid,
    actor: Actor,
) -> Result<Decided, MappingError> {
    let proposal = claim(conn, proposal_id, ProposalStatus::Approved, actor).await?;
    let entry = RegistryEntry {
        connector_id: proposal.connector_id,
        connector: proposal.connector.clone(),
        source_entity: proposal.source_entity.clone(),
        source_field: proposal.source_field.clone(),
        canonical_entity: proposal.canonical_entity.clone(),
        canonical_field: proposal.canonical_field.clone(),
        proposal_id: Some(proposal.id),
        approved_by_user: actor.columns().0,
        approved_at: chrono::Utc::now(),
    };
    let replaced = store::upsert_registry(conn, &entry).await?;
    let superseded = store::supersede_related(conn, &entry, Some(proposal.id)).await?;
    audit::record(
        conn,
        actor,
        "mapping.approve",
        ("mapping_proposal", &proposal.id.to_string()),
        serde_json::json!({
            "connector": proposal.connector, "source": format!("{}.{}", proposal.source_entity, proposal.source_field),
            "canonical": proposal.target_label(), "confidence": proposal.confidence,
            "superseded": superseded, "replaced": replaced,
        }),
    )
    .await?;
    let drift_resolved = settle_drift(conn, proposal.connector_id).await?;
    Ok(Decided {
        proposal,
        superseded,
        replaced,
        drift_resolved,
    })
}

/// Rejects a pending proposal, in the caller's tenant transaction.
pub async fn reject(
    conn: &mut PgConnection,
    proposal_id: Uuid,
    actor: Actor,
    reason: Option<&str>,
) -> Result<Decided, MappingError> {
    let proposal = claim(conn, proposal_id, ProposalStatus::Rejected, actor).await?;
    audit::record(
        conn,
        actor,
        "mapping.reject",
        ("mapping_proposal", &proposal.id.to_string()),
        serde_json::json!({
            "connector": proposal.connector, "source": format!("{}.{}", proposal.source_entity, proposal.source_field),
            "canonical": proposal.target_label(), "reason": reason,
        }),
    )
    .await?;
    let drift_resolved = settle_drift(conn, proposal.connector_id).await?;
    Ok(Decided {
        proposal,
        superseded: 0,
        replaced: Vec::new(),
        drift_resolved,
    })
}

/// The proposal, if it is pending; otherwise why it cannot be decided.
pub async fn require_pending(
    conn: &mut PgConnection,
    proposal_id: Uuid,
) -> Result<Proposal, MappingError> {
    let proposal = store::get_proposal(conn, proposal_id)
        .await?
        .ok_or_else(|| {
            MappingError::NotFound(format!("there is no mapping proposal {proposal_id}"))
        })?;
    if proposal.status != ProposalStatus::Pending {
        return Err(MappingError::NotPending {
            id: proposal_id,
            status: proposal.status,
        });
    }
    Ok(proposal)
}

async fn claim(
    conn: &mut PgConnection,
    proposal_id: Uuid,
    status: ProposalStatus,
    actor: Actor,
) -> Result<Proposal, MappingError> {
    match store::decide_proposal(conn, proposal_id, status, actor.columns().0).await? {
        Some(_) => store::get_proposal(conn, proposal_id)
            .await?
            .ok_or_else(|| {
                MappingError::NotFound(format!("there is no mapping proposal {proposal_id}"))
            }),
        // Not pending: say what it is instead.
        None => Err(require_pending(conn, proposal_id).await.err().unwrap_or(
            MappingError::NotPending {
                id: proposal_id,
                status,
            },
        )),
    }
}

/// A drifted connector with no proposal left waiting is healthy again.
async fn settle_drift(conn: &mut PgConnection, connector_id: Uuid) -> Result<bool, MappingError> {
    let Some(connector) = connectors::get(conn, connector_id).await? else {
        return Ok(false);
    };
    if connector.status != ConnectorStatus::Drifted
        || store::pending_count(conn, Some(connector_id)).await? > 0
    {
        return Ok(false);
    }
    connectors::set_status(
        conn,
        connector_id,
        ConnectorStatus::Healthy,
        Some("drift resolved: every mapping proposal has been decided"),
    )
    .await?;
    Ok(true)
}
