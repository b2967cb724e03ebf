//! The knowledge service: runs the `knowledge` crate's ingestion and search
//! inside tenant-scoped transactions, keeping slow work (parsing, embedding)
//! outside them. Shared by the HTTP routes, `aos ingest` and `aos eval`.

pub mod routes;

use anyhow::Context;
use knowledge::KnowledgeError;
use knowledge::analyze::Analyzer;
use knowledge::chunk::ChunkSizes;
use knowledge::embed::LocalEmbedder;
use knowledge::embed::OpenAiEmbedder;
use knowledge::embed::{Embedded, Embedder, TokenCounter};
use knowledge::ingest::{self, DocumentMeta};
use knowledge::parse::Format;
use knowledge::search::{SearchHit, SearchMode, SearchQuery};
use knowledge::store::{self, Document};
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

use crate::domain::TenantId;
use crate::settings::{EmbedderKind, Settings};
use crate::store::audit::{self, Actor};
use crate::store::{Db, StoreError};

/// What an ingest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IngestStatus {
    Created,
    Replaced,
    Unchanged,
}

#[derive(Debug, Serialize)]
pub struct IngestOutcome {
    pub status: IngestStatus,
    pub document: Document,
}

/// Search results with the time spent embedding the query and searching.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub timings_ms: SearchTimings,
}

#[derive(Debug, Serialize)]
pub struct SearchTimings {
    pub embed: f64,
    pub search: f64,
}

/// A document for [`KnowledgeService::bulk_load`], optionally with its chunk
/// vectors already computed (benchmarks replicate real embeddings).
pub struct BulkDocument {
    pub meta: DocumentMeta,
    pub format: Format,
    pub bytes: Vec<u8>,
    pub vectors: Option<Vec<Vec<f32>>>,
}

/// What a bulk load wrote and where its time went.
#[derive(Debug, Default, Clone, Copy)]
pub struct BulkLoadStats {
    pub chunks: usize,
    pub prepare_secs: f64,
    pub embed_secs: f64,
    pub write_secs: f64,
}

pub struct KnowledgeService {
    embedder: Arc<dyn Embedder>,
    counter: Arc<TokenCounter>,
    sizes: ChunkSizes,
}

