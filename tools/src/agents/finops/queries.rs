//! The FinOps queries: every figure is computed in SQL over the tenant's
//! `cloud_cost` and `budget` canonical records.

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::PgConnection;

/// Days of history a day's spend is compared with.
const ANOMALY_WINDOW_DAYS: i32 = 28;
/// Only days this recent are reported as anomalies.
const ANOMALY_LOOKBACK_DAYS: i32 = 30;
/// |z| at or above which a day is an anomaly (Iglewicz and Hoaglin's 3.5).
const ANOMALY_Z: f64 = 3.5;
/// A spike smaller than this many dollars, or than this share of the
/// expected spend, is noise on a very steady series, not worth a person's time.
const ANOMALY_MIN_EXCESS_USD: f64 = 10.0;
const ANOMALY_MIN_EXCESS_SHARE: f64 = 0.10;
/// A resource is idle when its average CPU over the last 14 days is below this.
pub(super) const IDLE_CPU_PCT: f64 = 5.0;
/// Services whose name marks them as an LLM API.
const LLM_SERVICE_PATTERN: &str =
    "(openai|anthropic|claude|\\mllm|bedrock|gemini|vertex ai|cohere|mistral|gpt)";

/// Cloud cost records, typed, one per (day, resource): a record synced by two
/// connectors counts once (the latest sync wins), and a value that is not a
/// number or a date is left out rather than failing the run.
macro_rules! cost_cte {
    () => {
        "cost as (
            select distinct on (data->>'usage_date', data->>'resource_id')
                (data->>'usage_date')::date as day,
                coalesce(nullif(data->>'service', ''), 'unknown') as service,
                coalesce(nullif(data->>'account', ''), 'unknown') as account,
                coalesce(nullif(data->>'resource_id', ''), 'unknown') as resource_id,
                nullif(data->>'team', '') as team,
                coalesce(case when pg_input_is_valid(data->>'cost_usd', 'numeric')
                              then (data->>'cost_usd')::numeric end, 0) as cost,
                case when pg_input_is_valid(data->>'cpu_utilization_pct', 'numeric')
                     then (data->>'cpu_utilization_pct')::numeric end as cpu
            from canonical_records
            where entity = 'cloud_cost' and pg_input_is_valid(data->>'usage_date', 'date')
            order by data->>'usage_date', data->>'resource_id', synced_at desc
        )"
    };
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct MonthSpend {
    pub month: String,
    pub spend_usd: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct DimensionSpend {
    pub name: String,
    pub month_to_date_usd: f64,
    pub previous_month_usd: f64,
    pub period_total_usd: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct Anomaly {
    pub date: NaiveDate,
    pub service: String,
    pub spend_usd: f64,
    pub expected_usd: f64,
    pub z: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct IdleResource {
    pub resource_id: String,
    pub service: String,
    pub account: String,
    pub team: Option<String>,
    pub avg_cpu_pct: f64,
    pub avg_daily_usd: f64,
    pub monthly_cost_usd: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct BudgetLine {
    pub account: String,
    pub budget_usd: Option<f64>,
    pub month_to_date_usd: f64,
    pub projected_usd: f64,
    /// Projected month end minus budget.
    pub projected_variance_usd: Option<f64>,
    /// `over` (already above budget), `projected_over`, `on_track` or `no_budget`.
    pub status: String,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub(super) struct LlmSpend {
    pub service: String,
    pub month_to_date_usd: f64,
    pub previous_month_usd: f64,
    pub avg_daily_last_7d_usd: f64,
    pub avg_daily_prior_28d_usd: f64,
    /// Month to date plus the last 7 days' daily average for the days left.
    pub projected_month_usd: f64,
}

/// The latest day with cost data: "today" for the report.
pub(super) async fn as_of(conn: &mut PgConnection) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar(concat!("with ", cost_cte!(), " select max(day) from cost"))
        .fetch_one(conn)
        .await
}

/// Spend per calendar month.
pub(super) async fn spend_by_month(
    conn: &mut PgConnection,
) -> Result<Vec<MonthSpend>, sqlx::Error> {
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        " select to_char(date_trunc('month', day), 'YYYY-MM') as month,
                 round(sum(cost), 2)::float8 as spend_usd
          from cost group by 1 order by 1"
    ))
    .fetch_all(conn)
    .await
}

/// What spend is broken down by.
#[derive(Debug, Clone, Copy)]
pub(super) enum Dimension {
    Service,
    Account,
}

/// Spend per service or per account: this month to date, last month, all time.
pub(super) async fn spend_by(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    dimension: Dimension,
) -> Result<Vec<DimensionSpend>, sqlx::Error> {
    let dimension = match dimension {
        Dimension::Service => "service",
        Dimension::Account => "account",
    };
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        ", dim as (select case when $2 = 'account' then account else service end as name, day, cost from cost)
         select name,
                round(coalesce(sum(cost) filter (where day >= date_trunc('month', $1::date) and day <= $1::date), 0), 2)::float8
                    as month_to_date_usd,
                round(coalesce(sum(cost) filter (where day >= date_trunc('month', $1::date) - interval '1 month'
                                                   and day < date_trunc('month', $1::date)), 0), 2)::float8
                    as previous_month_usd,
                round(sum(cost), 2)::float8 as period_total_usd
         from dim group by name
         order by month_to_date_usd desc, period_total_usd desc, name"
    ))
    .bind(as_of)
    .bind(dimension)
    .fetch_all(conn)
    .await
}

