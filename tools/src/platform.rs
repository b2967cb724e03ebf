//! What every tool works with: the shared platform resources and the caller.

use knowledge::embed::Embedder;
use knowledge::search::SearchHit;
use redis::aio::ConnectionManager;
use sqlx::PgPool;
use std::path::PathBuf;
use std::sync::Arc;
use uuid::Uuid;

use crate::audit::Actor;
use crate::events::PlatformEvent;
use crate::role::Role;
use crate::tool::BoxFuture;
use personas::Persona;

/// Searches a tenant's knowledge base (implemented by the server, which owns
/// the embedder settings and the per-persona retrieval weights).
pub trait KnowledgeSearcher: Send + Sync {
    fn search<'a>(
        &'a self,
        tenant: Uuid,
        persona: Option<Persona>,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SearchHit>, String>>;
}

/// Shared resources, built once per process.
pub struct Platform {
    pub pool: PgPool,
    pub redis: ConnectionManager,
    /// Prefix of every Redis key and channel this process uses.
    pub redis_prefix: String,
    pub embedder: Arc<dyn Embedder>,
    pub knowledge: Arc<dyn KnowledgeSearcher>,
    /// Folders a file-source connector or a discovery scan may read; a path
    /// outside them is refused, so a tenant cannot read the server's disk.
    pub file_roots: Vec<PathBuf>,
    /// Seals connector credentials at rest (see [`Platform::connector_secrets`]).
    pub secrets: crate::secrets::SecretBox,
}

impl Platform {
    /// The box for connector credentials: its key is derived from the
    /// server's master secret under a label of its own.
    pub fn connector_secrets(master: &[u8]) -> crate::secrets::SecretBox {
        crate::secrets::SecretBox::from_master_secret(master, "aos/connectors/secrets/v1")
    }

    /// The pub/sub channel carrying a tenant's platform events.
    pub fn events_channel(&self, tenant: Uuid) -> String {
        format!("{}events:{tenant}", self.redis_prefix)
    }

    /// Announces an event to every replica. Delivery is best effort: the state
    /// change it reports is already committed in Postgres, so a lost message
    /// costs a client a refresh, never data.
    pub async fn publish(&self, tenant: Uuid, event: &PlatformEvent) {
        let Ok(payload) = serde_json::to_string(event) else {
            return;
        };
        let mut redis = self.redis.clone();
        let sent: Result<i64, _> = redis::cmd("PUBLISH")
            .arg(self.events_channel(tenant))
            .arg(payload)
            .query_async(&mut redis)
            .await;
        if let Err(err) = sent {
            tracing::warn!(error = %err, "cannot publish a platform event");
        }
    }

    /// Resolves `path` inside the allowed file roots, or says why not.
    pub fn allowed_path(&self, path: &str) -> Result<PathBuf, String> {
        let canonical =
            std::fs::canonicalize(path).map_err(|e| format!("cannot open `{path}`: {e}"))?;
        for root in &self.file_roots {
            if let Ok(root) = std::fs::canonicalize(root)
                && canonical.starts_with(&root)
            {
                return Ok(canonical);
            }
        }
        Err(format!(
            "`{path}` is outside the folders file sources may read (AOS_FILE_ROOTS)"
        ))
    }
}

/// Who is calling a tool.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant: Uuid,
    pub actor: Actor,
    pub role: Role,
    /// The persona the conversation speaks as; `None` when not known (API use).
    pub persona: Option<Persona>,
}

/// Everything a tool call has to hand.
#[derive(Clone)]
pub struct ToolContext {
    pub platform: Arc<Platform>,
    pub caller: Caller,
    /// The conversation the call belongs to, when it came from chat.
    pub conversation_id: Option<Uuid>,
}

impl ToolContext {
    pub fn tenant(&self) -> Uuid {
        self.caller.tenant
    }

    /// A transaction that sees only the caller's tenant.
    pub async fn tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        crate::tenant::begin_tenant(&self.platform.pool, self.caller.tenant).await
    }
}
