//! Knowledge: parsing documents, chunking them, embedding chunks and hybrid
//! (BM25 + vector) retrieval over a tenant's documents in PostgreSQL.

pub mod embed;
pub mod parse;
