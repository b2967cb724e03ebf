//! Classification through the API: personas and intents, follow-ups, tenant
//! exemplars kept per tenant, and bad input.

use e2e::{expect_error, expect_json, spawn_app};
use serde_json::json;

#[tokio::test]
async fn classifies_turns_and_keeps_tenant_exemplars_apart() {
    let app = spawn_app().await;
    let a = app.seed_tenant("Alpha").await;
    let b = app.seed_tenant("Beta").await;
    let a_token = app.admin_token(&a).await;
    let b_token = app.admin_token(&b).await;
    let classify = |token: String, body: serde_json::Value| {
        let app = &app;
        async move {
            let res = app
                .client
                .post(app.url("/api/v1/classify"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .unwrap();
            expect_json(res, 200).await
        }
    };

    let cost = classify(
        a_token.clone(),
        json!({ "text": "our AWS bill jumped last month, what happened?" }),
    )
    .await;
    assert_eq!(cost["persona"], "cfo", "{cost}");
    assert_eq!(cost["intent"], "agent_run", "{cost}");
    assert!(cost["confidence"].as_f64().unwrap() > 0.0);
    assert!(cost["alternatives"].is_array());

    let weather = classify(
        a_token.clone(),
        json!({ "text": "what's the weather in Lisbon tomorrow?" }),
    )
    .await;
    assert_eq!(weather["intent"], "out_of_scope", "{weather}");

    let follow = classify(
        a_token.clone(),
        json!({ "text": "and last month?", "previous": { "persona": "cro", "intent": "agent_run" } }),
    )
    .await;
    assert_eq!(
        (follow["persona"].as_str(), follow["intent"].as_str()),
        (Some("cro"), Some("agent_run")),
        "{follow}"
    );
    assert_eq!(follow["follow_up"], true);

    // A phrase only tenant A has taught the classifier.
    let phrase = "ping the zebra board";
    let before_b = classify(b_token.clone(), json!({ "text": phrase })).await;
    let res = app
        .client
        .post(app.url("/api/v1/classify/exemplars"))
        .bearer_auth(&a_token)
        .json(&json!({ "persona": "coo", "intent": "connector_status", "text": phrase }))
        .send()
        .await
        .unwrap();
    let stored = expect_json(res, 201).await;
    let after_a = classify(a_token.clone(), json!({ "text": phrase })).await;
    assert_eq!(
        (after_a["persona"].as_str(), after_a["intent"].as_str()),
        (Some("coo"), Some("connector_status")),
        "{after_a}"
    );
    let after_b = classify(b_token.clone(), json!({ "text": phrase })).await;
    assert_eq!(
        after_b, before_b,
        "tenant B must not see tenant A's exemplar"
    );

    // B cannot list or delete A's exemplars.
    let listed = expect_json(
        app.client
            .get(app.url("/api/v1/classify/exemplars"))
            .bearer_auth(&b_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(listed["exemplars"].as_array().unwrap().is_empty());
    let id = stored["id"].as_str().unwrap();
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/classify/exemplars/{id}")))
        .bearer_auth(&b_token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/classify/exemplars/{id}")))
        .bearer_auth(&a_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn bad_classification_input_gets_clear_answers() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let post = |body: serde_json::Value| {
        app.client
            .post(app.url("/api/v1/classify"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    assert_eq!(
        expect_error(post(json!({ "text": "   " })).await.unwrap(), 422).await,
        "validation_error"
    );
    assert_eq!(
        expect_error(
            post(json!({ "text": "x".repeat(100 * 1024) }))
                .await
                .unwrap(),
            422
        )
        .await,
        "validation_error"
    );
    assert_eq!(
        expect_error(
            post(json!({ "text": "hi", "persona_hint": "ceo" }))
                .await
                .unwrap(),
            422
        )
        .await,
        "validation_error"
    );
    // Long, emoji-only and mixed-language text still get an answer.
    for text in [
        "budget ".repeat(7_000),
        "🚀🔥📈".into(),
        "¿Cuál es el pipeline de ventas? 売上はどう?".into(),
    ] {
        let result = expect_json(post(json!({ "text": text })).await.unwrap(), 200).await;
        assert!(result["intent"].is_string(), "{result}");
    }
    let (_, viewer) = app.user_with_role(&token, "viewer").await;
    let res = app
        .client
        .post(app.url("/api/v1/classify/exemplars"))
        .bearer_auth(&viewer)
        .json(&json!({ "persona": "cfo", "intent": "agent_run", "text": "burn rate" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}
