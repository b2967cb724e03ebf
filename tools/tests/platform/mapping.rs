//! Tests of the mapping module: proposals a person would agree with, the
//! approve and reject tools behind an approver's decision, explanations, CSV
//! import and export, and tenant isolation.

// Helpers outside `#[test]` functions fail loudly too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;
use tools::connectors::{self, ColumnProfile, ColumnType};
use tools::mapping::{self, MappingError, ProposalStatus};
use tools::{Actor, DecideError, Decision, InvokeOptions, Role, ToolError};
use uuid::Uuid;

use crate::connectors::{approve_all, files_connector, folder_with, scratch_root};
use crate::support::TestPlatform;

async fn pending(tp: &TestPlatform, tenant: Uuid) -> Vec<mapping::Proposal> {
    let mut tx = tools::begin_tenant(&tp.pool, tenant).await.unwrap();
    mapping::list_pending(&mut tx, None, 100).await.unwrap()
}

async fn registry(tp: &TestPlatform) -> Vec<mapping::RegistryEntry> {
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    mapping::list_registry(&mut tx, None).await.unwrap()
}

#[tokio::test]
async fn proposals_pair_fields_as_a_person_would() {
    let root = scratch_root();
    let dir = folder_with(
        &root,
        "finops",
        &[
            ("cloud_costs.csv", "cloud_costs.csv"),
            ("employees.csv", "employees.csv"),
        ],
    );
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "finops-files", &dir).await;
    let report = connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let employees = report
        .entities
        .iter()
        .find(|e| e.entity == "employees.csv")
        .unwrap();
    assert_eq!(
        employees.proposals_raised, 0,
        "no canonical entity fits an HR file"
    );

    let proposals = pending(&tp, tp.tenant).await;
    let mut pairs: Vec<(String, String)> = proposals
        .iter()
        .map(|p| (p.source_field.clone(), p.target_label()))
        .collect();
    pairs.sort();
    let expected = [
        ("account_id", "cloud_cost.account"),
        ("avg_cpu_pct", "cloud_cost.cpu_utilization_pct"),
        ("cloud", "cloud_cost.provider"),
        ("date", "cloud_cost.usage_date"),
        ("env_tag", "cloud_cost.environment"),
        ("product", "cloud_cost.service"),
        ("resource", "cloud_cost.resource_id"),
        ("team_tag", "cloud_cost.team"),
        ("unblended_cost", "cloud_cost.cost_usd"),
    ];
    assert_eq!(
        pairs,
        expected.map(|(a, b)| (a.to_owned(), b.to_owned())),
        "{:#?}",
        proposals.iter().map(|p| &p.rationale).collect::<Vec<_>>()
    );
    for p in &proposals {
        assert!(
            (0.45..=1.0).contains(&p.confidence),
            "{} {}",
            p.confidence,
            p.rationale
        );
        assert_eq!(p.status, ProposalStatus::Pending);
        for signal in ["semantic", "lexical", "type_compatibility", "value_profile"] {
            let v = p.signals[signal].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{signal} = {v}");
        }
        assert_eq!(p.signals["trigger"], "new_entity");
    }
    let cost = proposals
        .iter()
        .find(|p| p.source_field == "unblended_cost")
        .unwrap();
    assert!(
        cost.rationale
            .starts_with("`unblended_cost` → cloud_cost.cost_usd: names "),
        "{}",
        cost.rationale
    );
    assert!(
        cost.rationale
            .ends_with("both numeric, values look like amounts"),
        "{}",
        cost.rationale
    );
    assert_eq!(cost.source_type, "number");
    assert_eq!(cost.signals["samples"][0], "1692.65");

    // `unblended_cost` is a far better `cost_usd` than `team_tag` would be.
    let column = |name: &str, column_type, samples: &[&str]| ColumnProfile {
        name: name.into(),
        column_type,
        declared_type: None,
        samples: samples.iter().map(|s| (*s).to_owned()).collect(),
        distinct: u32::try_from(samples.len()).unwrap(),
        non_empty: 12,
        sampled: 12,
    };
    let amounts = column(
        "unblended_cost",
        ColumnType::Number,
        &["1692.65", "946.83", "298.85"],
    );
    let teams = column("team_tag", ColumnType::Text, &["platform", "data", "ml"]);
    let (good, _) = mapping::score_field(&tp.platform, &amounts, "cloud_cost", "cost_usd")
        .await
        .unwrap();
    let (bad, signals) = mapping::score_field(&tp.platform, &teams, "cloud_cost", "cost_usd")
        .await
        .unwrap();
    assert!(
        good > 0.6 && bad < 0.3 && good - bad > 0.4,
        "{good} vs {bad}: {signals:?}"
    );
    assert!(
        (good - cost.confidence).abs() < 0.05,
        "the same scoring as the proposal"
    );
    assert!(matches!(
        mapping::score_field(&tp.platform, &teams, "cloud_cost", "nope").await,
        Err(MappingError::NotFound(_))
    ));

    // Asking again proposes nothing new: every column has a proposal waiting.
    let again =
        mapping::propose_for_entity(&tp.platform, tp.tenant, connector.id, "cloud_costs.csv")
            .await
            .unwrap();
    assert!(again.is_empty());
}

