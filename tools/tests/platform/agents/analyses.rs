//! The agents' findings over the data sets, figure by figure.

use serde_json::json;
use tools::agents::{Agent, RunParameters};

use super::data::{
    FINOPS_HEADLINE, OPS_HEADLINE, REVOPS_HEADLINE, finops_data, ops_data, revops_data,
};
use super::{run_inline, section};
use crate::support::TestPlatform;

#[tokio::test]
async fn finops_finds_the_spike_the_idle_database_and_the_budget_overruns() {
    let tp = TestPlatform::new(vec![]).await;
    finops_data(&tp).await;
    let (_, report) = run_inline(&tp, Agent::FinOps, RunParameters::default()).await;

    assert_eq!(report.headline, FINOPS_HEADLINE);
    assert_eq!(section(&report, "as_of"), "2026-03-15");
    assert_eq!(
        section(&report, "spend_by_month"),
        &json!([{"month": "2026-02", "spend_usd": 5880.0}, {"month": "2026-03", "spend_usd": 3810.0}])
    );
    assert_eq!(
        section(&report, "spend_by_service")[0],
        json!({"name": "EC2", "month_to_date_usd": 1950.0, "previous_month_usd": 3640.0, "period_total_usd": 5590.0})
    );
    assert_eq!(
        section(&report, "spend_by_account")[0],
        json!({"name": "prod", "month_to_date_usd": 2700.0, "previous_month_usd": 4200.0, "period_total_usd": 6900.0})
    );

    let anomalies = section(&report, "anomalies").as_array().unwrap();
    assert_eq!(
        anomalies[0],
        json!({"date": "2026-03-10", "service": "CloudFront", "spend_usd": 500.0, "expected_usd": 50.0, "z": 607.04})
    );
    // The LLM step-up: every day since 2026-03-09 stands out from the 28 before.
    assert_eq!(anomalies.len(), 8);
    for (i, a) in anomalies[1..].iter().enumerate() {
        assert_eq!(a["service"], "OpenAI API");
        assert_eq!(a["date"], format!("2026-03-{:02}", 9 + i));
        assert_eq!(a["expected_usd"], 10.0);
        assert_eq!(a["z"], 202.35);
    }

    assert_eq!(
        section(&report, "idle_resources"),
        &json!([{"resource_id": "idle-db", "service": "RDS", "account": "staging", "team": "platform",
                 "avg_cpu_pct": 2.0, "avg_daily_usd": 20.0, "monthly_cost_usd": 600.0}])
    );
    assert_eq!(
        section(&report, "budgets"),
        &json!([
            {"account": "prod", "budget_usd": 4000.0, "month_to_date_usd": 2700.0, "projected_usd": 5580.0,
             "projected_variance_usd": 1580.0, "status": "projected_over"},
            {"account": "ml", "budget_usd": 300.0, "month_to_date_usd": 360.0, "projected_usd": 744.0,
             "projected_variance_usd": 444.0, "status": "over"},
            {"account": "staging", "budget_usd": 2000.0, "month_to_date_usd": 750.0, "projected_usd": 1550.0,
             "projected_variance_usd": -450.0, "status": "on_track"},
        ])
    );
    assert_eq!(
        section(&report, "llm_spend"),
        &json!([{"service": "OpenAI API", "month_to_date_usd": 360.0, "previous_month_usd": 280.0,
                 "avg_daily_last_7d_usd": 40.0, "avg_daily_prior_28d_usd": 10.0, "projected_month_usd": 1000.0}])
    );

    let findings = report.findings.join("\n");
    for expected in [
        "Anomaly: CloudFront spent $500 on 2026-03-10 against $50.00 expected (z = 607.0).",
        "Anomaly: OpenAI API spent $40.00 on 2026-03-09 against $10.00 expected (z = 202.3); 7 days above the expected level between 2026-03-09 and 2026-03-15.",
        "1 idle resource averaged under 5% CPU over the last 14 days while billing steadily, costing $600 a month: idle-db (RDS, 2.0% CPU, $600/month).",
        "Account prod has spent $2,700 of its $4,000 budget and is projected to end March 2026 at $5,580 ($1,580 over).",
        "Account ml is already over its $300 budget at $360 and is projected to end March 2026 at $744 ($444 over).",
        "LLM spend on OpenAI API is $360 month-to-date, heading for $1,000 in March 2026; its daily run-rate is $40.00 against $10.00 over the 4 weeks before (+300.0%).",
    ] {
        assert!(
            findings.contains(expected),
            "missing “{expected}” in\n{findings}"
        );
    }
}

