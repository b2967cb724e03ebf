//! The health check: open the source now (within the connect time limit) and
//! record what happened on the connector.

use serde::Serialize;
use uuid::Uuid;

use super::source::Source;
use super::store::{self, Connector, ConnectorStatus};
use super::{ConnectorError, require};
use crate::platform::Platform;

/// The result of a health check.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// The connector as it now stands.
    pub connector: Connector,
    pub ok: bool,
    /// What was found ("connected in 12 ms; 3 table(s)") or what went wrong
    /// ("password authentication failed for user …", "cannot reach host:port: …").
    pub detail: String,
    /// Entities the source offers (0 when it could not be opened).
    pub entities: usize,
}

/// Opens the connector's source and records the outcome: `healthy`, or
/// `failing` with the reason. A `drifted` connector stays drifted while its
/// source is reachable: drift is resolved by deciding its mapping proposals.
/// Never fails because the source is down; only a database failure or an
/// unknown connector is an error.
pub async fn check_health(
    platform: &Platform,
    tenant: Uuid,
    connector_id: Uuid,
) -> Result<Health, ConnectorError> {
    let connector = {
        let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
        require(&mut tx, connector_id).await?
    };
    let (ok, detail, entities) = match Source::open(platform, &connector).await {
        Ok(source) => {
            let found = (true, source.describe(), source.entities().len());
            source.close().await;
            found
        }
        Err(e) => (false, e.0, 0),
    };
    let mut tx = crate::tenant::begin_tenant(&platform.pool, tenant).await?;
    let current = require(&mut tx, connector_id).await?;
    let (status, stored_detail) = match (ok, current.status) {
        (false, _) => (ConnectorStatus::Failing, detail.clone()),
        (true, ConnectorStatus::Drifted) => (
            ConnectorStatus::Drifted,
            current
                .status_detail
                .clone()
                .unwrap_or_else(|| detail.clone()),
        ),
        (true, _) => (ConnectorStatus::Healthy, detail.clone()),
    };
    store::set_health(&mut tx, connector_id, status, &stored_detail).await?;
    let connector = require(&mut tx, connector_id).await?;
    tx.commit().await?;
    if !ok {
        tracing::info!(connector = %connector.name, detail = %detail, "connector health check failed");
    }
    Ok(Health {
        connector,
        ok,
        detail,
        entities,
    })
}
