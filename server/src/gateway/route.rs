//! Deterministic routing: a confident intent runs its tool straight away,
//! with arguments read from the question. This is what makes the gateway fast
//! and useful without an LLM; with one, the model may call further tools.

use personas::{Intent, Persona, PersonaDefinition};
use serde_json::{Value, json};

/// Below this intent confidence the gateway does not act on its own.
pub const ACT_CONFIDENCE: f32 = 0.45;

/// A tool call the gateway makes on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    pub tool: &'static str,
    pub arguments: Value,
}

fn mentions(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

/// The agent a question is for: by its words, else by the persona's domain.
pub fn agent_for(text: &str, persona: Persona) -> &'static str {
    if mentions(
        text,
        &[
            "pipeline",
            "deal",
            "win rate",
            "quota",
            "forecast",
            "bookings",
            "churn",
            "opportunit",
        ],
    ) {
        "revops"
    } else if mentions(
        text,
        &[
            "sla",
            "ticket",
            "backlog",
            "vendor",
            "shipment",
            "fulfil",
            "fulfill",
            "delivery",
            "support queue",
        ],
    ) {
        "ops"
    } else if mentions(
        text,
        &[
            "spend", "cost", "budget", "bill", "cloud", "anomal", "idle", "finops", "llm",
        ],
    ) {
        "finops"
    } else {
        match persona {
            Persona::Cro => "revops",
            Persona::Coo => "ops",
            Persona::Cfo | Persona::Cto => "finops",
        }
    }
}

/// The tool call for a classified turn, if the gateway should make one.
/// `knowledge_query` needs none: retrieval already grounds the answer.
pub fn plan(
    definition: &PersonaDefinition,
    intent: Intent,
    confidence: f32,
    text: &str,
) -> Option<PlannedCall> {
    if confidence < ACT_CONFIDENCE {
        return None;
    }
    let lower = text.to_lowercase();
    let call = match intent {
        Intent::AssetDiscovery => {
            if mentions(
                &lower,
                &[
                    "shadow",
                    "unsanctioned",
                    "unapproved",
                    "not approved",
                    "saas",
                ],
            ) {
                PlannedCall {
                    tool: "list_shadow_it",
                    arguments: json!({}),
                }
            } else {
                let pii = mentions(
                    &lower,
                    &[
                        "pii",
                        "personal",
                        "sensitive",
                        "email",
                        "ssn",
                        "card",
                        "iban",
                        "gdpr",
                    ],
                );
                PlannedCall {
                    tool: "search_assets",
                    arguments: json!({ "pii_only": pii }),
                }
            }
        }
        Intent::ConnectorStatus => {
            if mentions(
                &lower,
                &["drift", "schema change", "columns changed", "renamed"],
            ) {
                PlannedCall {
                    tool: "schema_drift_report",
                    arguments: json!({}),
                }
            } else {
                PlannedCall {
                    tool: "list_connectors",
                    arguments: json!({}),
                }
            }
        }
        Intent::MappingReview => PlannedCall {
            tool: "list_pending_mappings",
            arguments: json!({}),
        },
        Intent::AgentRun => PlannedCall {
            tool: "run_agent",
            arguments: json!({ "agent": agent_for(&lower, definition.persona), "focus": text }),
        },
        Intent::KnowledgeQuery | Intent::PlatformHelp | Intent::OutOfScope => return None,
    };
    definition.allows_tool(call.tool).then_some(call)
}

/// A pending mapping proposal, as the router needs to recognise it in text.
pub struct PendingMapping {
    pub id: uuid::Uuid,
    pub source_field: String,
}

const APPROVE_WORDS: &[&str] = &["approve", "accept", "confirm", "go ahead with"];
const REJECT_WORDS: &[&str] = &["reject", "decline", "refuse", "deny"];
const SYNC_WORDS: &[&str] = &["sync", "resync", "refresh", "re-run", "rerun", "pull"];

/// Whether the text asks for an action the router can name precisely.
pub fn wants_action(intent: Intent, text: &str) -> bool {
    let lower = text.to_lowercase();
    match intent {
        Intent::MappingReview => mentions(&lower, APPROVE_WORDS) || mentions(&lower, REJECT_WORDS),
        Intent::ConnectorStatus => mentions(&lower, SYNC_WORDS),
        _ => false,
    }
}