/// Days of the last 30 whose spend on a service stands out from the 28 days
/// before: z = (x − median) / (1.4826 · MAD), the MAD floored at 1% of the
/// median (and a cent) so a perfectly flat series does not divide by zero.
/// Days without spend count as zero once a service has started.
pub(super) async fn anomalies(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<Vec<Anomaly>, sqlx::Error> {
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        ", series as (select service, day, sum(cost) as spend from cost group by service, day),
         span as (select service, min(day) as first_day from series group by service),
         daily as materialized (
             select s.service, d::date as day, coalesce(x.spend, 0)::float8 as spend
             from span s
             cross join lateral generate_series(s.first_day, $1::date, interval '1 day') d
             left join series x on x.service = s.service and x.day = d::date
         ),
         scored as (
             select d.service, d.day, d.spend, w.median, w.n,
                    (select percentile_cont(0.5) within group (order by abs(h.spend - w.median))
                     from daily h
                     where h.service = d.service and h.day >= d.day - $2 and h.day < d.day) as mad
             from daily d
             cross join lateral (
                 select percentile_cont(0.5) within group (order by h.spend) as median, count(*) as n
                 from daily h
                 where h.service = d.service and h.day >= d.day - $2 and h.day < d.day
             ) w
             where d.day > $1::date - $3
         ),
         z as (
             select service, day, spend, median,
                    (spend - median) / (1.4826 * greatest(mad, 0.01 * abs(median), 0.01)) as z
             from scored
             where n >= 14
         )
         select day as date, service, round(spend::numeric, 2)::float8 as spend_usd,
                round(median::numeric, 2)::float8 as expected_usd, round(z::numeric, 2)::float8 as z
         from z
         where z >= $4 and spend - median >= greatest($5, $6 * median)
         order by z desc, day, service"
    ))
    .bind(as_of)
    .bind(ANOMALY_WINDOW_DAYS)
    .bind(ANOMALY_LOOKBACK_DAYS)
    .bind(ANOMALY_Z)
    .bind(ANOMALY_MIN_EXCESS_USD)
    .bind(ANOMALY_MIN_EXCESS_SHARE)
    .fetch_all(conn)
    .await
}

