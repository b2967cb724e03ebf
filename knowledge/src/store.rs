//! SQL for documents, chunks and the BM25 statistics. Every function takes a
//! connection inside a tenant-scoped transaction (row-level security does the
//! tenant filtering); writes keep postings, document frequencies and corpus
//! statistics in step with the chunks in that same transaction.

use chrono::{DateTime, Utc};
use pgvector::Vector;
use sqlx::PgConnection;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::analyze::{Analyzer, Language};
use crate::error::KnowledgeError;
use crate::ingest::PreparedDocument;

/// A stored document as the API shows it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Document {
    pub id: Uuid,
    pub title: String,
    pub source: String,
    pub uri: Option<String>,
    pub format: String,
    pub content_hash: String,
    pub tags: Vec<String>,
    pub personas: Vec<String>,
    pub byte_size: i64,
    pub chunk_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! document_columns {
    () => {
        "id, title, source, uri, format, content_hash, tags, personas, byte_size, chunk_count, created_at, updated_at"
    };
}

/// The tenant's analysis language.
pub async fn tenant_language(conn: &mut PgConnection) -> Result<Language, KnowledgeError> {
    let row: Option<(String,)> = sqlx::query_as("select language from tenants")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row
        .and_then(|(name,)| Language::parse(&name))
        .unwrap_or(Language::English))
}

/// Records the embedder on first use; refuses a different one afterwards so
/// that vectors of two models never share an index.
pub async fn check_embedding_model(
    conn: &mut PgConnection,
    model: &str,
    dimension: usize,
) -> Result<(), KnowledgeError> {
    if dimension != crate::DIMENSION {
        return Err(KnowledgeError::ModelMismatch {
            stored: format!("{}-dimensional vectors", crate::DIMENSION),
            configured: format!("{model} ({dimension}-d)"),
        });
    }
    sqlx::query(
        "insert into knowledge_settings (tenant_id, embedding_model, dimension)
         values (app_current_tenant(), $1, $2) on conflict (tenant_id) do nothing",
    )
    .bind(model)
    .bind(dimension as i32)
    .execute(&mut *conn)
    .await?;
    let (stored, stored_dim): (String, i32) =
        sqlx::query_as("select embedding_model, dimension from knowledge_settings")
            .fetch_one(&mut *conn)
            .await?;
    if stored != model || stored_dim as usize != dimension {
        return Err(KnowledgeError::ModelMismatch {
            stored: format!("{stored} ({stored_dim}-d)"),
            configured: format!("{model} ({dimension}-d)"),
        });
    }
    Ok(())
}

/// The document a new upload would replace: the one with the same URI, or,
/// for uploads without a URI, the one with the same content.
pub async fn find_existing(
    conn: &mut PgConnection,
    uri: Option<&str>,
    content_hash: &str,
) -> Result<Option<Document>, KnowledgeError> {
    let row = match uri {
        Some(uri) => {
            sqlx::query_as(concat!(
                "select ",
                document_columns!(),
                " from documents where uri = $1 for update"
            ))
            .bind(uri)
            .fetch_optional(&mut *conn)
            .await?
        }
        None => {
            sqlx::query_as(concat!(
                "select ",
                document_columns!(),
                " from documents where uri is null and content_hash = $1 limit 1 for update"
            ))
            .bind(content_hash)
            .fetch_optional(&mut *conn)
            .await?
        }
    };
    Ok(row)
}

