//! RevOps: pipeline coverage against quota, win rate by segment, deals at
//! risk (stuck in a stage or past their close date) and a simple forecast,
//! for the quarter of the latest date in the CRM data.
//!
//! Coverage follows the usual definition: open pipeline closing between today
//! and quarter end ÷ the quota still to win (quota − closed won this quarter);
//! slipped deals do not count until their close date is moved.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgConnection;

use super::report::{Report, ReportBuilder, count, percent, usd};
use super::{AgentError, DEFAULT_QUOTA_USD, Progress, RunParameters};

/// An open deal in one stage longer than this is stuck.
const STUCK_DAYS: i32 = 60;

/// Opportunities, typed, one per opportunity id (the latest sync wins). The
/// stage is normalised (`Closed Won` → `closed_won`), the segment falls back
/// to the account's, and `state` is `won`, `lost` or `open`.
macro_rules! opportunity_cte {
    () => {
        "account as (
            select distinct on (data->>'account_id') data->>'account_id' as account_id,
                   nullif(data->>'segment', '') as segment
            from canonical_records
            where entity = 'account' and coalesce(data->>'account_id', '') <> ''
            order by data->>'account_id', synced_at desc
        ),
        raw as (
            select distinct on (data->>'opportunity_id')
                data->>'opportunity_id' as id,
                coalesce(nullif(data->>'name', ''), data->>'opportunity_id') as name,
                data->>'account_id' as account_id,
                nullif(data->>'owner', '') as owner,
                nullif(data->>'segment', '') as segment,
                trim(both '_' from regexp_replace(lower(coalesce(data->>'stage', '')), '[^a-z]+', '_', 'g')) as stage,
                coalesce(case when pg_input_is_valid(data->>'amount_usd', 'numeric')
                              then (data->>'amount_usd')::numeric end, 0) as amount,
                case when pg_input_is_valid(data->>'created_date', 'date') then (data->>'created_date')::date end as created,
                case when pg_input_is_valid(data->>'close_date', 'date') then (data->>'close_date')::date end as close_date,
                case when pg_input_is_valid(data->>'stage_entered_date', 'date')
                     then (data->>'stage_entered_date')::date end as stage_entered
            from canonical_records
            where entity = 'opportunity' and coalesce(data->>'opportunity_id', '') <> ''
            order by data->>'opportunity_id', synced_at desc
        ),
        opp as (
            select r.id, r.name, r.owner, r.stage, r.amount, r.created, r.close_date, r.stage_entered,
                   coalesce(r.segment, a.segment, 'Unassigned') as segment,
                   case when r.stage in ('closed_won', 'won') then 'won'
                        when r.stage in ('closed_lost', 'lost') then 'lost'
                        else 'open' end as state,
                   case r.stage when 'prospecting' then 0.05 when 'qualification' then 0.15
                                when 'proposal' then 0.35 when 'negotiation' then 0.65
                                else 0.10 end as probability
            from raw r left join account a on a.account_id = r.account_id
        )"
    };
}