/// The side-effecting call a request names: approving or rejecting the
/// pending mapping whose source field the text mentions, or syncing the
/// connector it names. `None` when the text names nothing precisely (the
/// listing tool then answers, and nothing is guessed).
pub fn plan_action(
    definition: &PersonaDefinition,
    intent: Intent,
    text: &str,
    pending: &[PendingMapping],
    connectors: &[String],
) -> Option<PlannedCall> {
    let lower = text.to_lowercase();
    let call = match intent {
        Intent::MappingReview => {
            let reject = mentions(&lower, REJECT_WORDS);
            let approve = mentions(&lower, APPROVE_WORDS);
            if reject == approve {
                return None;
            }
            // The longest field named wins ("owning_team" over "team").
            let proposal = pending
                .iter()
                .filter(|p| {
                    let field = p.source_field.to_lowercase();
                    lower.contains(&field) || lower.contains(&field.replace('_', " "))
                })
                .max_by_key(|p| p.source_field.len())?;
            let tool = if approve {
                "approve_mapping"
            } else {
                "reject_mapping"
            };
            PlannedCall {
                tool,
                arguments: json!({ "proposal_id": proposal.id }),
            }
        }
        Intent::ConnectorStatus => {
            if !mentions(&lower, SYNC_WORDS) {
                return None;
            }
            let connector = connectors
                .iter()
                .filter(|c| lower.contains(&c.to_lowercase()))
                .max_by_key(|c| c.len())?;
            PlannedCall {
                tool: "trigger_sync",
                arguments: json!({ "connector": connector }),
            }
        }
        _ => return None,
    };
    definition.allows_tool(call.tool).then_some(call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use personas::PersonaSet;

    fn cfo() -> PersonaDefinition {
        PersonaSet::builtin()
            .map(|set| set.get(Persona::Cfo).clone())
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn confident_intents_run_their_tool() {
        let call = plan(
            &cfo(),
            Intent::AgentRun,
            0.9,
            "Our AWS bill jumped, what happened?",
        );
        assert_eq!(call.map(|c| c.tool), Some("run_agent"));
        let call = plan(&cfo(), Intent::AssetDiscovery, 0.8, "Any shadow IT apps?");
        assert_eq!(call.map(|c| c.tool), Some("list_shadow_it"));
    }

    #[test]
    fn unsure_or_document_questions_run_nothing() {
        assert_eq!(plan(&cfo(), Intent::AgentRun, 0.2, "spend?"), None);
        assert_eq!(plan(&cfo(), Intent::KnowledgeQuery, 0.99, "policy?"), None);
    }

    #[test]
    fn named_mappings_and_connectors_become_actions() {
        let pending = [
            PendingMapping {
                id: uuid::Uuid::from_u128(1),
                source_field: "team".into(),
            },
            PendingMapping {
                id: uuid::Uuid::from_u128(2),
                source_field: "owning_team".into(),
            },
        ];
        let call = plan_action(
            &cfo(),
            Intent::MappingReview,
            "Please approve the pending mapping for owning_team",
            &pending,
            &[],
        );
        assert_eq!(
            call,
            Some(PlannedCall {
                tool: "approve_mapping",
                arguments: json!({"proposal_id": uuid::Uuid::from_u128(2)})
            })
        );
        let call = plan_action(
            &cfo(),
            Intent::MappingReview,
            "reject the owning team one",
            &pending,
            &[],
        );
        assert_eq!(call.map(|c| c.tool), Some("reject_mapping"));
        assert_eq!(
            plan_action(&cfo(), Intent::MappingReview, "approve it", &pending, &[]),
            None,
            "nothing named, nothing guessed"
        );
        let call = plan_action(
            &cfo(),
            Intent::ConnectorStatus,
            "sync the ops-files connector now",
            &[],
            &["ops-files".into(), "crm-supabase".into()],
        );
        assert_eq!(
            call,
            Some(PlannedCall {
                tool: "trigger_sync",
                arguments: json!({"connector": "ops-files"})
            })
        );
    }

    #[test]
    fn the_agent_follows_the_words_then_the_persona() {
        assert_eq!(
            agent_for("how is our pipeline coverage", Persona::Cfo),
            "revops"
        );
        assert_eq!(agent_for("vendor delays this month", Persona::Cfo), "ops");
        assert_eq!(agent_for("what should we look at", Persona::Coo), "ops");
    }
}
