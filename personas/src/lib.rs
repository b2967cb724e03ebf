//! Personas and intents: who is asking (CTO, CRO, COO, CFO) and what they want,
//! decided at the start of every chat turn.
//!
//! - [`definition`]: the persona files (prompt, tools, retrieval scopes,
//!   exemplars), built in or loaded from a directory, validated at load.
//! - [`classifier`]: the executive classifier with persona prior, follow-up
//!   context and per-tenant exemplars.
//! - [`engine`]: the few-shot scoring engine (embeddings + lexical evidence,
//!   calibrated), independent of personas.
//! - [`eval`]: scoring the engine on CLINC150 and the classifier on a labelled set.

pub mod classifier;
pub mod context;
pub mod definition;
pub mod engine;
pub mod eval;
mod lexical;
mod persona_evidence;
pub mod types;

pub use classifier::{
    Alternative, Classification, Classifier, ClassifierConfig, ClassifyError, ClassifyInput,
    MAX_TEXT_CHARS, TenantExemplars, adaptation_examples,
};
pub use context::PreviousTurn;
pub use definition::{DefinitionError, PersonaDefinition, PersonaSet, TOOL_NAMES};
pub use types::{Exemplar, Intent, Persona};
