//! Observing a source: fingerprint every entity, keep the fingerprint when the
//! shape changed, compare it with the last one, and act on drift (the
//! connector becomes `drifted`, mapping proposals are raised, every replica is
//! told). A newly seen entity gets first mapping proposals.

use serde::Serialize;
use uuid::Uuid;

use super::drift::{self, Change};
use super::fingerprint::fingerprint;
use super::source::Source;
use super::store::{self, Connector, ConnectorStatus};
use super::{ConnectorError, require};
use crate::events::PlatformEvent;
use crate::mapping;
use crate::platform::Platform;

/// What observing one entity found.
#[derive(Debug, Clone, Serialize)]
pub struct EntityScan {
    pub entity: String,
    pub columns: usize,
    /// Never observed before.
    pub first_seen: bool,
    /// Drift against the previous observation.
    pub changes: Vec<Change>,
    /// Mapping proposals raised for it.
    pub proposals_raised: usize,
}

/// Something that went wrong with one entity.
#[derive(Debug, Clone, Serialize)]
pub struct EntityError {
    pub entity: String,
    pub error: String,
}

/// What observing a whole source found.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    pub connector_id: Uuid,
    pub entities: Vec<EntityScan>,
    /// Entities that could not be read or profiled.
    pub errors: Vec<EntityError>,
    /// Entities whose mapping proposals could not be made (the embedder
    /// failed); their fingerprints were still recorded.
    pub proposal_errors: Vec<EntityError>,
}

impl ScanReport {
    pub fn drifted(&self) -> impl Iterator<Item = &EntityScan> {
        self.entities.iter().filter(|e| !e.changes.is_empty())
    }

    /// "tickets.csv: renamed a → b, added c; x.csv: removed y".
    pub fn drift_detail(&self) -> String {
        self.drifted()
            .map(|e| format!("{}: {}", e.entity, drift::describe_all(&e.changes)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Observes every entity of the connector's source now: fingerprints, drift,
/// proposals, status. An unreachable source marks the connector `failing`
/// and is returned as [`ConnectorError::Source`].
pub async fn scan(
    platform: &Platform,
    tenant: Uuid,
    connector_id: Uuid,
) -> Result<ScanReport, ConnectorError> {
    let connector = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        require(&mut tx, connector_id).await?
    };
    let mut source = match Source::open(platform, &connector).await {
        Ok(source) => source,
        Err(e) => {
            let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
            store::set_health(&mut tx, connector_id, ConnectorStatus::Failing, &e.0).await?;
            tx.commit().await?;
            return Err(ConnectorError::Source(e.0));
        }
    };
    let observed = observe_all(platform, tenant, &connector, &mut source).await;
    let detail = source.describe();
    source.close().await;
    let report = observed?;
    settle_status(platform, tenant, &connector, &report, &detail).await?;
    Ok(report)
}

/// Profiles and fingerprints every entity of an open source and raises the
/// proposals drift and new entities call for.
pub(crate) async fn observe_all(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    source: &mut Source,
) -> Result<ScanReport, ConnectorError> {
    let mut report = ScanReport {
        connector_id: connector.id,
        entities: Vec::new(),
        errors: Vec::new(),
        proposal_errors: Vec::new(),
    };
    for entity in source.entities() {
        let columns = match source.profile(&entity).await {
            Ok(columns) => columns,
            Err(e) => {
                report.errors.push(EntityError { entity, error: e.0 });
                continue;
            }
        };
        let hash = fingerprint(&columns);
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        let previous = store::latest_fingerprint(&mut tx, connector.id, &entity).await?;
        let (first_seen, changes) = match &previous {
            Some(previous) if previous.fingerprint == hash => {
                report.entities.push(EntityScan {
                    entity,
                    columns: columns.len(),
                    first_seen: false,
                    changes: Vec::new(),
                    proposals_raised: 0,
                });
                continue;
            }
            Some(previous) => (false, drift::diff(&previous.columns, &columns)),
            None => (true, Vec::new()),
        };
        store::insert_fingerprint(&mut tx, connector.id, &entity, &hash, &columns, &changes)
            .await?;
        tx.commit().await?;

        let proposed = if !changes.is_empty() {
            mapping::propose_after_drift(platform, tenant, connector, &entity, &columns, &changes)
                .await
        } else if first_seen {
            mapping::propose_for_new_entity(platform, tenant, connector, &entity, &columns).await
        } else {
            Ok(Vec::new())
        };
        let proposals_raised = match proposed {
            Ok(proposals) => proposals.len(),
            Err(e) => {
                tracing::warn!(error = %e, connector = %connector.name, entity = %entity, "cannot raise mapping proposals");
                report.proposal_errors.push(EntityError {
                    entity: entity.clone(),
                    error: e.to_string(),
                });
                0
            }
        };
        report.entities.push(EntityScan {
            entity,
            columns: columns.len(),
            first_seen,
            changes,
            proposals_raised,
        });
    }
    Ok(report)
}

/// Records what an observation means for the connector's status: drift makes
/// it `drifted` (and is announced); otherwise a reachable source is `healthy`,
/// except that a drifted connector stays drifted while proposals wait.
pub(crate) async fn settle_status(
    platform: &Platform,
    tenant: Uuid,
    connector: &Connector,
    report: &ScanReport,
    reachable_detail: &str,
) -> Result<(), ConnectorError> {
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let current = require(&mut tx, connector.id).await?;
    let drifted: Vec<String> = report.drifted().map(|e| e.entity.clone()).collect();
    if !drifted.is_empty() {
        store::set_health(
            &mut tx,
            connector.id,
            ConnectorStatus::Drifted,
            &report.drift_detail(),
        )
        .await?;
    } else if current.status == ConnectorStatus::Drifted
        && mapping::pending_count(&mut tx, Some(connector.id)).await? > 0
    {
        let detail = current.status_detail.unwrap_or_default();
        store::set_health(&mut tx, connector.id, ConnectorStatus::Drifted, &detail).await?;
    } else {
        store::set_health(
            &mut tx,
            connector.id,
            ConnectorStatus::Healthy,
            reachable_detail,
        )
        .await?;
    }
    tx.commit().await?;
    if !drifted.is_empty() {
        platform
            .publish(
                tenant,
                &PlatformEvent::DriftDetected {
                    connector_id: connector.id,
                    connector: connector.name.clone(),
                    entities: drifted,
                },
            )
            .await;
    }
    Ok(())
}
