//! The closed vocabularies of the gateway: who is asking ([`Persona`]), what they
//! want ([`Intent`]), and a labelled utterance ([`Exemplar`]) that teaches the
//! classifier both.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The executive a turn is for; decides prompt, tools and retrieval scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Persona {
    /// Technology, data platform, security, infrastructure, connectors, discovery.
    Cto,
    /// Revenue, sales, pipeline, customers, CRM.
    Cro,
    /// Operations, processes, SLAs, support, fulfilment, vendors.
    Coo,
    /// Finance, costs and budgets, revenue recognition, invoices, billing, ERP.
    Cfo,
}

impl Persona {
    /// Every persona, in a fixed order (also the classifier's label order).
    pub const ALL: [Persona; 4] = [Persona::Cto, Persona::Cro, Persona::Coo, Persona::Cfo];

    /// The lowercase name used in files, the API and retrieval scopes.
    pub fn as_str(self) -> &'static str {
        match self {
            Persona::Cto => "cto",
            Persona::Cro => "cro",
            Persona::Coo => "coo",
            Persona::Cfo => "cfo",
        }
    }

    /// Position in [`Persona::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the user wants from this turn; decides which tool runs first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    /// Answered from documents: policies, processes, definitions, runbooks.
    KnowledgeQuery,
    /// Finding or inspecting data assets and applications, PII, shadow IT.
    AssetDiscovery,
    /// Health, sync state, errors, freshness and schema drift of connectors.
    ConnectorStatus,
    /// Schema-mapping proposals: listing, explaining, approving, rejecting.
    MappingReview,
    /// Analytical questions answered by running a FinOps/RevOps/Ops agent.
    AgentRun,
    /// Greetings, thanks, what the assistant can do and how to use it.
    PlatformHelp,
    /// Anything unrelated to the business and the platform.
    OutOfScope,
}

impl Intent {
    /// Every intent, in a fixed order (also the classifier's label order).
    pub const ALL: [Intent; 7] = [
        Intent::KnowledgeQuery,
        Intent::AssetDiscovery,
        Intent::ConnectorStatus,
        Intent::MappingReview,
        Intent::AgentRun,
        Intent::PlatformHelp,
        Intent::OutOfScope,
    ];

    /// The snake_case name used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::KnowledgeQuery => "knowledge_query",
            Intent::AssetDiscovery => "asset_discovery",
            Intent::ConnectorStatus => "connector_status",
            Intent::MappingReview => "mapping_review",
            Intent::AgentRun => "agent_run",
            Intent::PlatformHelp => "platform_help",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    /// Position in [`Intent::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Intents about the business domain, which say something about the persona;
    /// greetings and off-topic chatter do not.
    pub fn is_domain(self) -> bool {
        !matches!(self, Intent::PlatformHelp | Intent::OutOfScope)
    }
}

/// A name that is not a known persona or intent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}` (expected one of: {expected})")]
pub struct UnknownName {
    /// "persona" or "intent".
    pub kind: &'static str,
    /// The name as given.
    pub name: String,
    /// The accepted names, comma separated.
    pub expected: String,
}

impl FromStr for Persona {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Persona::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| unknown("persona", s, Persona::ALL.map(Persona::as_str).as_slice()))
    }
}

impl FromStr for Intent {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Intent::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| unknown("intent", s, Intent::ALL.map(Intent::as_str).as_slice()))
    }
}

fn unknown(kind: &'static str, name: &str, expected: &[&str]) -> UnknownName {
    UnknownName {
        kind,
        name: name.to_owned(),
        expected: expected.join(", "),
    }
}

impl fmt::Display for Persona {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A labelled utterance: from a persona file, or added by a tenant at runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemplar {
    /// Whose domain the utterance belongs to.
    pub persona: Persona,
    /// What the utterance asks for.
    pub intent: Intent,
    /// The utterance itself.
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Persona::ALL {
            assert_eq!(p.as_str().parse::<Persona>(), Ok(p));
            assert_eq!(Persona::ALL[p.index()], p);
        }
        for i in Intent::ALL {
            assert_eq!(i.as_str().parse::<Intent>(), Ok(i));
            assert_eq!(Intent::ALL[i.index()], i);
            let json = serde_json::to_string(&i).unwrap_or_default();
            assert_eq!(json, format!("\"{i}\""));
        }
    }

    #[test]
    fn unknown_names_list_the_choices() {
        let err = "ceo".parse::<Persona>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown persona `ceo` (expected one of: cto, cro, coo, cfo)")
        );
        assert!("chat".parse::<Intent>().is_err());
    }
}