#[tokio::test]
async fn a_focus_brings_its_findings_first() {
    let tp = TestPlatform::new(vec![]).await;
    finops_data(&tp).await;
    let focus = RunParameters {
        focus: Some("are we over budget?".into()),
        quota_usd: None,
    };
    let (_, report) = run_inline(&tp, Agent::FinOps, focus).await;
    assert!(
        report.findings[0].starts_with("Account prod"),
        "{:?}",
        report.findings
    );
    assert!(
        report.findings[1].starts_with("Account ml"),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn agents_without_data_say_so_and_succeed() {
    let tp = TestPlatform::new(vec![]).await;
    let (_, finops) = run_inline(&tp, Agent::FinOps, RunParameters::default()).await;
    assert_eq!(
        finops.headline,
        "No cloud cost data has been synced yet, so there is no spend to analyse."
    );
    let (_, revops) = run_inline(&tp, Agent::RevOps, RunParameters::default()).await;
    assert_eq!(
        revops.headline,
        "No CRM opportunities have been synced yet, so there is no pipeline to analyse."
    );
    let (_, ops) = run_inline(&tp, Agent::Ops, RunParameters::default()).await;
    assert_eq!(
        ops.headline,
        "No support tickets have been synced yet; no shipments have been synced yet."
    );
}

// ---------------------------------------------------------------- RevOps

#[tokio::test]
async fn revops_measures_coverage_win_rate_risk_and_forecast() {
    let tp = TestPlatform::new(vec![]).await;
    revops_data(&tp).await;
    let quota = RunParameters {
        focus: None,
        quota_usd: Some(1_000_000.0),
    };
    let (_, report) = run_inline(&tp, Agent::RevOps, quota).await;

    assert_eq!(report.headline, REVOPS_HEADLINE);
    assert_eq!(
        section(&report, "quarter"),
        &json!({"quarter_start": "2026-04-01", "quarter_end": "2026-06-30", "won_count": 2, "won_usd": 150000.0,
                "open_count": 2, "open_pipeline_usd": 320000.0, "slipped_count": 1, "slipped_usd": 40000.0})
    );
    assert_eq!(
        section(&report, "coverage"),
        &json!({"quota_usd": 1000000.0, "won_usd": 150000.0, "remaining_quota_usd": 850000.0,
                "open_pipeline_usd": 320000.0, "coverage": 0.38, "coverage_of_quota": 0.32})
    );
    assert_eq!(
        section(&report, "win_rate"),
        &json!([
            {"segment": "Enterprise", "won": 1, "lost": 1, "win_rate": 0.5, "won_usd": 100000.0},
            {"segment": "Mid-Market", "won": 1, "lost": 0, "win_rate": 1.0, "won_usd": 50000.0},
            {"segment": "SMB", "won": 2, "lost": 1, "win_rate": 0.6667, "won_usd": 50000.0},
        ])
    );
    let at_risk = section(&report, "deals_at_risk").as_array().unwrap();
    assert_eq!(at_risk.len(), 2);
    assert_eq!(at_risk[0]["opportunity_id"], "O7");
    assert_eq!(at_risk[0]["stage_age_days"], 108);
    assert_eq!(at_risk[0]["reason"], "in proposal for 108 days");
    assert_eq!(at_risk[1]["opportunity_id"], "O8");
    assert_eq!(at_risk[1]["days_past_close"], 19);
    assert_eq!(
        at_risk[1]["reason"],
        "close date 2026-05-01 passed 19 days ago"
    );
    let forecast = section(&report, "forecast");
    assert_eq!(forecast["weighted_pipeline_usd"], 154000.0);
    assert_eq!(forecast["forecast_usd"], 304000.0);
    assert_eq!(forecast["attainment"], 0.304);
    assert_eq!(
        forecast["by_stage"],
        json!([
            {"stage": "negotiation", "deals": 1, "amount_usd": 200000.0, "probability": 0.65, "weighted_usd": 130000.0},
            {"stage": "proposal", "deals": 1, "amount_usd": 120000.0, "probability": 0.35, "weighted_usd": 21000.0},
            {"stage": "qualification", "deals": 1, "amount_usd": 40000.0, "probability": 0.15, "weighted_usd": 3000.0},
        ])
    );
    assert!(
        report.findings.iter().any(|f| f
            == "Win rate over the last four quarters is 66.7% (4 won of 6 closed): Enterprise 50.0% (1 of 2), Mid-Market 100.0% (1 of 1), SMB 66.7% (2 of 3)."),
        "{:?}",
        report.findings
    );
}

#[tokio::test]
async fn revops_uses_the_default_quota() {
    let tp = TestPlatform::new(vec![]).await;
    revops_data(&tp).await;
    let (_, report) = run_inline(&tp, Agent::RevOps, RunParameters::default()).await;
    assert_eq!(section(&report, "coverage")["quota_usd"], 6_000_000.0);
    assert_eq!(
        section(&report, "coverage")["remaining_quota_usd"],
        5_850_000.0
    );
}

// ---------------------------------------------------------------- Ops

#[tokio::test]
async fn ops_finds_sla_breaches_the_backlog_and_the_late_vendor() {
    let tp = TestPlatform::new(vec![]).await;
    ops_data(&tp).await;
    let (_, report) = run_inline(&tp, Agent::Ops, RunParameters::default()).await;

    assert_eq!(report.headline, OPS_HEADLINE);
    let breaches = section(&report, "sla_breaches").as_array().unwrap();
    let row = |team: &str, priority: &str| {
        breaches
            .iter()
            .find(|b| b["team"] == team && b["priority"] == priority)
            .unwrap_or_else(|| panic!("no {team} {priority} row in {breaches:?}"))
            .clone()
    };
    assert_eq!(breaches.len(), 7);
    assert_eq!(
        row("Billing", "P1"),
        json!({"team": "Billing", "priority": "P1", "tickets": 1, "breached": 1, "breached_open": 0, "breach_rate": 1.0})
    );
    assert_eq!(row("Platform", "P1")["breached_open"], 1);
    assert_eq!(row("Platform", "P2")["breached_open"], 1);
    // A numeric priority reads as P3; 120 hours open is inside its 240-hour SLA.
    assert_eq!(row("Platform", "P3")["breached"], 0);
    assert_eq!(row("Billing", "P4")["breached"], 0);

    assert_eq!(
        section(&report, "backlog"),
        &json!([
            {"team": "Platform", "open": 2, "pending": 1, "age_under_1d": 1, "age_1_to_3d": 0, "age_3_to_7d": 1,
             "age_7_to_14d": 0, "age_over_14d": 0},
            {"team": "Billing", "open": 1, "pending": 0, "age_under_1d": 0, "age_1_to_3d": 0, "age_3_to_7d": 0,
             "age_7_to_14d": 0, "age_over_14d": 1},
        ])
    );
    assert_eq!(
        section(&report, "fulfilment"),
        &json!({"vendor": "(all vendors)", "shipments": 9, "due": 8, "on_time": 5, "late": 3, "on_time_rate": 0.625,
                "avg_order_to_ship_days": 1.71, "avg_ship_to_deliver_days": 4.29, "avg_order_to_deliver_days": 6.0,
                "avg_days_late": 3.0})
    );
    assert_eq!(
        section(&report, "vendors"),
        &json!([
            {"vendor": "SlowCo", "shipments": 5, "due": 4, "on_time": 1, "late": 3, "on_time_rate": 0.25,
             "avg_order_to_ship_days": 2.33, "avg_ship_to_deliver_days": 6.0, "avg_order_to_deliver_days": 8.33,
             "avg_days_late": 3.0},
            {"vendor": "Acme", "shipments": 4, "due": 4, "on_time": 4, "late": 0, "on_time_rate": 1.0,
             "avg_order_to_ship_days": 1.25, "avg_ship_to_deliver_days": 3.0, "avg_order_to_deliver_days": 4.25,
             "avg_days_late": null},
        ])
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f == "SlowCo delivered 25.0% on time (3 late of 4 due, 3.0 days late on average when late)."),
        "{:?}",
        report.findings
    );
}
