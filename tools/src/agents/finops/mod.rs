//! FinOps: cloud and LLM spend by service, account and month; spend anomalies
//! by robust z-score; idle resources; budget against actual with a projected
//! month end. The SQL is in [`queries`]; this module turns it into findings.

mod queries;

use chrono::{Datelike, NaiveDate};
use sqlx::PgConnection;

use super::report::{Report, ReportBuilder, count, month_name, percent, usd};
use super::{AgentError, Progress, RunParameters};
use queries::{Anomaly, Dimension, IDLE_CPU_PCT};

/// Words in a run's focus and the section they point at.
const FOCUS: &[(&str, &str)] = &[
    ("anomal", "anomalies"),
    ("spike", "anomalies"),
    ("idle", "idle_resources"),
    ("waste", "idle_resources"),
    ("budget", "budgets"),
    ("llm", "llm_spend"),
    ("openai", "llm_spend"),
    ("gpt", "llm_spend"),
    ("service", "spend_by_service"),
    ("account", "spend_by_account"),
    ("month", "spend_by_month"),
];

pub(super) async fn run(
    conn: &mut PgConnection,
    parameters: &RunParameters,
    progress: &Progress<'_>,
) -> Result<Report, AgentError> {
    let Some(as_of) = queries::as_of(conn).await? else {
        return Ok(no_data());
    };
    let month_start = as_of.with_day(1).unwrap_or(as_of);
    let elapsed = f64::from(as_of.day());
    let month_days = f64::from(days_in_month(as_of));
    let mut report = ReportBuilder::default();
    report.section("as_of", as_of);

    progress
        .step(10, "spend by month, service and account")
        .await?;
    let by_month = queries::spend_by_month(conn).await?;
    let by_service = queries::spend_by(conn, as_of, Dimension::Service).await?;
    let by_account = queries::spend_by(conn, as_of, Dimension::Account).await?;
    let month_to_date: f64 = by_service.iter().map(|s| s.month_to_date_usd).sum();
    let projected_total = month_to_date / elapsed * month_days;
    if let Some(top) = by_service.first() {
        report.finding(
            "spend_by_service",
            format!(
                "Cloud spend is {} month-to-date for {} (as of {as_of}), projected {} for the month; the largest service is {} at {}.",
                usd(month_to_date),
                month_name(month_start),
                usd(projected_total),
                top.name,
                usd(top.month_to_date_usd)
            ),
        );
    }
    if let [.., previous, current] = by_month.as_slice() {
        report.finding(
            "spend_by_month",
            format!(
                "{} spent {} in total; {} so far has {}.",
                previous.month,
                usd(previous.spend_usd),
                current.month,
                usd(current.spend_usd)
            ),
        );
    }
    report.section("spend_by_month", &by_month);
    report.section("spend_by_service", &by_service);
    report.section("spend_by_account", &by_account);

    progress.step(30, "anomalies by robust z-score").await?;
    let anomalies = queries::anomalies(conn, as_of).await?;
    for (service, days) in group_by_service(&anomalies) {
        let Some(peak) = days.first() else { continue };
        let first = days.iter().map(|a| a.date).min().unwrap_or(peak.date);
        let last = days.iter().map(|a| a.date).max().unwrap_or(peak.date);
        let span = if days.len() == 1 {
            String::new()
        } else {
            format!(
                "; {} above the expected level between {first} and {last}",
                count(i64::try_from(days.len()).unwrap_or(i64::MAX), "day")
            )
        };
        report.finding(
            "anomalies",
            format!(
                "Anomaly: {service} spent {} on {} against {} expected (z = {:.1}){span}.",
                usd(peak.spend_usd),
                peak.date,
                usd(peak.expected_usd),
                peak.z
            ),
        );
    }
    let top_anomalies: Vec<&queries::Anomaly> = anomalies.iter().take(10).collect();
    report.section("anomalies", &top_anomalies);

    progress.step(50, "idle resources").await?;
    let idle = queries::idle_resources(conn, as_of).await?;
    let idle_monthly: f64 = idle.iter().map(|r| r.monthly_cost_usd).sum();
    if !idle.is_empty() {
        let names: Vec<String> = idle
            .iter()
            .take(3)
            .map(|r| {
                format!(
                    "{} ({}, {:.1}% CPU, {}/month)",
                    r.resource_id,
                    r.service,
                    r.avg_cpu_pct,
                    usd(r.monthly_cost_usd)
                )
            })
            .collect();
        report.finding(
            "idle_resources",
            format!(
                "{} averaged under {IDLE_CPU_PCT}% CPU over the last 14 days while billing steadily, costing {} a month: {}.",
                count(i64::try_from(idle.len()).unwrap_or(i64::MAX), "idle resource"),
                usd(idle_monthly),
                names.join(", ")
            ),
        );
    }
    report.section("idle_resources", &idle);

    progress.step(70, "budget against actual").await?;
    let budgets = queries::budgets(conn, as_of).await?;
    let over: Vec<&queries::BudgetLine> = budgets
        .iter()
        .filter(|b| b.status == "over" || b.status == "projected_over")
        .collect();
    for line in &over {
        let (Some(budget), Some(variance)) = (line.budget_usd, line.projected_variance_usd) else {
            continue;
        };
        let state = if line.status == "over" {
            format!(
                "is already over its {} budget at {}",
                usd(budget),
                usd(line.month_to_date_usd)
            )
        } else {
            format!(
                "has spent {} of its {} budget",
                usd(line.month_to_date_usd),
                usd(budget)
            )
        };
        report.finding(
            "budgets",
            format!(
                "Account {} {state} and is projected to end {} at {} ({} over).",
                line.account,
                month_name(month_start),
                usd(line.projected_usd),
                usd(variance)
            ),
        );
    }
    let budgeted = budgets.iter().filter(|b| b.budget_usd.is_some()).count();
    if budgeted == 0 {
        report.finding(
            "budgets",
            format!("No budgets are recorded for {}.", month_name(month_start)),
        );
    }
    report.section("budgets", &budgets);

    progress.step(90, "LLM and AI spend").await?;
    let llm = queries::llm_spend(conn, as_of).await?;
    for line in &llm {
        let trend = if line.avg_daily_prior_28d_usd > 0.0 {
            let change = line.avg_daily_last_7d_usd / line.avg_daily_prior_28d_usd - 1.0;
            format!(
                "; its daily run-rate is {} against {} over the 4 weeks before ({}{})",
                usd(line.avg_daily_last_7d_usd),
                usd(line.avg_daily_prior_28d_usd),
                if change >= 0.0 { "+" } else { "" },
                percent(change)
            )
        } else {
            String::new()
        };
        report.finding(
            "llm_spend",
            format!(
                "LLM spend on {} is {} month-to-date, heading for {} in {}{trend}.",
                line.service,
                usd(line.month_to_date_usd),
                usd(line.projected_month_usd),
                month_name(month_start)
            ),
        );
    }
    report.section("llm_spend", &llm);

    let mut headline = format!(
        "Cloud spend is {} month-to-date for {} as of {as_of}, projected {}",
        usd(month_to_date),
        month_name(month_start),
        usd(projected_total)
    );
    match anomalies.first() {
        Some(top) => headline.push_str(&format!(
            "; top anomaly {} {} on {} vs {} expected (z = {:.1})",
            top.service,
            usd(top.spend_usd),
            top.date,
            usd(top.expected_usd),
            top.z
        )),
        None => headline.push_str("; no spend anomalies in the last 30 days"),
    }
    if !idle.is_empty() {
        headline.push_str(&format!(
            "; {} cost {}/month",
            count(
                i64::try_from(idle.len()).unwrap_or(i64::MAX),
                "idle resource"
            ),
            usd(idle_monthly)
        ));
    }
    if budgeted > 0 {
        headline.push_str(&format!(
            "; {} of {} budgeted accounts over or projected over budget",
            over.len(),
            budgeted
        ));
    }
    headline.push('.');
    Ok(report.finish(headline, parameters.focus.as_deref(), FOCUS))
}

fn no_data() -> Report {
    let mut report = ReportBuilder::default();
    report.finding(
        "data",
        "There are no cloud cost records yet: connect a billing export and approve its mappings to `cloud_cost`.".into(),
    );
    report.finish(
        "No cloud cost data has been synced yet, so there is no spend to analyse.".into(),
        None,
        &[],
    )
}

/// The anomalies grouped by service, in order of each service's peak.
fn group_by_service(anomalies: &[Anomaly]) -> Vec<(&str, Vec<&Anomaly>)> {
    let mut groups: Vec<(&str, Vec<&Anomaly>)> = Vec::new();
    for anomaly in anomalies {
        match groups.iter_mut().find(|(s, _)| *s == anomaly.service) {
            Some((_, days)) => days.push(anomaly),
            None => groups.push((&anomaly.service, vec![anomaly])),
        }
    }
    groups
}

fn days_in_month(day: NaiveDate) -> u32 {
    let (year, month) = (day.year(), day.month());
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(30, |last| last.day())
}