#[tokio::test]
async fn approve_mapping_waits_for_an_approver_and_applies_once() {
    let root = scratch_root();
    let dir = folder_with(&root, "finops", &[("cloud_costs.csv", "cloud_costs.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "finops-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let proposal = pending(&tp, tp.tenant)
        .await
        .into_iter()
        .find(|p| p.source_field == "unblended_cost")
        .unwrap();

    let requested = tp
        .registry
        .invoke(
            &tp.ctx(Role::Analyst),
            "approve_mapping",
            json!({"proposal_id": proposal.id}),
            InvokeOptions::default(),
        )
        .await;
    let approval = match requested {
        Err(ToolError::NeedsApproval(approval)) => approval,
        other => panic!("expected an approval, got {other:?}"),
    };
    assert_eq!(
        approval.summary,
        format!(
            "approve mapping finops-files/cloud_costs.csv.unblended_cost → cloud_cost.cost_usd (confidence {:.2})",
            proposal.confidence
        )
    );
    assert!(
        registry(&tp).await.is_empty(),
        "nothing changes before a decision"
    );

    let viewer = tp
        .registry
        .decide(&tp.ctx(Role::Viewer), approval.id, Decision::Approve, None)
        .await;
    assert!(
        matches!(viewer, Err(DecideError::Denied { .. })),
        "{viewer:?}"
    );
    let analyst = tp
        .registry
        .decide(&tp.ctx(Role::Analyst), approval.id, Decision::Approve, None)
        .await;
    assert!(
        matches!(analyst, Err(DecideError::Denied { .. })),
        "{analyst:?}"
    );
    assert!(registry(&tp).await.is_empty());

    let (approver, admin) = (tp.ctx(Role::Approver), tp.ctx(Role::Admin));
    let (a, b) = tokio::join!(
        tp.registry.decide(
            &approver,
            approval.id,
            Decision::Approve,
            Some("looks right")
        ),
        tp.registry
            .decide(&admin, approval.id, Decision::Approve, None),
    );
    assert_eq!(
        [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
        1,
        "{a:?} {b:?}"
    );
    let loser = if a.is_ok() { &b } else { &a };
    assert!(
        matches!(loser, Err(DecideError::AlreadyDecided(_))),
        "{loser:?}"
    );
    let decided = a.or(b).unwrap();
    assert_eq!(
        decided.status,
        tools::ApprovalStatus::Executed,
        "{:?}",
        decided.error
    );
    assert_eq!(
        decided.result.unwrap()["summary"],
        "mapped finops-files/cloud_costs.csv.unblended_cost → cloud_cost.cost_usd; the next sync writes it"
    );

    let entries = registry(&tp).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].source_field, "unblended_cost");
    assert_eq!(entries[0].canonical_field, "cost_usd");
    assert_eq!(entries[0].proposal_id, Some(proposal.id));
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let stored = mapping::get_proposal(&mut tx, proposal.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ProposalStatus::Approved);
    assert!(stored.decided_by_user.is_some());
    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where action = 'mapping.approve' and target_id = $1",
    )
    .bind(proposal.id.to_string())
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(audited, 1, "applied exactly once");
    drop(tx);

    // A decided proposal cannot be asked for again.
    match tp
        .registry
        .invoke(
            &tp.ctx(Role::Analyst),
            "approve_mapping",
            json!({"proposal_id": proposal.id}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::BadArgs(reason)) => {
            assert!(reason.contains("is already approved"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rejected_mappings_are_closed_and_not_proposed_again() {
    let root = scratch_root();
    let dir = folder_with(&root, "finops", &[("cloud_costs.csv", "cloud_costs.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "finops-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let product = pending(&tp, tp.tenant)
        .await
        .into_iter()
        .find(|p| p.source_field == "product")
        .unwrap();
    let approval = match tp
        .registry
        .invoke(
            &tp.ctx(Role::Analyst),
            "reject_mapping",
            json!({"proposal_id": product.id, "reason": "product is the SKU, not the service"}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::NeedsApproval(approval)) => approval,
        other => panic!("{other:?}"),
    };
    assert!(
        approval.summary.starts_with(
            "reject mapping finops-files/cloud_costs.csv.product → cloud_cost.service"
        )
    );
    let decided = tp
        .registry
        .decide(
            &tp.ctx(Role::Approver),
            approval.id,
            Decision::Approve,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        decided.status,
        tools::ApprovalStatus::Executed,
        "{:?}",
        decided.error
    );
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let stored = mapping::get_proposal(&mut tx, product.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ProposalStatus::Rejected);
    drop(tx);
    assert!(registry(&tp).await.is_empty());

    // Asked to propose again, it does not offer the rejected pairing.
    let again =
        mapping::propose_for_entity(&tp.platform, tp.tenant, connector.id, "cloud_costs.csv")
            .await
            .unwrap();
    assert!(
        again
            .iter()
            .all(|p| !(p.source_field == "product" && p.canonical_field == "service")),
        "{again:?}"
    );

    // Rejecting an approval request leaves the proposal pending.
    let other = pending(&tp, tp.tenant).await.into_iter().next().unwrap();
    let approval = match tp
        .registry
        .invoke(
            &tp.ctx(Role::Analyst),
            "approve_mapping",
            json!({"proposal_id": other.id}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::NeedsApproval(approval)) => approval,
        other => panic!("{other:?}"),
    };
    let declined = tp
        .registry
        .decide(
            &tp.ctx(Role::Approver),
            approval.id,
            Decision::Reject,
            Some("not yet"),
        )
        .await
        .unwrap();
    assert_eq!(declined.status, tools::ApprovalStatus::Rejected);
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    let still = mapping::get_proposal(&mut tx, other.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(still.status, ProposalStatus::Pending);
}

#[tokio::test]
async fn list_and_explain_tools_give_readable_lines() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let viewer = tp.ctx(Role::Viewer);

    let listed = tp
        .registry
        .invoke(
            &viewer,
            "list_pending_mappings",
            json!({"connector": "support-files", "limit": 3}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        listed.summary.starts_with("8 mapping proposal(s) waiting for `support-files`, showing 3; most confident: support-files/tickets.csv."),
        "{}",
        listed.summary
    );
    assert_eq!(listed.data["total"], 8);
    let shown = listed.data["proposals"].as_array().unwrap();
    assert_eq!(shown.len(), 3);
    assert!(shown[0]["confidence"].as_f64().unwrap() >= shown[2]["confidence"].as_f64().unwrap());

    let team = pending(&tp, tp.tenant)
        .await
        .into_iter()
        .find(|p| p.source_field == "assigned_team")
        .unwrap();
    let explained = tp
        .registry
        .invoke(
            &viewer,
            "explain_mapping",
            json!({"proposal_id": team.id}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert!(
        explained
            .summary
            .starts_with("`assigned_team` → ticket.team: names "),
        "{}",
        explained.summary
    );
    assert!(
        explained
            .summary
            .contains("pending); sample values: Platform, Billing, Integrations"),
        "{}",
        explained.summary
    );
    assert_eq!(
        explained.data["canonical_description"],
        "support team the ticket is assigned to"
    );
    assert_eq!(explained.data["column"]["type"], "text");
    assert!(
        explained.data["proposal"]["signals"]["alternatives"]
            .as_array()
            .unwrap()
            .len()
            == 2
    );

    for (args, reason) in [
        (json!({"limit": 0}), "`limit` must be between 1 and 100"),
        (json!({"limit": "ten"}), "invalid type"),
        (
            json!({"connector": "support-files", "extra": 1}),
            "unknown field `extra`",
        ),
    ] {
        match tp
            .registry
            .invoke(
                &viewer,
                "list_pending_mappings",
                args,
                InvokeOptions::default(),
            )
            .await
        {
            Err(ToolError::BadArgs(message)) => assert!(message.contains(reason), "{message}"),
            other => panic!("{other:?}"),
        }
    }
    match tp
        .registry
        .invoke(
            &viewer,
            "explain_mapping",
            json!({"proposal_id": "not-a-uuid"}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::BadArgs(message)) => assert!(message.contains("UUID"), "{message}"),
        other => panic!("{other:?}"),
    }
    match tp
        .registry
        .invoke(
            &viewer,
            "explain_mapping",
            json!({"proposal_id": Uuid::new_v4()}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::NotFound(message)) => assert!(
            message.starts_with("there is no mapping proposal"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn mappings_round_trip_through_csv() {
    let root = scratch_root();
    let dir = folder_with(
        &root,
        "files",
        &[
            ("cloud_costs.csv", "cloud_costs.csv"),
            ("tickets.csv", "tickets.csv"),
        ],
    );
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "ops-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    approve_all(&tp, connector.id, "tickets.csv").await;
    let before = registry(&tp).await;
    assert_eq!(before.len(), 8);

    let mut exported = Vec::new();
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    assert_eq!(
        mapping::export_csv(&mut tx, &mut exported).await.unwrap(),
        8
    );
    let text = String::from_utf8(exported.clone()).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("connector,source_entity,source_field,canonical_entity,canonical_field")
    );
    assert!(
        text.contains("ops-files,tickets.csv,assigned_team,ticket,team\n"),
        "{text}"
    );

    // Wipe the registry, import the export: the same mappings.
    sqlx::query("delete from mapping_registry")
        .execute(&mut *tx)
        .await
        .unwrap();
    let actor = Actor::User(tp.user(Role::Admin));
    let report = mapping::import_csv(&mut tx, exported.as_slice(), actor)
        .await
        .unwrap();
    assert_eq!(
        (report.applied, report.unchanged, report.errors.len()),
        (8, 0, 0)
    );
    let mut again = Vec::new();
    mapping::export_csv(&mut tx, &mut again).await.unwrap();
    assert_eq!(String::from_utf8(again).unwrap(), text);
    // Importing the same file twice changes nothing.
    let report = mapping::import_csv(&mut tx, exported.as_slice(), actor)
        .await
        .unwrap();
    assert_eq!((report.applied, report.unchanged), (0, 8));

    // Bad rows are reported by number; the good ones apply.
    let input = "canonical_field,connector,source_entity,source_field,canonical_entity
cost_usd,ops-files,cloud_costs.csv,unblended_cost,cloud_cost
cost_usd,nope,cloud_costs.csv,unblended_cost,cloud_cost
x,ops-files,cloud_costs.csv,date,galaxy
colour,ops-files,cloud_costs.csv,date,cloud_cost
usage_date,ops-files,cloud_costs.csv,,cloud_cost
";
    let report = mapping::import_csv(&mut tx, input.as_bytes(), actor)
        .await
        .unwrap();
    assert_eq!(report.applied, 1);
    let errors: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.row, e.error.as_str()))
        .collect();
    assert_eq!(errors[0], (2, "there is no connector named `nope`"));
    assert_eq!(errors[1], (3, "`galaxy` is not a canonical entity"));
    assert_eq!(errors[2].0, 4);
    assert!(
        errors[2]
            .1
            .starts_with("`colour` is not a field of cloud_cost (fields: usage_date,"),
        "{}",
        errors[2].1
    );
    assert_eq!(errors[3], (5, "`source_field` is empty"));
    // The imported mapping supersedes the proposal waiting for that field.
    let superseded: String = sqlx::query_scalar(
        "select status from mapping_proposals where source_field = 'unblended_cost' order by created_at limit 1",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    assert_eq!(superseded, "superseded");

    let missing = mapping::import_csv(&mut tx, "connector,source_entity\n".as_bytes(), actor).await;
    match missing {
        Err(MappingError::Csv(message)) => {
            assert!(message.contains("`source_field` is missing"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    tx.commit().await.unwrap();

    // Another tenant exports only a header and cannot import into our connector.
    let other = tp.other_tenant().await;
    let mut tx = tools::begin_tenant(&tp.pool, other).await.unwrap();
    let mut theirs = Vec::new();
    assert_eq!(mapping::export_csv(&mut tx, &mut theirs).await.unwrap(), 0);
    let report = mapping::import_csv(&mut tx, exported.as_slice(), Actor::System)
        .await
        .unwrap();
    assert_eq!(report.applied, 0);
    assert!(
        report
            .errors
            .iter()
            .all(|e| e.error == "there is no connector named `ops-files`")
    );
}

#[tokio::test]
async fn another_tenant_cannot_see_or_decide_our_proposals() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    let ours = pending(&tp, tp.tenant).await;
    assert_eq!(ours.len(), 8);

    let other = tp.other_tenant().await;
    assert!(pending(&tp, other).await.is_empty());
    let mut tx = tools::begin_tenant(&tp.pool, other).await.unwrap();
    assert!(
        mapping::get_proposal(&mut tx, ours[0].id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        mapping::approve(&mut tx, ours[0].id, Actor::System).await,
        Err(MappingError::NotFound(_))
    ));
    assert!(
        mapping::list_registry(&mut tx, None)
            .await
            .unwrap()
            .is_empty()
    );
    drop(tx);
    let mut ctx = tp.ctx(Role::Approver);
    ctx.caller.tenant = other;
    match tp
        .registry
        .invoke(
            &ctx,
            "approve_mapping",
            json!({"proposal_id": ours[0].id}),
            InvokeOptions::default(),
        )
        .await
    {
        Err(ToolError::NotFound(_)) => {}
        other => panic!("{other:?}"),
    }
    let listed = tp
        .registry
        .invoke(
            &ctx,
            "list_pending_mappings",
            json!({}),
            InvokeOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.summary, "no mapping proposals waiting");
    assert!(matches!(
        mapping::propose_for_entity(&tp.platform, other, connector.id, "tickets.csv").await,
        Err(MappingError::NotFound(_))
    ));
    // Ours are untouched.
    assert!(
        pending(&tp, tp.tenant)
            .await
            .iter()
            .all(|p| p.status == ProposalStatus::Pending)
    );
}

#[tokio::test]
async fn drift_before_any_decision_carries_the_waiting_proposals_forward() {
    let root = scratch_root();
    let dir = folder_with(&root, "support", &[("tickets.csv", "tickets.csv")]);
    let tp = TestPlatform::new(vec![root.to_path_buf()]).await;
    let connector = files_connector(&tp, "support-files", &dir).await;
    connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(pending(&tp, tp.tenant).await.len(), 8);

    std::fs::copy(
        crate::connectors::fixture("tickets_v2.csv"),
        dir.join("tickets.csv"),
    )
    .unwrap();
    let report = connectors::scan(&tp.platform, tp.tenant, connector.id)
        .await
        .unwrap();
    assert_eq!(report.entities[0].proposals_raised, 3);
    let now = pending(&tp, tp.tenant).await;
    let fields: std::collections::BTreeSet<&str> =
        now.iter().map(|p| p.source_field.as_str()).collect();
    assert!(
        !fields.contains("assigned_team"),
        "the vanished column's proposal is superseded"
    );
    assert!(fields.contains("owning_team") && fields.contains("channel"));
    assert_eq!(now.len(), 9);
    let renamed = now
        .iter()
        .find(|p| p.source_field == "owning_team")
        .unwrap();
    assert_eq!(renamed.target_label(), "ticket.team");
    assert!(
        renamed
            .rationale
            .contains("renamed from `assigned_team` (proposed for ticket.team)"),
        "{}",
        renamed.rationale
    );
    let priority = now.iter().find(|p| p.source_field == "priority").unwrap();
    assert_eq!(priority.source_type, "text");
    assert!(
        priority.rationale.contains("retyped integer → text; "),
        "{}",
        priority.rationale
    );
    assert_eq!(
        get_status(&tp, connector.id).await,
        connectors::ConnectorStatus::Drifted
    );
}

async fn get_status(tp: &TestPlatform, id: Uuid) -> connectors::ConnectorStatus {
    crate::connectors::get_connector(tp, id).await.status
}
