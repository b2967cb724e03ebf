//! The executive classifier end to end with the real local embedding model:
//! persona prior, follow-ups, out-of-scope, tenant isolation and bad input.
//! Needs all-MiniLM-L6-v2 in `AOS_MODEL_DIR` (see `scripts/fetch-model.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use personas::{
    Classification, Classifier, ClassifyError, ClassifyInput, Exemplar, Intent, Persona,
    PreviousTurn, TenantExemplars,
};
use std::sync::Arc;
use tokio::sync::OnceCell;

static CLASSIFIER: OnceCell<Classifier> = OnceCell::const_new();

/// One classifier for the whole file: building it embeds every exemplar.
async fn classifier() -> &'static Classifier {
    CLASSIFIER
        .get_or_init(|| async {
            let embedder = common::local_embedder();
            Classifier::builtin(Arc::new(embedder))
                .await
                .expect("classifier builds")
        })
        .await
}

async fn classify(
    text: &str,
    hint: Option<Persona>,
    previous: Option<PreviousTurn>,
) -> Classification {
    let input = ClassifyInput {
        text,
        persona_hint: hint,
        previous,
        embedding: None,
    };
    classifier()
        .await
        .classify(input, &TenantExemplars::default())
        .await
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[tokio::test]
async fn clear_requests_get_their_persona_and_intent() {
    let cases = [
        (
            "Why did our Azure invoice double in October?",
            Persona::Cfo,
            Intent::AgentRun,
        ),
        (
            "Which opportunities are likely to slip this quarter?",
            Persona::Cro,
            Intent::AgentRun,
        ),
        (
            "How many support tickets are past their SLA?",
            Persona::Coo,
            Intent::AgentRun,
        ),
        (
            "Is the Snowflake connector broken?",
            Persona::Cto,
            Intent::ConnectorStatus,
        ),
    ];
    for (text, persona, intent) in cases {
        let result = classify(text, None, None).await;
        assert_eq!(
            (result.persona, result.intent),
            (persona, intent),
            "{text}: {result:?}"
        );
        assert!(result.confidence > 0.0 && result.confidence <= 1.0);
        assert!(
            result
                .alternatives
                .iter()
                .all(|a| a.intent != result.intent)
        );
        assert!(!result.follow_up);
    }
}

#[tokio::test]
async fn off_topic_questions_are_out_of_scope() {
    for text in [
        "What's the weather forecast for Madrid this weekend?",
        "How long should I boil an egg for a soft yolk?",
        "Give me a recipe for vegetable curry",
    ] {
        let result = classify(text, Some(Persona::Cfo), None).await;
        assert_eq!(result.intent, Intent::OutOfScope, "{text}: {result:?}");
        assert_eq!(
            result.persona,
            Persona::Cfo,
            "off-topic keeps the chosen persona"
        );
    }
}

#[tokio::test]
async fn the_persona_prior_decides_ambiguous_text_but_not_clear_text() {
    for (text, personas) in [
        (
            "How are we doing against plan this quarter?",
            [Persona::Cfo, Persona::Cro],
        ),
        (
            "What should I worry about this week?",
            [Persona::Coo, Persona::Cto],
        ),
    ] {
        for persona in personas {
            let result = classify(text, Some(persona), None).await;
            assert_eq!(result.persona, persona, "{text}: {result:?}");
        }
    }
    let clear = "Which sales reps are furthest behind quota?";
    let result = classify(clear, Some(Persona::Cfo), None).await;
    assert_eq!(
        result.persona,
        Persona::Cro,
        "clear CRO text overrides a CFO prior: {result:?}"
    );
}

#[tokio::test]
async fn follow_ups_keep_the_previous_turn_unless_the_text_says_otherwise() {
    let previous = PreviousTurn {
        persona: Persona::Cfo,
        intent: Intent::AgentRun,
    };
    for text in [
        "and last month?",
        "what about EMEA?",
        "break that down by team",
    ] {
        let result = classify(text, None, Some(previous)).await;
        assert!(result.follow_up, "{text}");
        assert_eq!(
            (result.persona, result.intent),
            (Persona::Cfo, Intent::AgentRun),
            "{text}: {result:?}"
        );
    }
    let switched = classify(
        "Is the Snowflake connector failing again?",
        None,
        Some(previous),
    )
    .await;
    assert_eq!(switched.intent, Intent::ConnectorStatus, "{switched:?}");
    let fresh = classify("and last month?", None, None).await;
    assert!(!fresh.follow_up, "no previous turn, no follow-up");
}

#[tokio::test]
async fn one_tenants_exemplars_never_reach_another_tenant() {
    let classifier = classifier().await;
    let text = "show me the zorblax ledger reconciliation queue";
    let exemplars = vec![Exemplar {
        persona: Persona::Cfo,
        intent: Intent::MappingReview,
        text: "open the zorblax ledger reconciliation queue".into(),
    }];
    let tenant_a = classifier.tenant_exemplars(&exemplars).await.unwrap();
    let tenant_b = TenantExemplars::default();
    assert_eq!((tenant_a.len(), tenant_b.len()), (1, 0));
    let input = ClassifyInput {
        text,
        persona_hint: None,
        previous: None,
        embedding: None,
    };
    let before_b = classifier.classify(input, &tenant_b).await.unwrap();
    let a = classifier.classify(input, &tenant_a).await.unwrap();
    let after_b = classifier.classify(input, &tenant_b).await.unwrap();
    assert_eq!(a.intent, Intent::MappingReview, "{a:?}");
    assert_ne!(before_b.intent, Intent::MappingReview, "{before_b:?}");
    assert_eq!(
        before_b, after_b,
        "tenant B is unaffected by tenant A's exemplars"
    );

    let empty = vec![Exemplar {
        persona: Persona::Cto,
        intent: Intent::KnowledgeQuery,
        text: "   ".into(),
    }];
    let err = classifier.tenant_exemplars(&empty).await.unwrap_err();
    assert!(
        matches!(err, ClassifyError::EmptyExemplar { index: 0 }),
        "{err}"
    );
}

#[tokio::test]
async fn bad_input_gives_a_result_or_a_clear_error() {
    let classifier = classifier().await;
    let none = TenantExemplars::default();
    for text in ["", "   \n\t "] {
        let input = ClassifyInput {
            text,
            persona_hint: None,
            previous: None,
            embedding: None,
        };
        let err = classifier.classify(input, &none).await.unwrap_err();
        assert!(matches!(err, ClassifyError::EmptyText), "{err}");
        assert_eq!(err.to_string(), "the text is empty");
    }
    let huge = "Why did our cloud spend grow so much? ".repeat(1_400);
    assert!(huge.len() > 50_000);
    let emoji = "🙂🚀🔥💸🤷‍♀️";
    let mixed = "Pourquoi notre facture AWS a augmenté? 为什么云成本上涨 and what about EMEA?";
    let nul = "\u{0}\u{7}weird\u{200b}control";
    for text in [huge.as_str(), emoji, mixed, nul] {
        let result = classify(text, None, None).await;
        assert!(
            result.confidence.is_finite() && result.persona_confidence.is_finite(),
            "{result:?}"
        );
    }
    let emoji_result = classify(emoji, None, None).await;
    assert!(
        emoji_result.intent == Intent::OutOfScope || emoji_result.confidence < 0.6,
        "{emoji_result:?}"
    );
}

#[tokio::test]
async fn a_given_embedding_is_used_only_if_the_classifiers_model_made_it() {
    use knowledge::embed::{Embedded, Embedder};
    let embedder = common::local_embedder();
    let model = embedder.model_id().to_owned();
    let text = "Which of our data connectors failed last night?";
    let other = "What will the weather be like in Paris tomorrow?";
    let vectors = embedder
        .embed(&[text.to_owned(), other.to_owned()])
        .await
        .unwrap();
    fn with<'a>(text: &'a str, model_id: &'a str, vector: Option<&'a [f32]>) -> ClassifyInput<'a> {
        ClassifyInput {
            text,
            persona_hint: None,
            previous: None,
            embedding: vector.map(|vector| Embedded { model_id, vector }),
        }
    }
    let classifier = classifier().await;
    let none = TenantExemplars::default();
    let plain = classifier
        .classify(with(text, &model, None), &none)
        .await
        .unwrap();
    let given = classifier
        .classify(with(text, &model, Some(&vectors[0])), &none)
        .await
        .unwrap();
    assert_eq!((given.intent, given.persona), (plain.intent, plain.persona));
    assert!((given.confidence - plain.confidence).abs() < 1e-3);
    // Another text's vector moves the decision: it is really used.
    let moved = classifier
        .classify(with(text, &model, Some(&vectors[1])), &none)
        .await
        .unwrap();
    assert!(
        (moved.confidence - plain.confidence).abs() > 1e-3 || moved.intent != plain.intent,
        "{moved:?} vs {plain:?}"
    );
    // The same vector said to come from another model (an adapted encoder,
    // say) or of the wrong length is not used: the text is embedded again.
    for (model_id, vector) in [
        (
            "local/all-MiniLM-L6-v2+adapted-0123456789abcdef",
            &vectors[1][..],
        ),
        (model.as_str(), &[0.5f32; 3][..]),
    ] {
        let ignored = classifier
            .classify(with(text, model_id, Some(vector)), &none)
            .await
            .unwrap();
        assert_eq!(ignored.intent, plain.intent, "{model_id}");
        assert!(
            (ignored.confidence - plain.confidence).abs() < 1e-3,
            "{model_id}"
        );
    }
}
