//! Ingestion: a file becomes a [`PreparedDocument`] (parsed, chunked, hashed)
//! without touching the database, then its chunks are embedded, and finally
//! `store::write_document` writes everything in one transaction. Keeping the
//! slow steps outside the transaction keeps locks short.

use sha2::{Digest, Sha256};

use crate::chunk::{Chunk, ChunkSizes, chunk_document};
use crate::embed::{Embedder, TokenCounter};
use crate::error::KnowledgeError;
use crate::parse::{self, Format};
use crate::scope::Scope;

/// What the uploader says about a document.
#[derive(Debug, Clone)]
pub struct DocumentMeta {
    /// Title; when absent, the document's own title or the file name.
    pub title: Option<String>,
    /// Where it came from: `upload`, `api`, `cli`, `demo`, …
    pub source: String,
    /// A stable identifier (path or URL); a new upload with the same URI replaces the old.
    pub uri: Option<String>,
    pub tags: Vec<String>,
    pub scope: Scope,
}

/// A document ready to embed and store.
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    pub title: String,
    pub source: String,
    pub uri: Option<String>,
    pub format: Format,
    pub tags: Vec<String>,
    pub scope: Scope,
    pub content_hash: String,
    pub byte_size: usize,
    pub chunks: Vec<Chunk>,
}

/// The text a chunk is embedded and indexed with: its heading path gives
/// context that the chunk's own words may lack.
pub fn index_text(chunk: &Chunk) -> String {
    if chunk.heading_path.is_empty() {
        chunk.text.clone()
    } else {
        format!("{}\n{}", chunk.heading_path.join(" > "), chunk.text)
    }
}

/// Parses and chunks `bytes`. CPU-bound: call it from a blocking task for large files.
pub fn prepare(
    meta: DocumentMeta,
    format: Format,
    bytes: &[u8],
    counter: &TokenCounter,
    sizes: ChunkSizes,
) -> Result<PreparedDocument, KnowledgeError> {
    let parsed = parse::parse(format, bytes)?;
    let fallback_title = meta
        .uri
        .as_deref()
        .and_then(|u| u.rsplit(['/', '\\']).next())
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let title = meta
        .title
        .filter(|t| !t.trim().is_empty())
        .or(parsed.title.clone())
        .or(fallback_title)
        .unwrap_or_else(|| "Untitled".to_owned());
    let title: String = title.trim().chars().take(500).collect();
    let chunks = chunk_document(&parsed, counter, sizes);
    if chunks.is_empty() {
        return Err(KnowledgeError::Parse(parse::ParseError::Empty));
    }
    let mut tags: Vec<String> = meta
        .tags
        .iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort();
    tags.dedup();
    // The hash covers everything that shapes the index, so a changed tag or
    // scope re-indexes while an identical upload is a no-op.
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    for part in [title.as_str(), &tags.join(","), &scope_key(meta.scope)] {
        hasher.update([0u8]);
        hasher.update(part.as_bytes());
    }
    Ok(PreparedDocument {
        title,
        source: meta.source,
        uri: meta.uri,
        format,
        tags,
        scope: meta.scope,
        content_hash: hex::encode(hasher.finalize()),
        byte_size: bytes.len(),
        chunks,
    })
}

fn scope_key(scope: Scope) -> String {
    scope.mask().to_string()
}

/// Embeds a prepared document's chunks, in order.
pub async fn embed_chunks(
    embedder: &dyn Embedder,
    doc: &PreparedDocument,
) -> Result<Vec<Vec<f32>>, KnowledgeError> {
    let texts: Vec<String> = doc.chunks.iter().map(index_text).collect();
    let vectors = embedder.embed(&texts).await?;
    if vectors.len() != texts.len() {
        return Err(KnowledgeError::Invalid(format!(
            "the embedder returned {} vectors for {} chunks",
            vectors.len(),
            texts.len()
        )));
    }
    Ok(vectors)
}