impl KnowledgeService {
    /// Loads the configured embedder and the tokenizer chunks are measured with.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<KnowledgeService> {
        let model_dir = settings.model_dir.as_deref().context(
            "AOS_MODEL_DIR is not set (the folder with all-MiniLM-L6-v2; scripts/fetch-model.sh fetches it)",
        )?;
        let counter = TokenCounter::load(model_dir).context("cannot load the tokenizer")?;
        let embedder: Arc<dyn Embedder> = match settings.embedder {
            EmbedderKind::Local => {
                Arc::new(LocalEmbedder::load(model_dir).context("cannot load the local embedder")?)
            }
            EmbedderKind::Openai => {
                let base = settings
                    .openai_base_url
                    .clone()
                    .context("AOS_EMBEDDER=openai needs OPENAI_BASE_URL")?;
                Arc::new(
                    OpenAiEmbedder::new(
                        base,
                        settings
                            .openai_api_key
                            .as_ref()
                            .map(|k| k.expose().to_owned()),
                        settings.embedding_model.clone(),
                        knowledge::DIMENSION,
                    )
                    .context("cannot set up the OpenAI embedder")?,
                )
            }
        };
        Ok(KnowledgeService {
            embedder,
            counter: Arc::new(counter),
            sizes: ChunkSizes::default(),
        })
    }

    pub fn embedder(&self) -> &Arc<dyn Embedder> {
        &self.embedder
    }

    /// Tokens of `text` in the chunker's tokenizer.
    pub fn count_tokens(&self, text: &str) -> usize {
        self.counter.count(text)
    }

    /// Parses, chunks, embeds and stores a document; the same content again is a no-op.
    pub async fn ingest(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: Actor,
        meta: DocumentMeta,
        format: Format,
        bytes: Vec<u8>,
    ) -> Result<IngestOutcome, KnowledgeError> {
        let counter = Arc::clone(&self.counter);
        let sizes = self.sizes;
        let prepared = tokio::task::spawn_blocking(move || {
            ingest::prepare(meta, format, &bytes, &counter, sizes)
        })
        .await
        .map_err(|e| KnowledgeError::Invalid(format!("document preparation failed: {e}")))??;

        let mut tx = db.tenant(tenant).await.map_err(store_error)?;
        let language = store::tenant_language(&mut tx).await?;
        if let Some(existing) =
            store::find_existing(&mut tx, prepared.uri.as_deref(), &prepared.content_hash).await?
            && existing.content_hash == prepared.content_hash
        {
            return Ok(IngestOutcome {
                status: IngestStatus::Unchanged,
                document: existing,
            });
        }
        drop(tx);

        let embeddings = ingest::embed_chunks(self.embedder.as_ref(), &prepared).await?;
        let analyzer = Analyzer::new(language);
        let mut tx = db.tenant(tenant).await.map_err(store_error)?;
        store::check_embedding_model(&mut tx, self.embedder.model_id(), self.embedder.dimension())
            .await?;
        let existing =
            store::find_existing(&mut tx, prepared.uri.as_deref(), &prepared.content_hash).await?;
        if let Some(existing) = &existing
            && existing.content_hash == prepared.content_hash
        {
            return Ok(IngestOutcome {
                status: IngestStatus::Unchanged,
                document: existing.clone(),
            });
        }
        let replace = existing.as_ref().map(|d| d.id);
        let document =
            store::write_document(&mut tx, replace, &prepared, embeddings, &analyzer).await?;
        let status = if replace.is_some() {
            IngestStatus::Replaced
        } else {
            IngestStatus::Created
        };
        audit::record(
            &mut tx,
            actor,
            if replace.is_some() {
                "document.replace"
            } else {
                "document.create"
            },
            ("document", &document.id.to_string()),
            serde_json::json!({ "title": document.title, "chunks": document.chunk_count }),
        )
        .await
        .map_err(store_error)?;
        tx.commit().await?;
        Ok(IngestOutcome { status, document })
    }

    /// Loads many new documents fast: chunks of all documents are embedded in
    /// shared batches and written in transactions of `group` documents. For
    /// evaluation and benchmarks on a fresh tenant (no replacement checks).
    pub async fn bulk_load(
        &self,
        db: &Db,
        tenant: TenantId,
        documents: Vec<BulkDocument>,
        mut progress: impl FnMut(usize),
    ) -> Result<BulkLoadStats, KnowledgeError> {
        const GROUP: usize = 256;
        let mut tx = db.tenant(tenant).await.map_err(store_error)?;
        let language = store::tenant_language(&mut tx).await?;
        store::check_embedding_model(&mut tx, self.embedder.model_id(), self.embedder.dimension())
            .await?;
        tx.commit().await?;
        let analyzer = Analyzer::new(language);
        let mut stats = BulkLoadStats::default();
        let mut pending = documents.into_iter().peekable();
        while pending.peek().is_some() {
            let group: Vec<_> = pending.by_ref().take(GROUP).collect();
            let started = Instant::now();
            let counter = Arc::clone(&self.counter);
            let sizes = self.sizes;
            let (prepared, given) = tokio::task::spawn_blocking(move || {
                let mut prepared = Vec::with_capacity(group.len());
                let mut given = Vec::with_capacity(group.len());
                for doc in group {
                    prepared.push(ingest::prepare(
                        doc.meta, doc.format, &doc.bytes, &counter, sizes,
                    )?);
                    given.push(doc.vectors);
                }
                Ok::<_, KnowledgeError>((prepared, given))
            })
            .await
            .map_err(|e| KnowledgeError::Invalid(format!("document preparation failed: {e}")))??;
            stats.prepare_secs += started.elapsed().as_secs_f64();
            let started = Instant::now();
            let mut vectors = if given.iter().all(Option::is_some) {
                let vectors: Vec<Vec<f32>> = given.into_iter().flatten().flatten().collect();
                let chunks: usize = prepared.iter().map(|d| d.chunks.len()).sum();
                if vectors.len() != chunks {
                    return Err(KnowledgeError::Invalid(format!(
                        "{} vectors given for {chunks} chunks",
                        vectors.len()
                    )));
                }
                vectors
            } else {
                let texts: Vec<String> = prepared
                    .iter()
                    .flat_map(|doc| doc.chunks.iter().map(ingest::index_text))
                    .collect();
                self.embedder.embed(&texts).await?
            }
            .into_iter();
            stats.embed_secs += started.elapsed().as_secs_f64();
            let started = Instant::now();
            let mut tx = db.tenant(tenant).await.map_err(store_error)?;
            for doc in &prepared {
                let embeddings: Vec<Vec<f32>> = vectors.by_ref().take(doc.chunks.len()).collect();
                store::write_document(&mut tx, None, doc, embeddings, &analyzer).await?;
                stats.chunks += doc.chunks.len();
            }
            tx.commit().await?;
            stats.write_secs += started.elapsed().as_secs_f64();
            progress(prepared.len());
        }
        Ok(stats)
    }

    /// Deletes a document and its index entries.
    pub async fn delete(
        &self,
        db: &Db,
        tenant: TenantId,
        actor: Actor,
        id: uuid::Uuid,
    ) -> Result<(), KnowledgeError> {
        let mut tx = db.tenant(tenant).await.map_err(store_error)?;
        store::delete_document(&mut tx, id).await?;
        audit::record(
            &mut tx,
            actor,
            "document.delete",
            ("document", &id.to_string()),
            serde_json::json!({}),
        )
        .await
        .map_err(store_error)?;
        tx.commit().await?;
        Ok(())
    }

    /// Embeds the query (unless lexical) and runs the search.
    pub async fn search(
        &self,
        db: &Db,
        tenant: TenantId,
        query: &SearchQuery,
    ) -> Result<SearchResults, KnowledgeError> {
        self.search_embedded(db, tenant, query, None).await
    }

    /// [`search`](Self::search) with the query text's embedding, when the
    /// caller has it already (from [`embedder`](Self::embedder)); one of
    /// another length is ignored.
    pub async fn search_embedded(
        &self,
        db: &Db,
        tenant: TenantId,
        query: &SearchQuery,
        embedded: Option<Embedded<'_>>,
    ) -> Result<SearchResults, KnowledgeError> {
        let started = Instant::now();
        let given = embedded.and_then(|e| e.usable_by(self.embedder.as_ref()));
        let embedding = match given {
            _ if query.mode == SearchMode::Lexical => None,
            Some(given) => Some(given.to_vec()),
            None => {
                let mut vectors = self
                    .embedder
                    .embed(std::slice::from_ref(&query.text))
                    .await?;
                vectors.pop()
            }
        };
        let embed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let started = Instant::now();
        let mut tx = db.tenant(tenant).await.map_err(store_error)?;
        let language = store::tenant_language(&mut tx).await?;
        let hits = knowledge::search::search(
            &mut tx,
            &Analyzer::new(language),
            embedding.as_deref(),
            query,
        )
        .await?;
        tx.commit().await?;
        Ok(SearchResults {
            hits,
            timings_ms: SearchTimings {
                embed: embed_ms,
                search: started.elapsed().as_secs_f64() * 1000.0,
            },
        })
    }
}

fn store_error(err: StoreError) -> KnowledgeError {
    match err {
        StoreError::Database(e) => KnowledgeError::Database(e),
        StoreError::NotFound(what) => KnowledgeError::NotFound(what),
        StoreError::Conflict(message) => KnowledgeError::Conflict(message),
    }
}
