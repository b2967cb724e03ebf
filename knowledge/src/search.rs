//! Hybrid retrieval in one round trip: BM25 over the postings (each query
//! term's postings read best-first up to a cut-off, the candidates scored
//! exactly) and vector
//! search over the HNSW index, each filtered by tenant (row-level security),
//! persona scope and document filters inside the scan, fused with reciprocal
//! rank fusion. Lexical-only and dense-only modes run the same statement with
//! the other half's candidate count at zero.

use pgvector::Vector;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::analyze::Analyzer;
use crate::error::KnowledgeError;
use crate::scope::Scope;

/// Which halves of the index to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    #[default]
    Hybrid,
    Lexical,
    Dense,
}

/// Weights of the two rankings in the fusion (per persona in the gateway).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FusionWeights {
    pub vector: f64,
    pub lexical: f64,
}

/// Dense retrieval is the stronger half on natural-language questions, so by
/// default its ranking counts for more (chosen by `aos eval retrieval
/// --weights` on msmarco-subset; see the README).
impl Default for FusionWeights {
    fn default() -> Self {
        FusionWeights {
            vector: 1.0,
            lexical: 0.6,
        }
    }
}

/// BM25 parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25 {
    pub k1: f64,
    pub b: f64,
}

impl Bm25 {
    /// The BM25 weight of a term occurring `tf` times in a chunk of `length`
    /// terms, before multiplying by its idf.
    pub fn term_weight(&self, tf: i32, length: i32, avgdl: f64) -> f64 {
        let tf = f64::from(tf);
        tf * (self.k1 + 1.0) / (tf + self.k1 * (1.0 - self.b + self.b * f64::from(length) / avgdl))
    }
}

impl Default for Bm25 {
    fn default() -> Self {
        Bm25 { k1: 1.2, b: 0.75 }
    }
}

/// A search, already validated.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub text: String,
    pub limit: usize,
    pub mode: SearchMode,
    pub scope: Scope,
    pub document_ids: Option<Vec<Uuid>>,
    pub tags: Option<Vec<String>>,
    pub weights: FusionWeights,
    /// Candidates taken from each half before fusion.
    pub candidates: usize,
    /// Postings read per query term, best first (by their BM25 weight).
    pub postings_per_term: usize,
    pub bm25: Bm25,
    /// The RRF constant (60 in the original paper).
    pub rrf_k: f64,
}

impl SearchQuery {
    pub fn new(text: impl Into<String>, limit: usize) -> SearchQuery {
        SearchQuery {
            text: text.into(),
            limit,
            mode: SearchMode::Hybrid,
            scope: Scope::ALL,
            document_ids: None,
            tags: None,
            weights: FusionWeights::default(),
            candidates: 50,
            postings_per_term: 250,
            bm25: Bm25::default(),
            rrf_k: 60.0,
        }
    }
}

/// How a hit was ranked by each half and by the fusion.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScoreBreakdown {
    pub vector_rank: Option<i64>,
    pub lexical_rank: Option<i64>,
    pub fused: f64,
    /// Cosine similarity to the query, when the vector half found it.
    pub vector_similarity: Option<f64>,
    /// BM25 score, when the lexical half found it.
    pub bm25: Option<f64>,
}

/// One retrieved chunk.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub document_id: Uuid,
    pub chunk_id: Uuid,
    pub title: String,
    pub uri: Option<String>,
    pub heading_path: Vec<String>,
    pub snippet: String,
    pub content: String,
    pub score: f64,
    pub scores: ScoreBreakdown,
}

#[derive(sqlx::FromRow)]
struct HitRow {
    chunk_id: Uuid,
    vector_rank: Option<i64>,
    lexical_rank: Option<i64>,
    similarity: Option<f64>,
    bm25: Option<f64>,
    fused: f64,
    document_id: Uuid,
    heading_path: Vec<String>,
    content: String,
    title: String,
    uri: Option<String>,
}