pub async fn get_document(conn: &mut PgConnection, id: Uuid) -> Result<Document, KnowledgeError> {
    sqlx::query_as(concat!(
        "select ",
        document_columns!(),
        " from documents where id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(KnowledgeError::NotFound("document"))
}

/// A page of documents, newest first, and the total count.
pub async fn list_documents(
    conn: &mut PgConnection,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Document>, i64), KnowledgeError> {
    let documents = sqlx::query_as(concat!(
        "select ",
        document_columns!(),
        " from documents order by created_at desc, id limit $1 offset $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let (total,): (i64,) = sqlx::query_as("select count(*) from documents")
        .fetch_one(&mut *conn)
        .await?;
    Ok((documents, total))
}

/// Writes a prepared document and its embedded chunks, replacing `replace`
/// (its chunks, postings and statistics) in the same transaction.
pub async fn write_document(
    conn: &mut PgConnection,
    replace: Option<Uuid>,
    doc: &PreparedDocument,
    embeddings: Vec<Vec<f32>>,
    analyzer: &Analyzer,
) -> Result<Document, KnowledgeError> {
    lock_index(conn).await?;
    let id = match replace {
        Some(id) => {
            remove_chunks(conn, id).await?;
            id
        }
        None => Uuid::new_v4(),
    };
    let scope = doc.scope.mask();
    let document: Document = sqlx::query_as(concat!(
        "insert into documents (id, tenant_id, title, source, uri, format, content_hash, tags, personas, scope_mask, byte_size, chunk_count)
         values ($1, app_current_tenant(), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (id) do update set title = excluded.title, source = excluded.source,
             format = excluded.format, content_hash = excluded.content_hash, tags = excluded.tags,
             personas = excluded.personas, scope_mask = excluded.scope_mask,
             byte_size = excluded.byte_size, chunk_count = excluded.chunk_count, updated_at = now()
         returning ", document_columns!()
    ))
    .bind(id)
    .bind(&doc.title)
    .bind(&doc.source)
    .bind(&doc.uri)
    .bind(doc.format.as_str())
    .bind(&doc.content_hash)
    .bind(&doc.tags)
    .bind(doc.scope.names())
    .bind(scope)
    .bind(doc.byte_size as i64)
    .bind(doc.chunks.len() as i32)
    .fetch_one(&mut *conn)
    .await
    .map_err(KnowledgeError::from_write)?;

    let mut chunk_ids = Vec::with_capacity(doc.chunks.len());
    let mut ords = Vec::with_capacity(doc.chunks.len());
    let mut paths = Vec::with_capacity(doc.chunks.len());
    let mut contents = Vec::with_capacity(doc.chunks.len());
    let mut token_counts = Vec::with_capacity(doc.chunks.len());
    let mut term_counts = Vec::with_capacity(doc.chunks.len());
    let mut vectors = Vec::with_capacity(doc.chunks.len());
    let mut postings: (Vec<String>, Vec<Uuid>, Vec<i32>, Vec<i32>) = Default::default();
    let mut df: BTreeMap<String, i32> = BTreeMap::new();
    let mut term_total: i64 = 0;
    let avgdl = average_length(conn).await?;
    let bm25 = crate::search::Bm25::default();
    let mut impacts = Vec::new();
    for (ord, (chunk, embedding)) in doc.chunks.iter().zip(embeddings).enumerate() {
        let chunk_id = Uuid::new_v4();
        let (tf, length) = analyzer.term_frequencies(&crate::ingest::index_text(chunk));
        let avgdl = avgdl.unwrap_or(f64::from(length).max(1.0));
        for (term, count) in tf {
            postings.0.push(term.clone());
            postings.1.push(chunk_id);
            postings.2.push(count);
            postings.3.push(length);
            impacts.push(bm25.term_weight(count, length, avgdl) as f32);
            *df.entry(term).or_insert(0) += 1;
        }
        term_total += i64::from(length);
        chunk_ids.push(chunk_id);
        ords.push(ord as i32);
        paths.push(chunk.heading_path.join("\u{1f}"));
        contents.push(chunk.text.clone());
        token_counts.push(chunk.token_count as i32);
        term_counts.push(length);
        vectors.push(Vector::from(embedding));
    }
    sqlx::query(
        "insert into chunks (id, tenant_id, document_id, ord, heading_path, content, token_count, term_count, scope_mask, embedding)
         select c.id, app_current_tenant(), $1, c.ord, string_to_array(c.path, chr(31)), c.content, c.tokens, c.terms, $2, c.embedding
         from unnest($3::uuid[], $4::int4[], $5::text[], $6::text[], $7::int4[], $8::int4[], $9::vector[])
             as c(id, ord, path, content, tokens, terms, embedding)",
    )
    .bind(id)
    .bind(scope)
    .bind(&chunk_ids)
    .bind(&ords)
    .bind(&paths)
    .bind(&contents)
    .bind(&token_counts)
    .bind(&term_counts)
    .bind(&vectors)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into chunk_terms (tenant_id, term, chunk_id, document_id, tf, term_count, scope_mask, impact)
         select app_current_tenant(), p.term, p.chunk_id, $1, p.tf, p.len, $2, p.impact
         from unnest($3::text[], $4::uuid[], $5::int4[], $6::int4[], $7::float4[]) as p(term, chunk_id, tf, len, impact)",
    )
    .bind(id)
    .bind(scope)
    .bind(&postings.0)
    .bind(&postings.1)
    .bind(&postings.2)
    .bind(&postings.3)
    .bind(&impacts)
    .execute(&mut *conn)
    .await?;
    // Sorted terms: concurrent ingests lock term rows in the same order.
    let (terms, counts): (Vec<String>, Vec<i32>) = df.into_iter().unzip();
    sqlx::query(
        "insert into term_stats (tenant_id, term, df)
         select app_current_tenant(), t.term, t.n from unnest($1::text[], $2::int4[]) as t(term, n)
         on conflict (tenant_id, term) do update set df = term_stats.df + excluded.df",
    )
    .bind(&terms)
    .bind(&counts)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "insert into corpus_stats (tenant_id, chunk_count, term_total) values (app_current_tenant(), $1, $2)
         on conflict (tenant_id) do update set chunk_count = corpus_stats.chunk_count + excluded.chunk_count,
             term_total = corpus_stats.term_total + excluded.term_total",
    )
    .bind(chunk_ids.len() as i64)
    .bind(term_total)
    .execute(&mut *conn)
    .await?;
    Ok(document)
}

/// Serialises writers of one tenant's index until the transaction ends:
/// replacing, creating and deleting documents all update the shared term and
/// corpus statistics, and without one order of locking they could deadlock.
async fn lock_index(conn: &mut PgConnection) -> Result<(), KnowledgeError> {
    sqlx::query(
        "select pg_advisory_xact_lock(hashtext('knowledge-index:' || app_current_tenant()::text))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The corpus's average chunk length in terms, if it has chunks.
async fn average_length(conn: &mut PgConnection) -> Result<Option<f64>, KnowledgeError> {
    let row: Option<(f64,)> = sqlx::query_as(
        "select term_total::float8 / chunk_count from corpus_stats where chunk_count > 0",
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(avg,)| avg.max(1.0)))
}

/// Deletes a document with its chunks and index entries.
pub async fn delete_document(conn: &mut PgConnection, id: Uuid) -> Result<(), KnowledgeError> {
    lock_index(conn).await?;
    let found: Option<(Uuid,)> =
        sqlx::query_as("select id from documents where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    if found.is_none() {
        return Err(KnowledgeError::NotFound("document"));
    }
    remove_chunks(conn, id).await?;
    sqlx::query("delete from documents where id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Removes a document's chunks and postings and takes them out of the statistics.
async fn remove_chunks(conn: &mut PgConnection, document: Uuid) -> Result<(), KnowledgeError> {
    sqlx::query(
        "update term_stats t set df = t.df - gone.n
         from (select term, count(*)::int as n from chunk_terms where document_id = $1 group by term) gone
         where t.term = gone.term",
    )
    .bind(document)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "delete from term_stats
         where df <= 0 and term in (select term from chunk_terms where document_id = $1)",
    )
    .bind(document)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "update corpus_stats set
             chunk_count = chunk_count - (select count(*) from chunks where document_id = $1),
             term_total = term_total - (select coalesce(sum(term_count), 0) from chunks where document_id = $1)",
    )
    .bind(document)
    .execute(&mut *conn)
    .await?;
    sqlx::query("delete from chunk_terms where document_id = $1")
        .bind(document)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from chunks where document_id = $1")
        .bind(document)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
