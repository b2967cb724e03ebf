//! The platform the tools act on, built once per process: the `tools` crate's
//! [`Platform`] (database, Redis, embedder, knowledge search, readable folders)
//! and the tool [`Registry`] with each persona's allow-list.

use anyhow::Context;
use knowledge::search::{SearchHit, SearchQuery};
use personas::{Persona, PersonaSet};
use std::sync::Arc;
use tools::{KnowledgeSearcher, Platform, Registry};
use uuid::Uuid;

use crate::domain::TenantId;
use crate::knowledge::KnowledgeService;
use crate::settings::Settings;
use crate::store::Db;

/// Knowledge search for tools, narrowed to the persona's retrieval scopes and
/// ranked with its fusion weights.
struct PersonaKnowledgeSearch {
    db: Db,
    knowledge: Arc<KnowledgeService>,
    personas: PersonaSet,
}

impl KnowledgeSearcher for PersonaKnowledgeSearch {
    fn search<'a>(
        &'a self,
        tenant: Uuid,
        persona: Option<Persona>,
        query: &'a str,
        limit: usize,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<SearchHit>, String>> + Send + 'a>,
    > {
        Box::pin(async move {
            let mut search = SearchQuery::new(query, limit);
            if let Some(persona) = persona {
                let definition = self.personas.get(persona);
                search.scope = definition.retrieval_scope();
                search.weights = definition.fusion;
            }
            self.knowledge
                .search(&self.db, TenantId(tenant), &search)
                .await
                .map(|results| results.hits)
                .map_err(|e| e.to_string())
        })
    }
}

/// Builds the platform and the registry for `aos serve`, `aos worker` and the demo seed.
pub fn build(
    settings: &Settings,
    db: &Db,
    redis: redis::aio::ConnectionManager,
    knowledge: Arc<KnowledgeService>,
) -> anyhow::Result<(Arc<Platform>, Arc<Registry>)> {
    let personas = PersonaSet::builtin().context("the built-in persona definitions are invalid")?;
    let registry = Registry::builtin(&personas).context("cannot build the tool registry")?;
    let master = settings.jwt_secret.as_ref().context(
        "AOS_JWT_SECRET is not set: connector credentials are sealed with a key derived from it",
    )?;
    let platform = Platform {
        pool: db.pool().clone(),
        redis,
        redis_prefix: settings.redis_prefix.clone(),
        embedder: Arc::clone(knowledge.embedder()),
        knowledge: Arc::new(PersonaKnowledgeSearch {
            db: db.clone(),
            knowledge,
            personas,
        }),
        file_roots: settings.file_roots.clone(),
        secrets: Platform::connector_secrets(master.expose().as_bytes()),
    };
    Ok((Arc::new(platform), Arc::new(registry)))
}