const HYBRID_SQL: &str = "
with q as (
    select term, qtf from unnest($1::text[], $2::int4[]) as q(term, qtf)
), cs as (
    select chunk_count::float8 as n, greatest(term_total::float8 / greatest(chunk_count, 1), 1) as avgdl
    from corpus_stats
), w as (
    select q.term, q.qtf * ln(1 + (cs.n - ts.df + 0.5) / (ts.df + 0.5)) as idf
    from q join term_stats ts on ts.term = q.term cross join cs
), lex as (
    select p.chunk_id,
           sum(w.idf * p.tf * ($3 + 1) / (p.tf + $3 * (1 - $4 + $4 * p.term_count / cs.avgdl))) as score
    from w cross join cs cross join lateral (
        select t.chunk_id, t.tf, t.term_count
        from chunk_terms t
        where t.tenant_id = app_current_tenant()
          and t.term = w.term
          and (t.scope_mask & $5) <> 0
          and ($6::uuid[] is null or t.document_id = any($6))
          and ($7::text[] is null or t.document_id in (select id from documents where tags && $7))
        order by t.impact desc
        limit $15
    ) p
    group by p.chunk_id
    order by score desc, p.chunk_id
    limit $8
), lex_ranked as (
    select chunk_id, score, row_number() over (order by score desc, chunk_id) as rank from lex
), vec as materialized (
    select c.id as chunk_id, c.embedding <=> $9 as distance
    from chunks c
    where (c.scope_mask & $5) <> 0
      and ($6::uuid[] is null or c.document_id = any($6))
      and ($7::text[] is null or c.document_id in (select id from documents where tags && $7))
    order by c.embedding <=> $9
    limit $10
), vec_ranked as (
    select chunk_id, distance, row_number() over (order by distance, chunk_id) as rank from vec
), fused as (
    select coalesce(v.chunk_id, l.chunk_id) as chunk_id,
           v.rank as vector_rank, l.rank as lexical_rank,
           1 - v.distance as similarity, l.score as bm25,
           coalesce($11 / ($13 + v.rank), 0) + coalesce($12 / ($13 + l.rank), 0) as fused
    from vec_ranked v full outer join lex_ranked l on l.chunk_id = v.chunk_id
    order by fused desc, chunk_id
    limit $14
)
select f.chunk_id, f.vector_rank, f.lexical_rank, f.similarity, f.bm25, f.fused,
       c.document_id, c.heading_path, c.content, d.title, d.uri
from fused f
join chunks c on c.id = f.chunk_id
join documents d on d.id = c.document_id
order by f.fused desc, f.chunk_id";

/// Runs a search. `query_embedding` is needed unless the mode is lexical.
pub async fn search(
    conn: &mut PgConnection,
    analyzer: &Analyzer,
    query_embedding: Option<&[f32]>,
    query: &SearchQuery,
) -> Result<Vec<SearchHit>, KnowledgeError> {
    let (terms, counts): (Vec<String>, Vec<i32>) =
        analyzer.term_frequencies(&query.text).0.into_iter().unzip();
    let lexical_candidates = if query.mode == SearchMode::Dense {
        0
    } else {
        query.candidates
    };
    let (vector, vector_candidates) = match (query.mode, query_embedding) {
        (SearchMode::Lexical, _) => (Vector::from(vec![0.0; crate::DIMENSION]), 0),
        (_, Some(embedding)) => (Vector::from(embedding.to_vec()), query.candidates),
        (_, None) => {
            return Err(KnowledgeError::Invalid(
                "a query embedding is needed for dense and hybrid search".into(),
            ));
        }
    };
    // Filtered HNSW scans keep going until enough rows pass the filter.
    sqlx::query("select set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true)")
        .bind(query.candidates.clamp(40, 1000).to_string())
        .execute(&mut *conn)
        .await?;
    let rows: Vec<HitRow> = sqlx::query_as(HYBRID_SQL)
        .bind(&terms)
        .bind(&counts)
        .bind(query.bm25.k1)
        .bind(query.bm25.b)
        .bind(query.scope.mask())
        .bind(&query.document_ids)
        .bind(&query.tags)
        .bind(lexical_candidates as i64)
        .bind(vector)
        .bind(vector_candidates as i64)
        .bind(query.weights.vector)
        .bind(query.weights.lexical)
        .bind(query.rrf_k)
        .bind(query.limit as i64)
        .bind(query.postings_per_term as i64)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| SearchHit {
            snippet: snippet(&row.content, &query.text, 240),
            document_id: row.document_id,
            chunk_id: row.chunk_id,
            title: row.title,
            uri: row.uri,
            heading_path: row.heading_path,
            score: row.fused,
            scores: ScoreBreakdown {
                vector_rank: row.vector_rank,
                lexical_rank: row.lexical_rank,
                fused: row.fused,
                vector_similarity: row.similarity,
                bm25: row.bm25,
            },
            content: row.content,
        })
        .collect())
}

/// About `max_chars` of `content` around the first word of the query it contains.
pub fn snippet(content: &str, query: &str, max_chars: usize) -> String {
    let lower = content.to_lowercase();
    let start_byte = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .filter_map(|w| lower.find(&w.to_lowercase()))
        .min()
        .unwrap_or(0);
    // Lower-casing can change byte lengths; map back through character counts.
    let start_char = lower.get(..start_byte).map_or(0, |s| s.chars().count());
    let total = content.chars().count();
    let begin = start_char
        .saturating_sub(max_chars / 4)
        .min(total.saturating_sub(max_chars));
    let mut out: String = content.chars().skip(begin).take(max_chars).collect();
    out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    if begin > 0 {
        out.insert(0, '…');
    }
    if begin + max_chars < total {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_centre_on_the_query() {
        let content = format!(
            "{} the Snowflake connector failed at 02:00 {}",
            "intro ".repeat(100),
            "tail ".repeat(100)
        );
        let s = snippet(&content, "why did snowflake fail", 80);
        assert!(s.contains("Snowflake connector"), "{s}");
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert_eq!(snippet("short text", "nothing", 80), "short text");
    }
}
