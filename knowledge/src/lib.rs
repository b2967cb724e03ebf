//! Knowledge: parsing documents, chunking them, embedding chunks and hybrid
//! (BM25 + vector) retrieval over a tenant's documents in PostgreSQL.

pub mod analyze;
pub mod chunk;
pub mod embed;
pub mod error;
pub mod ingest;
pub mod parse;
pub mod scope;
pub mod search;
pub mod store;

pub use error::KnowledgeError;

/// Dimension of the stored vectors (`vector(384)` in the schema).
pub const DIMENSION: usize = 384;
