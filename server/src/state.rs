//! Shared state handed to every request handler.

use metrics_exporter_prometheus::PrometheusHandle;
use redis::aio::ConnectionManager;
use std::sync::Arc;

use crate::auth::tokens::JwtKeys;
use crate::classify::ClassifyService;
use crate::knowledge::KnowledgeService;
use crate::settings::Settings;
use crate::store::Db;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub redis: ConnectionManager,
    pub jwt: Arc<JwtKeys>,
    pub metrics: PrometheusHandle,
    pub knowledge: Arc<KnowledgeService>,
    pub classify: Arc<ClassifyService>,
    pub platform: Arc<tools::Platform>,
    pub tools: Arc<tools::Registry>,
    pub gateway: Arc<crate::gateway::Gateway>,
    /// Platform events from every replica, by tenant.
    pub events: tokio::sync::broadcast::Sender<crate::gateway::hub::TenantEvent>,
    /// The Slack bot's key for secrets, HTTP client and workspace cache.
    pub slack: Arc<crate::slack::Slack>,
}
