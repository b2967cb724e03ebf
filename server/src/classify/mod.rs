//! Persona and intent classification for the API: the classifier is built
//! once per process (on first use, so start-up stays fast) and each call gets
//! only the calling tenant's own exemplars, read from PostgreSQL under the
//! tenant's row-level security and embedded once per change of the set.

pub mod routes;
pub mod tie_break;

use knowledge::embed::Embedder;
use personas::{
    Classification, Classifier, ClassifyInput, Exemplar, Intent, Persona, TenantExemplars,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::error::ApiError;
use crate::store::Db;
use crate::store::audit::{self, Actor};

/// At most this many tenant exemplars are used per tenant.
pub const MAX_TENANT_EXEMPLARS: i64 = 2_000;

/// Identifies one state of a tenant's exemplar set.
type ExemplarVersion = (i64, Option<chrono::DateTime<chrono::Utc>>);

pub struct ClassifyService {
    embedder: Arc<dyn Embedder>,
    classifier: OnceCell<Arc<Classifier>>,
    /// Each tenant's embedded exemplars, kept apart by tenant id.
    tenants: Mutex<HashMap<TenantId, (ExemplarVersion, Arc<TenantExemplars>)>>,
    /// Asks the LLM when the classifier is unsure (only with an LLM configured).
    tie_breaker: Option<tie_break::TieBreaker>,
}

/// A tenant exemplar as the API shows it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct StoredExemplar {
    pub id: Uuid,
    pub persona: String,
    pub intent: String,
    pub text: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl ClassifyService {
    pub fn new(embedder: Arc<dyn Embedder>) -> ClassifyService {
        ClassifyService {
            embedder,
            classifier: OnceCell::new(),
            tenants: Mutex::new(HashMap::new()),
            tie_breaker: None,
        }
    }

    /// Lets the LLM settle unsure classifications.
    pub fn with_tie_breaker(mut self, llm: crate::gateway::llm::LlmClient) -> ClassifyService {
        self.tie_breaker = Some(tie_break::TieBreaker::new(llm));
        self
    }

    /// The shared classifier, built from the persona files on first use.
    pub async fn classifier(&self) -> Result<Arc<Classifier>, ApiError> {
        self.classifier
            .get_or_try_init(|| async {
                Classifier::builtin(Arc::clone(&self.embedder))
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
            .map_err(ApiError::internal)
    }

    /// Classifies one turn for `tenant`, with that tenant's exemplars only.
    pub async fn classify(
        &self,
        db: &Db,
        tenant: TenantId,
        input: ClassifyInput<'_>,
    ) -> Result<Classification, ApiError> {
        let classifier = self.classifier().await?;
        let exemplars = self.tenant_exemplars(db, tenant, &classifier).await?;
        let text = input.text;
        let classification = classifier
            .classify(input, &exemplars)
            .await
            .map_err(classify_error)?;
        Ok(match &self.tie_breaker {
            Some(tie_breaker) => tie_breaker.settle(text, classification).await,
            None => classification,
        })
    }

    /// The tenant's exemplars, embedded; re-read only when they changed.
    async fn tenant_exemplars(
        &self,
        db: &Db,
        tenant: TenantId,
        classifier: &Classifier,
    ) -> Result<Arc<TenantExemplars>, ApiError> {
        let mut tx = db.tenant(tenant).await?;
        let version: ExemplarVersion =
            sqlx::query_as("select count(*), max(created_at) from persona_exemplars")
                .fetch_one(&mut *tx)
                .await
                .map_err(ApiError::internal)?;
        if let Ok(cache) = self.tenants.lock()
            && let Some((cached, exemplars)) = cache.get(&tenant)
            && *cached == version
        {
            return Ok(Arc::clone(exemplars));
        }
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select persona, intent, text from persona_exemplars order by created_at, id limit $1",
        )
        .bind(MAX_TENANT_EXEMPLARS)
        .fetch_all(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
        drop(tx);
        let exemplars: Vec<Exemplar> = rows
            .into_iter()
            .filter_map(|(persona, intent, text)| {
                Some(Exemplar {
                    persona: persona.parse::<Persona>().ok()?,
                    intent: intent.parse::<Intent>().ok()?,
                    text,
                })
            })
            .collect();
        let embedded = Arc::new(
            classifier
                .tenant_exemplars(&exemplars)
                .await
                .map_err(classify_error)?,
        );
        if let Ok(mut cache) = self.tenants.lock() {
            cache.insert(tenant, (version, Arc::clone(&embedded)));
        }
        Ok(embedded)
    }

    pub async fn list_exemplars(
        &self,
        db: &Db,
        tenant: TenantId,
    ) -> Result<Vec<StoredExemplar>, ApiError> {
        let mut tx = db.tenant(tenant).await?;
        sqlx::query_as(
            "select id, persona, intent, text, created_at from persona_exemplars order by created_at, id limit $1",
        )
        .bind(MAX_TENANT_EXEMPLARS)
        .fetch_all(&mut *tx)
        .await
        .map_err(ApiError::internal)
    }

    /// Stores an exemplar; it is used from the next classification on.
    pub async fn add_exemplar(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: Actor,
        exemplar: Exemplar,
    ) -> Result<StoredExemplar, ApiError> {
        let text = exemplar.text.trim().to_owned();
        if text.is_empty() || text.chars().count() > 1000 {
            return Err(ApiError::Validation(
                "text must have 1 to 1000 characters".into(),
            ));
        }
        let mut tx = db.tenant(tenant).await?;
        let (count,): (i64,) = sqlx::query_as("select count(*) from persona_exemplars")
            .fetch_one(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
        if count >= MAX_TENANT_EXEMPLARS {
            return Err(ApiError::Conflict(format!(
                "a tenant may keep at most {MAX_TENANT_EXEMPLARS} exemplars"
            )));
        }
        let stored: StoredExemplar = sqlx::query_as(
            "insert into persona_exemplars (id, tenant_id, persona, intent, text, created_by)
             values ($1, app_current_tenant(), $2, $3, $4, $5)
             returning id, persona, intent, text, created_at",
        )
        .bind(Uuid::new_v4())
        .bind(exemplar.persona.as_str())
        .bind(exemplar.intent.as_str())
        .bind(&text)
        .bind(match actor {
            Actor::User(id) => Some(id),
            _ => None,
        })
        .fetch_one(&mut *tx)
        .await
        .map_err(ApiError::internal)?;
        audit::record(
            &mut tx,
            actor,
            "exemplar.create",
            ("exemplar", &stored.id.to_string()),
            serde_json::json!({ "persona": stored.persona, "intent": stored.intent }),
        )
        .await?;
        tx.commit().await.map_err(ApiError::internal)?;
        Ok(stored)
    }

    pub async fn delete_exemplar(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: Actor,
        id: Uuid,
    ) -> Result<(), ApiError> {
        let mut tx = db.tenant(tenant).await?;
        let done = sqlx::query("delete from persona_exemplars where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(ApiError::internal)?;
        if done.rows_affected() == 0 {
            return Err(ApiError::NotFound("exemplar not found".into()));
        }
        audit::record(
            &mut tx,
            actor,
            "exemplar.delete",
            ("exemplar", &id.to_string()),
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await.map_err(ApiError::internal)?;
        Ok(())
    }
}

fn classify_error(err: personas::ClassifyError) -> ApiError {
    match err {
        personas::ClassifyError::EmptyText => ApiError::Validation("text must not be empty".into()),
        other => ApiError::internal(other),
    }
}