/// The quarter's numbers, one row.
#[derive(Debug, Serialize, sqlx::FromRow)]
struct Quarter {
    quarter_start: NaiveDate,
    quarter_end: NaiveDate,
    won_count: i64,
    won_usd: f64,
    open_count: i64,
    /// Open deals closing between `as_of` and quarter end.
    open_pipeline_usd: f64,
    slipped_count: i64,
    slipped_usd: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct SegmentWinRate {
    segment: String,
    won: i64,
    lost: i64,
    win_rate: Option<f64>,
    won_usd: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct DealAtRisk {
    opportunity_id: String,
    name: String,
    owner: Option<String>,
    segment: String,
    stage: String,
    amount_usd: f64,
    close_date: Option<NaiveDate>,
    stage_age_days: Option<i32>,
    days_past_close: Option<i32>,
    reason: String,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct StageForecast {
    stage: String,
    deals: i64,
    amount_usd: f64,
    probability: f64,
    weighted_usd: f64,
}

#[derive(Debug, Serialize)]
struct Coverage {
    quota_usd: f64,
    won_usd: f64,
    remaining_quota_usd: f64,
    open_pipeline_usd: f64,
    /// Open pipeline ÷ remaining quota; `None` once the quota is met.
    coverage: Option<f64>,
    /// Open pipeline ÷ the whole quota.
    coverage_of_quota: f64,
}

#[derive(Debug, Serialize)]
struct Forecast {
    won_usd: f64,
    weighted_pipeline_usd: f64,
    forecast_usd: f64,
    attainment: f64,
    by_stage: Vec<StageForecast>,
}

const FOCUS: &[(&str, &str)] = &[
    ("coverage", "coverage"),
    ("pipeline", "coverage"),
    ("quota", "coverage"),
    ("win", "win_rate"),
    ("segment", "win_rate"),
    ("risk", "deals_at_risk"),
    ("slip", "deals_at_risk"),
    ("stuck", "deals_at_risk"),
    ("forecast", "forecast"),
    ("commit", "forecast"),
];

pub(super) async fn run(
    conn: &mut PgConnection,
    parameters: &RunParameters,
    progress: &Progress<'_>,
) -> Result<Report, AgentError> {
    let quota = parameters.quota_usd.unwrap_or(DEFAULT_QUOTA_USD);
    // Today, for a CRM export: the latest thing that happened in it.
    let as_of: Option<NaiveDate> = sqlx::query_scalar(concat!(
        "with ",
        opportunity_cte!(),
        " select max(d) from opp,
                 lateral (values (created), (stage_entered),
                                 (case when state <> 'open' then close_date end)) v(d)"
    ))
    .fetch_one(&mut *conn)
    .await?;
    let Some(as_of) = as_of else {
        return Ok(no_data());
    };
    let mut report = ReportBuilder::default();
    report.section("as_of", as_of);

    progress.step(10, "pipeline coverage").await?;
    let quarter: Quarter = sqlx::query_as(concat!(
        "with ",
        opportunity_cte!(),
        ", q as (select date_trunc('quarter', $1::date)::date as q_start,
                         (date_trunc('quarter', $1::date) + interval '3 months - 1 day')::date as q_end)
         select q_start as quarter_start, q_end as quarter_end,
                count(*) filter (where state = 'won' and close_date between q_start and q_end) as won_count,
                round(coalesce(sum(amount) filter (where state = 'won' and close_date between q_start and q_end), 0), 2)::float8
                    as won_usd,
                count(*) filter (where state = 'open' and close_date between $1::date and q_end) as open_count,
                round(coalesce(sum(amount) filter (where state = 'open' and close_date between $1::date and q_end), 0), 2)::float8
                    as open_pipeline_usd,
                count(*) filter (where state = 'open' and close_date < $1::date) as slipped_count,
                round(coalesce(sum(amount) filter (where state = 'open' and close_date < $1::date), 0), 2)::float8
                    as slipped_usd
         from q left join opp on true
         group by q_start, q_end"
    ))
    .bind(as_of)
    .fetch_one(&mut *conn)
    .await?;
    let remaining = (quota - quarter.won_usd).max(0.0);
    let coverage = Coverage {
        quota_usd: quota,
        won_usd: quarter.won_usd,
        remaining_quota_usd: remaining,
        open_pipeline_usd: quarter.open_pipeline_usd,
        coverage: (remaining > 0.0).then(|| round2(quarter.open_pipeline_usd / remaining)),
        coverage_of_quota: if quota > 0.0 {
            round2(quarter.open_pipeline_usd / quota)
        } else {
            0.0
        },
    };
    let quarter_name = quarter_label(quarter.quarter_start);
    let coverage_text = match coverage.coverage {
        Some(c) => format!(
            "pipeline coverage is {c:.2}x: {} open pipeline closing by {} against {} of quota still to win",
            usd(quarter.open_pipeline_usd),
            quarter.quarter_end,
            usd(remaining)
        ),
        None => format!(
            "the {} quota is already met, with {} open pipeline still closing by {}",
            usd(quota),
            usd(quarter.open_pipeline_usd),
            quarter.quarter_end
        ),
    };
    report.finding(
        "coverage",
        format!(
            "{quarter_name}: {} closed won so far ({} of the {} quota); {coverage_text}.",
            usd(quarter.won_usd),
            percent(if quota > 0.0 {
                quarter.won_usd / quota
            } else {
                0.0
            }),
            usd(quota)
        ),
    );
    report.section("quarter", &quarter);
    report.section("coverage", &coverage);

    progress.step(35, "win rate by segment").await?;
    let win_rates: Vec<SegmentWinRate> = sqlx::query_as(concat!(
        "with ",
        opportunity_cte!(),
        " select segment,
                 count(*) filter (where state = 'won') as won,
                 count(*) filter (where state = 'lost') as lost,
                 round(count(*) filter (where state = 'won')::numeric / nullif(count(*), 0), 4)::float8 as win_rate,
                 round(coalesce(sum(amount) filter (where state = 'won'), 0), 2)::float8 as won_usd
          from opp
          where state <> 'open'
            and close_date >= (date_trunc('quarter', $1::date) - interval '9 months')::date
            and close_date <= $1::date
          group by segment
          order by segment"
    ))
    .bind(as_of)
    .fetch_all(&mut *conn)
    .await?;
    let (won, lost) = win_rates
        .iter()
        .fold((0, 0), |(w, l), s| (w + s.won, l + s.lost));
    if won + lost > 0 {
        let per_segment: Vec<String> = win_rates
            .iter()
            .filter_map(|s| {
                s.win_rate.map(|r| {
                    format!(
                        "{} {} ({} of {})",
                        s.segment,
                        percent(r),
                        s.won,
                        s.won + s.lost
                    )
                })
            })
            .collect();
        report.finding(
            "win_rate",
            format!(
                "Win rate over the last four quarters is {} ({won} won of {} closed): {}.",
                percent(won as f64 / (won + lost) as f64),
                won + lost,
                per_segment.join(", ")
            ),
        );
    }
    report.section("win_rate", &win_rates);

    progress.step(60, "deals at risk").await?;
    let at_risk: Vec<DealAtRisk> = sqlx::query_as(concat!(
        "with ",
        opportunity_cte!(),
        " select id as opportunity_id, name, owner, segment, stage,
                 round(amount, 2)::float8 as amount_usd, close_date,
                 ($1::date - stage_entered) as stage_age_days,
                 case when close_date < $1::date then $1::date - close_date end as days_past_close,
                 concat_ws('; ',
                     case when $1::date - stage_entered > $2
                          then format('in %s for %s days', stage, $1::date - stage_entered) end,
                     case when close_date < $1::date
                          then format('close date %s passed %s days ago', close_date, $1::date - close_date) end
                 ) as reason
          from opp
          where state = 'open' and ($1::date - stage_entered > $2 or close_date < $1::date)
          order by amount desc, id"
    ))
    .bind(as_of)
    .bind(STUCK_DAYS)
    .fetch_all(&mut *conn)
    .await?;
    let at_risk_usd: f64 = at_risk.iter().map(|d| d.amount_usd).sum();
    if !at_risk.is_empty() {
        let biggest: Vec<String> = at_risk
            .iter()
            .take(3)
            .map(|d| format!("{} {} ({})", d.name, usd(d.amount_usd), d.reason))
            .collect();
        report.finding(
            "deals_at_risk",
            format!(
                "{} worth {} are at risk (stuck over {STUCK_DAYS} days in a stage or past their close date); the largest: {}.",
                count(i64::try_from(at_risk.len()).unwrap_or(i64::MAX), "open deal"),
                usd(at_risk_usd),
                biggest.join("; ")
            ),
        );
    }
    report.section("deals_at_risk", &at_risk);

    progress.step(85, "forecast").await?;
    let by_stage: Vec<StageForecast> = sqlx::query_as(concat!(
        "with ",
        opportunity_cte!(),
        " select stage, count(*) as deals, round(sum(amount), 2)::float8 as amount_usd,
                 max(probability)::float8 as probability,
                 round(sum(amount * probability
                           * case when $1::date - stage_entered > $2 or close_date < $1::date then 0.5 else 1 end), 2)::float8
                     as weighted_usd
          from opp
          where state = 'open'
            and close_date <= (date_trunc('quarter', $1::date) + interval '3 months - 1 day')::date
          group by stage
          order by max(probability) desc, stage"
    ))
    .bind(as_of)
    .bind(STUCK_DAYS)
    .fetch_all(&mut *conn)
    .await?;
    let weighted: f64 = round2(by_stage.iter().map(|s| s.weighted_usd).sum());
    let forecast = Forecast {
        won_usd: quarter.won_usd,
        weighted_pipeline_usd: weighted,
        forecast_usd: round2(quarter.won_usd + weighted),
        attainment: if quota > 0.0 {
            round4((quarter.won_usd + weighted) / quota)
        } else {
            0.0
        },
        by_stage,
    };
    report.finding(
        "forecast",
        format!(
            "Forecast for {quarter_name}: {} ({} of quota) = {} closed won + {} weighted pipeline (stage probability, halved for deals at risk).",
            usd(forecast.forecast_usd),
            percent(forecast.attainment),
            usd(forecast.won_usd),
            usd(weighted)
        ),
    );
    report.section("forecast", &forecast);

    let coverage_headline = match coverage.coverage {
        Some(c) => format!(
            "coverage {c:.2}x ({} open vs {} remaining)",
            usd(quarter.open_pipeline_usd),
            usd(remaining)
        ),
        None => "quota already met".to_owned(),
    };
    let headline = format!(
        "{quarter_name} as of {as_of}: {} closed won, {coverage_headline}; forecast {} ({} of the {} quota); {} worth {} at risk.",
        usd(quarter.won_usd),
        usd(forecast.forecast_usd),
        percent(forecast.attainment),
        usd(quota),
        count(i64::try_from(at_risk.len()).unwrap_or(i64::MAX), "deal"),
        usd(at_risk_usd)
    );
    Ok(report.finish(headline, parameters.focus.as_deref(), FOCUS))
}

fn no_data() -> Report {
    let mut report = ReportBuilder::default();
    report.finding(
        "data",
        "There are no opportunity records yet: connect the CRM and approve its mappings to `opportunity`.".into(),
    );
    report.finish(
        "No CRM opportunities have been synced yet, so there is no pipeline to analyse.".into(),
        None,
        &[],
    )
}

/// `2026-10-01` → `Q4 2026`.
fn quarter_label(start: NaiveDate) -> String {
    use chrono::Datelike;
    format!("Q{} {}", start.month0() / 3 + 1, start.year())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}