/// Budget against actual per account for the month of `as_of`, projected to
/// month end at the month-to-date daily rate.
pub(super) async fn budgets(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<Vec<BudgetLine>, sqlx::Error> {
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        ", period as (
             select date_trunc('month', $1::date)::date as month,
                    extract(day from $1::date)::numeric as elapsed,
                    extract(day from date_trunc('month', $1::date) + interval '1 month - 1 day')::numeric as days
         ),
         budget as (
             select distinct on (data->>'account')
                    data->>'account' as account, (data->>'budget_usd')::numeric as budget
             from canonical_records, period
             where entity = 'budget'
               and pg_input_is_valid(data->>'month', 'date')
               and pg_input_is_valid(data->>'budget_usd', 'numeric')
               and date_trunc('month', (data->>'month')::date) = period.month
               and coalesce(data->>'account', '') <> ''
             order by data->>'account', synced_at desc
         ),
         actual as (
             select account, sum(cost) as spent
             from cost, period
             where day >= period.month and day <= $1::date
             group by account
         ),
         line as (
             select coalesce(b.account, a.account) as account, b.budget,
                    coalesce(a.spent, 0) as spent,
                    coalesce(a.spent, 0) / period.elapsed * period.days as projected
             from budget b full join actual a on a.account = b.account, period
         )
         select account,
                round(budget, 2)::float8 as budget_usd,
                round(spent, 2)::float8 as month_to_date_usd,
                round(projected, 2)::float8 as projected_usd,
                round(projected - budget, 2)::float8 as projected_variance_usd,
                case when budget is null then 'no_budget'
                     when spent > budget then 'over'
                     when projected > budget then 'projected_over'
                     else 'on_track' end as status
         from line
         order by (budget is null), projected - budget desc, account"
    ))
    .bind(as_of)
    .fetch_all(conn)
    .await
}

/// Compute resources averaging under [`IDLE_CPU_PCT`] CPU over the last 14 days
/// (CPU known on 12 of them) while billed steadily (on 12 days, with a
/// coefficient of variation of at most 0.5), with their monthly cost.
pub(super) async fn idle_resources(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<Vec<IdleResource>, sqlx::Error> {
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        ", recent as (select * from cost where day > $1::date - 14 and day <= $1::date)
         select resource_id, max(service) as service, max(account) as account, max(team) as team,
                round(avg(cpu), 2)::float8 as avg_cpu_pct,
                round(avg(cost), 2)::float8 as avg_daily_usd,
                round(avg(cost) * 30, 2)::float8 as monthly_cost_usd
         from recent
         group by resource_id
         having count(cpu) >= 12 and avg(cpu) < $2
            and count(*) filter (where cost > 0) >= 12
            and coalesce(stddev_pop(cost) / nullif(avg(cost), 0), 0) <= 0.5
         order by monthly_cost_usd desc, resource_id"
    ))
    .bind(as_of)
    .bind(IDLE_CPU_PCT)
    .fetch_all(conn)
    .await
}

/// Spend on services that look like an LLM API, with the run-rate projection.
pub(super) async fn llm_spend(
    conn: &mut PgConnection,
    as_of: NaiveDate,
) -> Result<Vec<LlmSpend>, sqlx::Error> {
    sqlx::query_as(concat!(
        "with ",
        cost_cte!(),
        ", llm as (select * from cost where service ~* $2)
         select service,
                round(coalesce(sum(cost) filter (where day >= date_trunc('month', $1::date)), 0), 2)::float8
                    as month_to_date_usd,
                round(coalesce(sum(cost) filter (where day >= date_trunc('month', $1::date) - interval '1 month'
                                                   and day < date_trunc('month', $1::date)), 0), 2)::float8
                    as previous_month_usd,
                round(coalesce(sum(cost) filter (where day > $1::date - 7), 0) / 7, 2)::float8
                    as avg_daily_last_7d_usd,
                round(coalesce(sum(cost) filter (where day > $1::date - 35 and day <= $1::date - 7), 0) / 28, 2)::float8
                    as avg_daily_prior_28d_usd,
                round(coalesce(sum(cost) filter (where day >= date_trunc('month', $1::date)), 0)
                      + coalesce(sum(cost) filter (where day > $1::date - 7), 0) / 7
                        * ((date_trunc('month', $1::date) + interval '1 month - 1 day')::date - $1::date), 2)::float8
                    as projected_month_usd
         from llm where day <= $1::date
         group by service
         order by month_to_date_usd desc, service"
    ))
    .bind(as_of)
    .bind(LLM_SERVICE_PATTERN)
    .fetch_all(conn)
    .await
}
