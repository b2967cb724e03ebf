//! Knowledge: ingestion of every format, replacement, deletion, filtered hybrid
//! search, tenant isolation and bad uploads, through the real API and CLI.

use e2e::{AppOptions, TestApp, expect_error, expect_json, spawn_app, spawn_app_with};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::path::PathBuf;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../knowledge/tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn upload_file(
    app: &TestApp,
    token: &str,
    name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    app.client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn upload_text(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn search(app: &TestApp, token: &str, body: Value) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/search"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(res, 200).await
}

fn titles(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_format_is_ingested_and_found() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    for (name, needle) in [
        ("sample.md", "hybrid retrieval BM25"),
        ("sample.txt", "ship the parser before the end of the month"),
        ("sample.html", ""),
        ("sample.pdf", "revenue grew by twelve percent"),
        ("sample.docx", "collect your laptop onboarding"),
        ("sample.csv", "Ada Lovelace London"),
    ] {
        let body = expect_json(
            upload_file(&app, &token, name, fixture(name), &[]).await,
            201,
        )
        .await;
        assert_eq!(body["status"], "created", "{name}");
        assert!(
            body["document"]["chunk_count"].as_i64().unwrap() >= 1,
            "{name}: {body}"
        );
        if needle.is_empty() {
            continue;
        }
        let results = search(&app, &token, json!({ "query": needle, "limit": 3 })).await;
        let top = &results["hits"][0];
        assert_eq!(
            top["document_id"], body["document"]["id"],
            "{name}: {results}"
        );
        assert!(top["scores"]["fused"].as_f64().unwrap() > 0.0);
        assert!(
            top["scores"]["vector_rank"].is_i64() && top["scores"]["lexical_rank"].is_i64(),
            "{top}"
        );
        assert!(!top["snippet"].as_str().unwrap().is_empty());
    }
    let list = expect_json(
        app.client
            .get(app.url("/api/v1/knowledge/documents?limit=2"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["total"], 6);
    assert_eq!(list["documents"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn same_content_is_a_no_op_and_changed_content_replaces_atomically() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let doc = json!({ "title": "Travel policy", "uri": "kb://policies/travel", "text": "# Travel\n\nEconomy class is required for flights under six hours." });
    let first = expect_json(upload_text(&app, &token, doc.clone()).await, 201).await;
    let again = expect_json(upload_text(&app, &token, doc).await, 200).await;
    assert_eq!(again["status"], "unchanged");
    assert_eq!(again["document"]["id"], first["document"]["id"]);

    let changed = json!({ "title": "Travel policy", "uri": "kb://policies/travel", "text": "# Travel\n\nBusiness class is allowed for flights over eight hours." });
    let replaced = expect_json(upload_text(&app, &token, changed).await, 200).await;
    assert_eq!(replaced["status"], "replaced");
    assert_eq!(replaced["document"]["id"], first["document"]["id"]);

    let results = search(
        &app,
        &token,
        json!({ "query": "economy class flights", "mode": "lexical" }),
    )
    .await;
    let contents: Vec<&str> = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["content"].as_str().unwrap())
        .collect();
    assert!(
        contents.iter().all(|c| !c.contains("Economy")),
        "old chunks must be gone: {contents:?}"
    );
    assert!(
        contents.iter().any(|c| c.contains("Business class")),
        "{contents:?}"
    );
    let list = expect_json(
        app.client
            .get(app.url("/api/v1/knowledge/documents"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["total"], 1);

    // The lexical statistics follow: the replaced text's own terms are gone.
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let mut tx = sqlx::Connection::begin(&mut conn).await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let (economy,): (i64,) =
        sqlx::query_as("select count(*) from term_stats where term = 'economi'")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    assert_eq!(economy, 0);
    let (chunks, postings_chunks): (i64, i64) = sqlx::query_as(
        "select (select chunk_count from corpus_stats), (select count(distinct chunk_id) from chunk_terms)",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(chunks, postings_chunks);
}

#[tokio::test]
async fn deleting_a_document_removes_it_from_search() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let created = expect_json(upload_text(&app, &token, json!({ "title": "Runbook", "text": "Restart the Kafka connector with the resync flag." })).await, 201).await;
    let id = created["document"]["id"].as_str().unwrap();
    assert_eq!(
        titles(&search(&app, &token, json!({ "query": "kafka connector resync" })).await),
        vec!["Runbook"]
    );
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/knowledge/documents/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        titles(&search(&app, &token, json!({ "query": "kafka connector resync" })).await)
            .is_empty()
    );
    let res = app
        .client
        .get(app.url(&format!("/api/v1/knowledge/documents/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 404).await, "not_found");
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/knowledge/documents/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn persona_document_and_tag_filters_apply_in_every_mode() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let finance = expect_json(upload_text(&app, &token, json!({ "title": "Cloud budget", "text": "The cloud budget for Q3 is 1.2 million dollars across AWS and GCP.", "personas": ["cfo"], "tags": ["finance"] })).await, 201).await;
    let tech = expect_json(upload_text(&app, &token, json!({ "title": "Cloud architecture", "text": "Our cloud architecture runs on AWS with GCP for analytics workloads.", "personas": ["cto"], "tags": ["engineering"] })).await, 201).await;
    upload_text(&app, &token, json!({ "title": "Company handbook", "text": "Everyone may use the cloud drive for shared files." })).await;

    for mode in ["hybrid", "lexical", "dense"] {
        let all = titles(
            &search(
                &app,
                &token,
                json!({ "query": "cloud AWS GCP", "mode": mode }),
            )
            .await,
        );
        assert_eq!(all.len(), 3, "{mode}: {all:?}");
        let cfo = titles(
            &search(
                &app,
                &token,
                json!({ "query": "cloud AWS GCP", "mode": mode, "personas": ["cfo"] }),
            )
            .await,
        );
        assert!(
            cfo.contains(&"Cloud budget".to_owned())
                && !cfo.contains(&"Cloud architecture".to_owned()),
            "{mode}: {cfo:?}"
        );
        assert!(
            cfo.contains(&"Company handbook".to_owned()),
            "documents for everyone stay visible: {cfo:?}"
        );
        let tagged = titles(
            &search(
                &app,
                &token,
                json!({ "query": "cloud AWS GCP", "mode": mode, "tags": ["engineering"] }),
            )
            .await,
        );
        assert_eq!(tagged, vec!["Cloud architecture"], "{mode}");
        let by_id = titles(&search(&app, &token, json!({ "query": "cloud AWS GCP", "mode": mode, "document_ids": [finance["document"]["id"]] })).await);
        assert_eq!(by_id, vec!["Cloud budget"], "{mode}");
    }
    let _ = tech;
}

#[tokio::test]
async fn another_tenant_never_sees_the_documents() {
    let app = spawn_app().await;
    let a = app.seed_tenant("Alpha").await;
    let b = app.seed_tenant("Beta").await;
    let a_token = app.admin_token(&a).await;
    let b_token = app.admin_token(&b).await;
    let created = expect_json(upload_text(&app, &a_token, json!({ "title": "Alpha secrets", "text": "Project Nightingale launches in October with a 40 percent margin." })).await, 201).await;
    let id = created["document"]["id"].as_str().unwrap();
    for mode in ["hybrid", "lexical", "dense"] {
        let results = search(
            &app,
            &b_token,
            json!({ "query": "Project Nightingale margin", "mode": mode, "document_ids": [id] }),
        )
        .await;
        assert!(
            results["hits"].as_array().unwrap().is_empty(),
            "{mode}: {results}"
        );
    }
    let res = app
        .client
        .get(app.url(&format!("/api/v1/knowledge/documents/{id}")))
        .bearer_auth(&b_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client
        .delete(app.url(&format!("/api/v1/knowledge/documents/{id}")))
        .bearer_auth(&b_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let list = expect_json(
        app.client
            .get(app.url("/api/v1/knowledge/documents"))
            .bearer_auth(&b_token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["total"], 0);
    // A is untouched.
    assert_eq!(
        titles(&search(&app, &a_token, json!({ "query": "Project Nightingale" })).await),
        vec!["Alpha secrets"]
    );
}

#[tokio::test]
async fn a_different_embedding_model_is_refused() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    let mut tx = sqlx::Connection::begin(&mut conn).await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("insert into knowledge_settings (tenant_id, embedding_model, dimension) values ($1, 'openai/text-embedding-3-large', 384)")
        .bind(tenant.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let res = upload_text(
        &app,
        &token,
        json!({ "title": "Doc", "text": "Some text worth indexing." }),
    )
    .await;
    let body = expect_json(res, 409).await;
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("text-embedding-3-large"),
        "{body}"
    );
    // A dimension other than the index's is refused by the schema itself.
    let mut tx = sqlx::Connection::begin(&mut conn).await.unwrap();
    sqlx::query("select set_config('app.tenant_id', $1, true)")
        .bind(tenant.id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query("update knowledge_settings set dimension = 1536")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("check constraint"), "{err}");
}

#[tokio::test]
async fn bad_uploads_and_queries_get_clear_errors() {
    let app = spawn_app_with(AppOptions {
        env: vec![("AOS_UPLOAD_LIMIT_BYTES".into(), "65536".into())],
        ..Default::default()
    })
    .await;
    let tenant = app.seed_tenant("Acme").await;
    let token = app.admin_token(&tenant).await;
    let mut corrupt_pdf = fixture("sample.pdf");
    corrupt_pdf.truncate(corrupt_pdf.len() / 3);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty.md", Vec::new(), 422),
        (
            "garbage.txt",
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect(),
            422,
        ),
        ("broken.pdf", corrupt_pdf, 422),
        ("tool.exe", b"MZ\x90\x00binary".to_vec(), 415),
    ];
    for (name, bytes, status) in cases {
        let res = upload_file(&app, &token, name, bytes, &[]).await;
        expect_error(res, status).await;
    }
    let res = upload_file(
        &app,
        &token,
        "sample.md",
        fixture("sample.md"),
        &[("personas", "ceo")],
    )
    .await;
    assert_eq!(expect_error(res, 422).await, "validation_error");

    let big = reqwest::Client::new()
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(&token)
        .multipart(Form::new().part(
            "file",
            Part::bytes(vec![b'a'; 200 * 1024]).file_name("big.txt"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(big, 413).await, "payload_too_large");

    let res = app
        .client
        .post(app.url("/api/v1/knowledge/search"))
        .bearer_auth(&token)
        .json(&json!({ "query": "x".repeat(100 * 1024) }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/search"))
        .bearer_auth(&token)
        .json(&json!({ "query": "q ".repeat(5000) }))
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 422).await, "validation_error");
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/knowledge/documents?{}",
            "a=b&".repeat(15_000)
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/search"))
        .bearer_auth(&token)
        .json(&json!({ "query": "ok", "limit": 500 }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let res = app
        .client
        .post(app.url("/api/v1/knowledge/documents"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(expect_error(res, 415).await, "unsupported_media_type");

    // A NUL in metadata is refused up front, not by the database.
    let res = upload_text(&app, &token, json!({ "title": "a\u{0}b", "text": "body" })).await;
    assert_eq!(expect_error(res, 422).await, "validation_error");

    // A viewer may search but not upload.
    let (_, viewer) = app.user_with_role(&token, "viewer").await;
    let res = upload_text(&app, &viewer, json!({ "title": "x", "text": "y" })).await;
    assert_eq!(res.status(), 403);
    search(&app, &viewer, json!({ "query": "anything" })).await;

    // Nothing half-made was stored.
    let list = expect_json(
        app.client
            .get(app.url("/api/v1/knowledge/documents"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn cli_ingest_keeps_going_past_bad_files() {
    let app = spawn_app().await;
    let tenant = app.seed_tenant("Acme").await;
    let dir = std::env::temp_dir().join(format!("aos-ingest-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    std::fs::write(
        dir.join("policy.md"),
        "# Expenses\n\nReceipts are due within 30 days.",
    )
    .unwrap();
    std::fs::write(
        dir.join("nested/sla.txt"),
        "Support tickets get a first answer within four hours.",
    )
    .unwrap();
    std::fs::write(dir.join("empty.txt"), "").unwrap();
    std::fs::write(dir.join("image.png"), [0x89, b'P', b'N', b'G']).unwrap();
    let out = tokio::process::Command::new(e2e::aos_bin())
        .args([
            "ingest",
            "--tenant",
            &tenant.id.to_string(),
            "--tags",
            "handbook",
        ])
        .arg(&dir)
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("AOS_MODEL_DIR", std::env::var("AOS_MODEL_DIR").unwrap())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("2 new"), "{stderr}");
    assert!(
        stderr.contains("empty.txt") && stderr.contains("image.png"),
        "{stderr}"
    );
    let token = app.admin_token(&tenant).await;
    let results = search(
        &app,
        &token,
        json!({ "query": "first answer support tickets", "tags": ["handbook"] }),
    )
    .await;
    assert_eq!(titles(&results)[0], "sla.txt");
    std::fs::remove_dir_all(&dir).ok();
}
