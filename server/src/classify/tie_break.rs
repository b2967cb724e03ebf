//! When the classifier is unsure, an LLM (if configured) may pick the intent
//! among the classifier's own candidates, within a short time limit. Without
//! an LLM, or when it is slow, wrong or down, the classifier's answer stands.

use futures::StreamExt;
use personas::{Classification, Intent};
use std::time::Duration;

use crate::gateway::llm::{ChatMessage, ChatRequest, LlmClient, LlmDelta};
use crate::gateway::redact::Redactor;

/// Below this intent confidence the LLM is asked.
pub const ASK_BELOW: f32 = 0.5;
/// How long the LLM may take to decide.
const TIME_LIMIT: Duration = Duration::from_secs(3);
/// Candidates offered: the classifier's answer and its runners-up.
const CANDIDATES: usize = 3;

fn describe(intent: Intent) -> &'static str {
    match intent {
        Intent::KnowledgeQuery => {
            "answered from documents: policies, processes, definitions, runbooks"
        }
        Intent::AssetDiscovery => "finding data assets or applications, where PII lives, shadow IT",
        Intent::ConnectorStatus => {
            "health, sync state, errors, freshness or schema drift of connectors"
        }
        Intent::MappingReview => {
            "schema-mapping proposals: listing, explaining, approving, rejecting"
        }
        Intent::AgentRun => {
            "analysis of spend, pipeline, SLAs, vendors and similar from company data"
        }
        Intent::PlatformHelp => "greetings, thanks, what the assistant can do",
        Intent::OutOfScope => "unrelated to the business and the platform",
    }
}

pub struct TieBreaker {
    llm: LlmClient,
}

impl TieBreaker {
    pub fn new(llm: LlmClient) -> TieBreaker {
        TieBreaker { llm }
    }

    /// The classification, with its intent replaced by the LLM's choice when
    /// the classifier was unsure and the LLM picked one of its candidates.
    pub async fn settle(&self, text: &str, mut classification: Classification) -> Classification {
        if classification.confidence >= ASK_BELOW {
            return classification;
        }
        let mut candidates = vec![(classification.intent, classification.confidence)];
        candidates.extend(
            classification
                .alternatives
                .iter()
                .map(|a| (a.intent, a.confidence))
                .take(CANDIDATES - 1),
        );
        let Ok(Some(choice)) = tokio::time::timeout(TIME_LIMIT, self.ask(text, &candidates)).await
        else {
            return classification;
        };
        if choice != classification.intent
            && let Some(position) = classification
                .alternatives
                .iter()
                .position(|a| a.intent == choice)
        {
            let chosen = classification.alternatives.remove(position);
            classification.alternatives.insert(
                0,
                personas::Alternative {
                    intent: classification.intent,
                    confidence: classification.confidence,
                },
            );
            classification.intent = chosen.intent;
            classification.confidence = chosen.confidence;
        }
        classification
    }

    async fn ask(&self, text: &str, candidates: &[(Intent, f32)]) -> Option<Intent> {
        let options: String = candidates
            .iter()
            .map(|(intent, _)| format!("- {}: {}\n", intent.as_str(), describe(*intent)))
            .collect();
        let request = ChatRequest {
            messages: vec![
                ChatMessage::system(format!(
                    "Classify an executive's request to a company data platform assistant. \
                     Reply with exactly one of these intent names and nothing else:\n{options}"
                )),
                ChatMessage::user(Redactor::default().redact(text)),
            ],
            tools: Vec::new(),
            max_tokens: Some(10),
            temperature: Some(0.0),
        };
        let mut stream = self.llm.stream(&request).await.ok()?;
        let mut reply = String::new();
        while let Some(Ok(delta)) = stream.next().await {
            if let LlmDelta::Text(text) = delta {
                reply.push_str(&text);
            }
        }
        let reply = reply.to_lowercase();
        candidates
            .iter()
            .map(|(intent, _)| *intent)
            .find(|intent| reply.contains(intent.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::llm::LlmConfig;
    use crate::gateway::llm::tests::upstream::{Reply, Upstream};
    use personas::{Alternative, Persona};

    fn unsure(confidence: f32) -> Classification {
        Classification {
            persona: Persona::Cfo,
            persona_confidence: 0.8,
            persona_runner_up: Persona::Cro,
            intent: Intent::KnowledgeQuery,
            confidence,
            alternatives: vec![
                Alternative {
                    intent: Intent::AgentRun,
                    confidence: 0.3,
                },
                Alternative {
                    intent: Intent::PlatformHelp,
                    confidence: 0.1,
                },
            ],
            follow_up: false,
        }
    }

    async fn breaker(replies: Vec<Reply>) -> (Upstream, TieBreaker) {
        let upstream = Upstream::start(replies).await;
        let llm = LlmClient::new(LlmConfig::new(upstream.base_url.clone(), "m".to_owned()))
            .unwrap_or_else(|e| unreachable!("{e}"));
        (upstream, TieBreaker::new(llm))
    }

    #[tokio::test]
    async fn an_unsure_intent_is_settled_by_the_llm_among_the_candidates() {
        let (upstream, tie) = breaker(vec![Reply::Text(vec!["agent", "_run"])]).await;
        let settled = tie.settle("how are we doing on spend?", unsure(0.35)).await;
        assert_eq!(settled.intent, Intent::AgentRun);
        assert!((settled.confidence - 0.3).abs() < 1e-6);
        assert_eq!(settled.alternatives[0].intent, Intent::KnowledgeQuery);
        let prompt = upstream.requests()[0].to_string();
        assert!(
            prompt.contains("agent_run") && !prompt.contains("out_of_scope"),
            "{prompt}"
        );
    }

    #[tokio::test]
    async fn confident_answers_and_off_list_replies_stand() {
        let (upstream, tie) = breaker(vec![Reply::Text(vec!["out_of_scope"])]).await;
        let confident = tie.settle("x", unsure(0.9)).await;
        assert_eq!(confident.intent, Intent::KnowledgeQuery);
        assert!(
            upstream.requests().is_empty(),
            "a confident answer asks nobody"
        );
        let off_list = tie.settle("x", unsure(0.2)).await;
        assert_eq!(off_list.intent, Intent::KnowledgeQuery);
    }
}
