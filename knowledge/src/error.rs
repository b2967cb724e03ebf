//! The knowledge crate's error, sorted by what the caller does next.

use crate::embed::EmbedError;
use crate::parse::ParseError;

#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// The file could not be read as its format (the caller's input is at fault).
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A value in the request is not acceptable.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The configured embedder is not the one that filled this tenant's index.
    #[error(
        "this tenant's knowledge was embedded with {stored}, but the configured embedder is {configured}; re-ingest the documents or switch the embedder back"
    )]
    ModelMismatch { stored: String, configured: String },
    /// A document with the same URI was written concurrently.
    #[error("{0}")]
    Conflict(String),
    #[error("embedding failed: {0}")]
    Embed(#[from] EmbedError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl KnowledgeError {
    pub(crate) fn from_write(err: sqlx::Error) -> KnowledgeError {
        if let sqlx::Error::Database(db) = &err
            && db.is_unique_violation()
        {
            return KnowledgeError::Conflict(
                "another upload of this document is in progress; try again".into(),
            );
        }
        KnowledgeError::Database(err)
    }
}
