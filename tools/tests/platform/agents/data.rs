//! Small data sets with known answers, written as a sync would write them.

use chrono::NaiveDate;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::TestPlatform;

pub(super) async fn connector(tp: &TestPlatform) -> Uuid {
    let id = Uuid::new_v4();
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    sqlx::query(
        "insert into connectors (id, tenant_id, name, kind, config)
         values ($1, app_current_tenant(), $2, 'files', '{}')",
    )
    .bind(id)
    .bind(format!("test source {id}"))
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Writes canonical records as a sync would, keyed by the entity's key fields.
pub(super) async fn insert(tp: &TestPlatform, entity: &str, rows: &[Value]) {
    let connector = connector(tp).await;
    let key_fields = tools::canonical::entity(entity).unwrap().key;
    let mut tx = tools::begin_tenant(&tp.pool, tp.tenant).await.unwrap();
    for row in rows {
        let key: Vec<String> = key_fields
            .iter()
            .map(|f| {
                row[*f]
                    .as_str()
                    .map_or_else(|| row[*f].to_string(), str::to_owned)
            })
            .collect();
        sqlx::query(
            "insert into canonical_records (tenant_id, connector_id, entity, source_entity, source_key, data)
             values (app_current_tenant(), $1, $2, $2, $3, $4)",
        )
        .bind(connector)
        .bind(entity)
        .bind(key.join("|"))
        .bind(row)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

pub(super) fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// 2026-02-01 … 2026-03-15 of five resources: a steady EC2 server, a CDN that
/// spikes to $500 on 2026-03-10, an idle database (2% CPU, $20 a day), a batch
/// server busy until 2026-03-10 then quiet (not idle: 14-day average 33%), and
/// an LLM API that steps up from $10 to $40 a day on 2026-03-09. March budgets:
/// prod $4,000 (projected over), staging $2,000 (on track), ml $300 (over).
pub(super) async fn finops_data(tp: &TestPlatform) {
    let mut costs = Vec::new();
    let mut d = day("2026-02-01");
    while d <= day("2026-03-15") {
        let resource = |service: &str, account: &str, id: &str, cost: f64, cpu: Option<f64>| {
            let mut row = json!({
                "usage_date": d.to_string(), "provider": "aws", "account": account,
                "service": service, "resource_id": id, "cost_usd": cost, "team": "platform",
                "environment": "prod",
            });
            if let Some(cpu) = cpu {
                row["cpu_utilization_pct"] = json!(cpu);
            }
            row
        };
        costs.push(resource("EC2", "prod", "web-1", 100.0, Some(40.0)));
        let cdn = if d == day("2026-03-10") { 500.0 } else { 50.0 };
        costs.push(resource("CloudFront", "prod", "cdn-1", cdn, None));
        costs.push(resource("RDS", "staging", "idle-db", 20.0, Some(2.0)));
        let batch_cpu = if d > day("2026-03-10") { 3.0 } else { 50.0 };
        costs.push(resource("EC2", "staging", "batch-1", 30.0, Some(batch_cpu)));
        let llm = if d >= day("2026-03-09") { 40.0 } else { 10.0 };
        costs.push(resource("OpenAI API", "ml", "openai-prod", llm, None));
        d = d.succ_opt().unwrap();
    }
    // A value that is not a number is left out, not a failed run.
    costs.push(
        json!({"usage_date": "2026-03-01", "service": "EC2", "account": "prod",
                      "resource_id": "broken-1", "cost_usd": "n/a"}),
    );
    insert(tp, "cloud_cost", &costs).await;
    insert(
        tp,
        "budget",
        &[
            json!({"month": "2026-03-01", "account": "prod", "budget_usd": 4000}),
            json!({"month": "2026-03-01", "account": "staging", "budget_usd": 2000}),
            json!({"month": "2026-03-01", "account": "ml", "budget_usd": 300}),
            json!({"month": "2026-02-01", "account": "prod", "budget_usd": 1}),
        ],
    )
    .await;
}

pub(super) const FINOPS_HEADLINE: &str = "Cloud spend is $3,810 month-to-date for March 2026 as of 2026-03-15, projected $7,874; top anomaly CloudFront $500 on 2026-03-10 vs $50.00 expected (z = 607.0); 1 idle resource cost $600/month; 2 of 3 budgeted accounts over or projected over budget.";

/// Q2 2026, latest activity 2026-05-20: $150k won this quarter, $320k open
/// closing this quarter, one stuck deal (proposal since 2026-02-01), one
/// slipped deal (close date 2026-05-01), one deal next quarter.
pub(super) async fn revops_data(tp: &TestPlatform) {
    let opp = |id: &str,
               segment: Option<&str>,
               stage: &str,
               amount: f64,
               created: &str,
               close: &str,
               entered: &str| {
        let mut row = json!({
            "opportunity_id": id, "account_id": format!("ACC-{id}"), "name": format!("Deal {id}"),
            "stage": stage, "amount_usd": amount, "owner": "rep@example.test",
            "created_date": created, "close_date": close, "stage_entered_date": entered,
        });
        if let Some(segment) = segment {
            row["segment"] = json!(segment);
        }
        row
    };
    insert(
        tp,
        "opportunity",
        &[
            opp(
                "O1",
                Some("Enterprise"),
                "closed_won",
                100_000.0,
                "2026-01-10",
                "2026-04-15",
                "2026-04-15",
            ),
            opp(
                "O2",
                Some("Mid-Market"),
                "closed_won",
                50_000.0,
                "2026-02-10",
                "2026-05-20",
                "2026-05-20",
            ),
            opp(
                "O3",
                Some("Enterprise"),
                "closed_lost",
                80_000.0,
                "2025-10-01",
                "2026-02-10",
                "2026-02-10",
            ),
            opp(
                "O4",
                Some("SMB"),
                "closed_won",
                20_000.0,
                "2025-09-01",
                "2025-11-05",
                "2025-11-05",
            ),
            opp(
                "O5",
                Some("SMB"),
                "closed_lost",
                10_000.0,
                "2025-01-01",
                "2025-03-01",
                "2025-03-01",
            ),
            opp(
                "O6",
                Some("Enterprise"),
                "negotiation",
                200_000.0,
                "2026-03-01",
                "2026-06-15",
                "2026-05-01",
            ),
            opp(
                "O7",
                Some("Mid-Market"),
                "proposal",
                120_000.0,
                "2026-01-05",
                "2026-06-30",
                "2026-02-01",
            ),
            opp(
                "O8",
                Some("SMB"),
                "qualification",
                40_000.0,
                "2026-04-01",
                "2026-05-01",
                "2026-04-20",
            ),
            opp(
                "O9",
                Some("Enterprise"),
                "prospecting",
                300_000.0,
                "2026-05-10",
                "2026-08-15",
                "2026-05-10",
            ),
            // No segment of its own: the account's is used. The stage is spelled as a CRM shows it.
            opp(
                "O10",
                None,
                "Closed Won",
                30_000.0,
                "2025-12-01",
                "2026-01-20",
                "2026-01-20",
            ),
            opp(
                "O11",
                Some("SMB"),
                "closed_lost",
                15_000.0,
                "2026-01-01",
                "2026-03-03",
                "2026-03-03",
            ),
        ],
    )
    .await;
    insert(
        tp,
        "account",
        &[json!({"account_id": "ACC-O10", "name": "Ten Ltd", "segment": "SMB"})],
    )
    .await;
}

pub(super) const REVOPS_HEADLINE: &str = "Q2 2026 as of 2026-05-20: $150,000 closed won, coverage 0.38x ($320,000 open vs $850,000 remaining); forecast $304,000 (30.4% of the $1.00M quota); 2 deals worth $160,000 at risk.";

/// Seven tickets up to 2026-06-10 12:00 (three breach their SLA: a resolved
/// P1, an open P1, a pending P2) and nine shipments from two vendors, one
/// of them late three times out of four.
pub(super) async fn ops_data(tp: &TestPlatform) {
    let ticket = |id: &str,
                  team: &str,
                  priority: &str,
                  sla: f64,
                  opened: &str,
                  resolved: Option<&str>,
                  status: &str| {
        json!({
            "ticket_id": id, "team": team, "priority": priority, "sla_hours": sla,
            "opened_at": opened, "resolved_at": resolved, "status": status, "customer": "Acme",
        })
    };
    insert(
        tp,
        "ticket",
        &[
            ticket(
                "T1",
                "Billing",
                "P1",
                8.0,
                "2026-06-01T00:00:00Z",
                Some("2026-06-01T10:00:00Z"),
                "resolved",
            ),
            ticket(
                "T2",
                "Billing",
                "P2",
                72.0,
                "2026-06-01T00:00:00Z",
                Some("2026-06-02T00:00:00Z"),
                "resolved",
            ),
            ticket(
                "T3",
                "Platform",
                "P1",
                8.0,
                "2026-06-09T20:00:00Z",
                None,
                "open",
            ),
            ticket(
                "T4",
                "Platform",
                "3",
                240.0,
                "2026-06-05T12:00:00Z",
                None,
                "open",
            ),
            ticket(
                "T5",
                "Platform",
                "P2",
                72.0,
                "2026-05-20T12:00:00Z",
                None,
                "pending",
            ),
            ticket(
                "T6",
                "Billing",
                "P4",
                480.0,
                "2026-05-25T12:00:00Z",
                None,
                "open",
            ),
            ticket(
                "T7",
                "Support",
                "P2",
                72.0,
                "2026-06-08T00:00:00Z",
                Some("2026-06-10T12:00:00Z"),
                "resolved",
            ),
        ],
    )
    .await;
    let shipment = |id: &str,
                    vendor: &str,
                    ordered: &str,
                    promised: &str,
                    shipped: Option<&str>,
                    delivered: Option<&str>| {
        json!({
            "shipment_id": id, "vendor": vendor, "order_date": ordered, "promised_date": promised,
            "shipped_date": shipped, "delivered_date": delivered, "carrier": "Meridian",
        })
    };
    insert(
        tp,
        "shipment",
        &[
            shipment(
                "S1",
                "Acme",
                "2026-05-01",
                "2026-05-06",
                Some("2026-05-02"),
                Some("2026-05-05"),
            ),
            shipment(
                "S2",
                "Acme",
                "2026-05-10",
                "2026-05-14",
                Some("2026-05-11"),
                Some("2026-05-14"),
            ),
            shipment(
                "S3",
                "Acme",
                "2026-05-20",
                "2026-05-28",
                Some("2026-05-22"),
                Some("2026-05-25"),
            ),
            shipment(
                "S4",
                "Acme",
                "2026-06-01",
                "2026-06-08",
                Some("2026-06-02"),
                Some("2026-06-05"),
            ),
            shipment(
                "S5",
                "SlowCo",
                "2026-05-01",
                "2026-05-08",
                Some("2026-05-05"),
                Some("2026-05-12"),
            ),
            shipment(
                "S6",
                "SlowCo",
                "2026-05-10",
                "2026-05-18",
                Some("2026-05-12"),
                Some("2026-05-20"),
            ),
            shipment(
                "S7",
                "SlowCo",
                "2026-05-15",
                "2026-05-22",
                Some("2026-05-16"),
                Some("2026-05-19"),
            ),
            // In transit past its promised date: late.
            shipment(
                "S8",
                "SlowCo",
                "2026-06-01",
                "2026-06-04",
                Some("2026-06-03"),
                None,
            ),
            // Not due yet: not counted either way.
            shipment("S9", "SlowCo", "2026-06-03", "2026-06-12", None, None),
        ],
    )
    .await;
}

pub(super) const OPS_HEADLINE: &str = "3 of 7 tickets (42.9%) breached SLA in the 180 days to 2026-06-10, most in Platform (2); backlog 3 open tickets (1 over 14 days); on-time delivery 62.5%, worst vendor SlowCo at 25.0% (3 late of 4).";
