//! Ops: SLA breaches by team and priority, ticket backlog by age and team,
//! fulfilment times and vendor on-time delivery, over the 180 days up to the
//! latest ticket or shipment in the data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use super::report::{Report, ReportBuilder, count, percent};
use super::{AgentError, Progress, RunParameters};

/// Tickets and shipments this many days before the latest are analysed.
const WINDOW_DAYS: i32 = 180;
/// A vendor needs this many due shipments before it is ranked.
const MIN_VENDOR_SHIPMENTS: i64 = 3;

/// Tickets, typed, one per ticket id (the latest sync wins). Priorities are
/// normalised (`2` → `P2`); a ticket is `open`, `pending` or `resolved`.
macro_rules! ticket_cte {
    () => {
        "ticket as (
            select distinct on (data->>'ticket_id')
                data->>'ticket_id' as id,
                case when pg_input_is_valid(data->>'opened_at', 'timestamptz')
                     then (data->>'opened_at')::timestamptz end as opened,
                case when pg_input_is_valid(data->>'resolved_at', 'timestamptz')
                     then (data->>'resolved_at')::timestamptz end as resolved,
                case when trim(coalesce(data->>'priority', '')) ~ '^[0-9]+$' then 'P' || trim(data->>'priority')
                     else coalesce(nullif(upper(trim(data->>'priority')), ''), 'unset') end as priority,
                coalesce(nullif(data->>'team', ''), 'Unassigned') as team,
                case when pg_input_is_valid(data->>'resolved_at', 'timestamptz')
                          or lower(coalesce(data->>'status', '')) in ('resolved', 'closed', 'done') then 'resolved'
                     when lower(coalesce(data->>'status', '')) in ('pending', 'on_hold', 'waiting') then 'pending'
                     else 'open' end as state,
                nullif(data->>'customer', '') as customer,
                case when pg_input_is_valid(data->>'sla_hours', 'numeric')
                     then (data->>'sla_hours')::numeric end as sla_hours
            from canonical_records
            where entity = 'ticket' and coalesce(data->>'ticket_id', '') <> ''
            order by data->>'ticket_id', synced_at desc
        )"
    };
}

/// Shipments, typed, one per shipment id (the latest sync wins).
macro_rules! shipment_cte {
    () => {
        "shipment as (
            select distinct on (data->>'shipment_id')
                data->>'shipment_id' as id,
                coalesce(nullif(data->>'vendor', ''), 'unknown') as vendor,
                case when pg_input_is_valid(data->>'order_date', 'date') then (data->>'order_date')::date end as ordered,
                case when pg_input_is_valid(data->>'promised_date', 'date') then (data->>'promised_date')::date end as promised,
                case when pg_input_is_valid(data->>'shipped_date', 'date') then (data->>'shipped_date')::date end as shipped,
                case when pg_input_is_valid(data->>'delivered_date', 'date') then (data->>'delivered_date')::date end as delivered
            from canonical_records
            where entity = 'shipment' and coalesce(data->>'shipment_id', '') <> ''
            order by data->>'shipment_id', synced_at desc
        )"
    };
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct Breaches {
    team: String,
    priority: String,
    tickets: i64,
    breached: i64,
    /// Breached and still not resolved.
    breached_open: i64,
    breach_rate: f64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct Backlog {
    team: String,
    open: i64,
    pending: i64,
    age_under_1d: i64,
    age_1_to_3d: i64,
    age_3_to_7d: i64,
    age_7_to_14d: i64,
    age_over_14d: i64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
struct VendorDelivery {
    vendor: String,
    shipments: i64,
    /// Delivered, or past their promised date: the ones that count.
    due: i64,
    on_time: i64,
    late: i64,
    on_time_rate: Option<f64>,
    avg_order_to_ship_days: Option<f64>,
    avg_ship_to_deliver_days: Option<f64>,
    avg_order_to_deliver_days: Option<f64>,
    avg_days_late: Option<f64>,
}

const FOCUS: &[(&str, &str)] = &[
    ("sla", "sla_breaches"),
    ("breach", "sla_breaches"),
    ("backlog", "backlog"),
    ("ticket", "backlog"),
    ("vendor", "vendors"),
    ("deliver", "vendors"),
    ("late", "vendors"),
    ("fulfil", "fulfilment"),
    ("ship", "fulfilment"),
];

pub(super) async fn run(
    conn: &mut PgConnection,
    parameters: &RunParameters,
    progress: &Progress<'_>,
) -> Result<Report, AgentError> {
    let mut report = ReportBuilder::default();
    let mut headline = Vec::new();

    progress.step(10, "SLA breaches").await?;
    let tickets_as_of: Option<DateTime<Utc>> = sqlx::query_scalar(concat!(
        "with ",
        ticket_cte!(),
        " select max(greatest(opened, resolved)) from ticket"
    ))
    .fetch_one(&mut *conn)
    .await?;
    match tickets_as_of {
        None => {
            report.finding(
                "sla_breaches",
                "There are no ticket records yet: connect the help desk and approve its mappings to `ticket`.".into(),
            );
            headline.push("no support tickets have been synced yet".to_owned());
        }
        Some(as_of) => tickets(conn, as_of, &mut report, &mut headline, progress).await?,
    }

    progress.step(70, "fulfilment and vendor delivery").await?;
    let shipments_as_of: Option<NaiveDate> = sqlx::query_scalar(concat!(
        "with ",
        shipment_cte!(),
        " select max(greatest(ordered, shipped, delivered)) from shipment"
    ))
    .fetch_one(&mut *conn)
    .await?;
    match shipments_as_of {
        None => {
            report.finding(
                "vendors",
                "There are no shipment records yet: connect the order system and approve its mappings to `shipment`.".into(),
            );
            headline.push("no shipments have been synced yet".to_owned());
        }
        Some(as_of) => shipments(conn, as_of, &mut report, &mut headline).await?,
    }

    let mut headline = headline.join("; ");
    if let Some(first) = headline.get(..1) {
        headline = first.to_uppercase() + &headline[1..];
    }
    headline.push('.');
    Ok(report.finish(headline, parameters.focus.as_deref(), FOCUS))
}

async fn tickets(
    conn: &mut PgConnection,
    as_of: DateTime<Utc>,
    report: &mut ReportBuilder,
    headline: &mut Vec<String>,
    progress: &Progress<'_>,
) -> Result<(), AgentError> {
    let since = as_of - chrono::Duration::days(i64::from(WINDOW_DAYS));
    report.section("tickets_as_of", as_of);
    let breaches: Vec<Breaches> = sqlx::query_as(concat!(
        "with ",
        ticket_cte!(),
        ", judged as (
             select team, priority, state,
                    case when sla_hours is null or opened is null then false
                         when resolved is not null then resolved - opened > sla_hours * interval '1 hour'
                         when state = 'resolved' then false
                         else $1::timestamptz - opened > sla_hours * interval '1 hour' end as breached
             from ticket
             where opened > $2::timestamptz and opened <= $1::timestamptz
         )
         select team, priority, count(*) as tickets,
                count(*) filter (where breached) as breached,
                count(*) filter (where breached and state <> 'resolved') as breached_open,
                round(count(*) filter (where breached)::numeric / count(*), 4)::float8 as breach_rate
         from judged
         group by team, priority
         order by team, priority"
    ))
    .bind(as_of)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = breaches.iter().map(|b| b.tickets).sum();
    let breached: i64 = breaches.iter().map(|b| b.breached).sum();
    let breached_open: i64 = breaches.iter().map(|b| b.breached_open).sum();
    let mut by_team: Vec<(&str, i64, i64)> = Vec::new();
    for row in &breaches {
        match by_team.iter_mut().find(|(t, _, _)| *t == row.team) {
            Some((_, tickets, hit)) => {
                *tickets += row.tickets;
                *hit += row.breached;
            }
            None => by_team.push((&row.team, row.tickets, row.breached)),
        }
    }
    by_team.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(b.0)));
    let day = as_of.date_naive();
    let rate = if total > 0 {
        breached as f64 / total as f64
    } else {
        0.0
    };
    let worst = by_team
        .iter()
        .filter(|(_, _, hit)| *hit > 0)
        .take(3)
        .map(|(team, tickets, hit)| format!("{team} {hit} of {tickets}"))
        .collect::<Vec<_>>();
    report.finding(
        "sla_breaches",
        format!(
            "{} of {} (opened in the {WINDOW_DAYS} days to {day}) breached their SLA ({}), {} still unresolved{}.",
            breached,
            count(total, "ticket"),
            percent(rate),
            breached_open,
            if worst.is_empty() {
                String::new()
            } else {
                format!("; most by team: {}", worst.join(", "))
            }
        ),
    );
    headline.push(format!(
        "{breached} of {total} tickets ({}) breached SLA in the {WINDOW_DAYS} days to {day}{}",
        percent(rate),
        by_team
            .first()
            .filter(|(_, _, hit)| *hit > 0)
            .map(|(team, _, hit)| format!(", most in {team} ({hit})"))
            .unwrap_or_default()
    ));
    report.section("sla_breaches", &breaches);

    progress.step(40, "ticket backlog").await?;
    let backlog: Vec<Backlog> = sqlx::query_as(concat!(
        "with ",
        ticket_cte!(),
        ", waiting as (select team, state, $1::timestamptz - opened as age
                       from ticket where state <> 'resolved' and opened <= $1::timestamptz)
         select team,
                count(*) filter (where state = 'open') as open,
                count(*) filter (where state = 'pending') as pending,
                count(*) filter (where state = 'open' and age < interval '1 day') as age_under_1d,
                count(*) filter (where state = 'open' and age >= interval '1 day' and age < interval '3 days') as age_1_to_3d,
                count(*) filter (where state = 'open' and age >= interval '3 days' and age < interval '7 days') as age_3_to_7d,
                count(*) filter (where state = 'open' and age >= interval '7 days' and age < interval '14 days') as age_7_to_14d,
                count(*) filter (where state = 'open' and age >= interval '14 days') as age_over_14d
         from waiting
         group by team
         order by open desc, team"
    ))
    .bind(as_of)
    .fetch_all(&mut *conn)
    .await?;
    let open: i64 = backlog.iter().map(|b| b.open).sum();
    let pending: i64 = backlog.iter().map(|b| b.pending).sum();
    let aged: i64 = backlog.iter().map(|b| b.age_over_14d).sum();
    let largest = backlog
        .first()
        .filter(|b| b.open > 0)
        .map(|b| format!("; the largest is {} with {}", b.team, b.open))
        .unwrap_or_default();
    report.finding(
        "backlog",
        format!(
            "The backlog is {} ({} pending besides), {aged} of them open more than 14 days{largest}.",
            count(open, "open ticket"),
            pending
        ),
    );
    headline.push(format!("backlog {open} open tickets ({aged} over 14 days)"));
    report.section("backlog", &backlog);
    Ok(())
}

async fn shipments(
    conn: &mut PgConnection,
    as_of: NaiveDate,
    report: &mut ReportBuilder,
    headline: &mut Vec<String>,
) -> Result<(), AgentError> {
    report.section("shipments_as_of", as_of);
    // One query per grouping: `null` vendor is the overall line.
    let rows: Vec<VendorDelivery> = sqlx::query_as(concat!(
        "with ",
        shipment_cte!(),
        ", judged as (
             select vendor, ordered, shipped, delivered,
                    (delivered is not null or promised < $1::date) as due,
                    (delivered is not null and delivered <= promised) as on_time,
                    case when delivered > promised then delivered - promised end as days_late
             from shipment
             where ordered > $1::date - $2 and ordered <= $1::date and promised is not null
         )
         select coalesce(vendor, '(all vendors)') as vendor,
                count(*) as shipments,
                count(*) filter (where due) as due,
                count(*) filter (where on_time) as on_time,
                count(*) filter (where due and not on_time) as late,
                round(count(*) filter (where on_time)::numeric / nullif(count(*) filter (where due), 0), 4)::float8
                    as on_time_rate,
                round(avg(shipped - ordered) filter (where delivered is not null), 2)::float8 as avg_order_to_ship_days,
                round(avg(delivered - shipped) filter (where delivered is not null), 2)::float8 as avg_ship_to_deliver_days,
                round(avg(delivered - ordered), 2)::float8 as avg_order_to_deliver_days,
                round(avg(days_late), 2)::float8 as avg_days_late
         from judged
         group by grouping sets ((vendor), ())
         order by grouping(vendor) desc, on_time_rate nulls last, vendor"
    ))
    .bind(as_of)
    .bind(WINDOW_DAYS)
    .fetch_all(&mut *conn)
    .await?;
    let mut rows = rows.into_iter();
    let overall = rows.next();
    let vendors: Vec<VendorDelivery> = rows.collect();
    let worst: Vec<&VendorDelivery> = vendors
        .iter()
        .filter(|v| v.due >= MIN_VENDOR_SHIPMENTS && v.late > 0)
        .take(3)
        .collect();
    if let Some(all) = &overall {
        let cycle = all
            .avg_order_to_deliver_days
            .map(|d| format!("; orders take {d:.1} days from order to delivery on average"))
            .unwrap_or_default();
        report.finding(
            "fulfilment",
            format!(
                "On-time delivery is {} ({} of {} due shipments in the {WINDOW_DAYS} days to {as_of}){cycle}.",
                all.on_time_rate.map_or("n/a".to_owned(), percent),
                all.on_time,
                all.due
            ),
        );
        let worst_text = worst
            .first()
            .map(|v| {
                format!(
                    ", worst vendor {} at {} ({} late of {})",
                    v.vendor,
                    v.on_time_rate.map_or("n/a".to_owned(), percent),
                    v.late,
                    v.due
                )
            })
            .unwrap_or_default();
        headline.push(format!(
            "on-time delivery {}{worst_text}",
            all.on_time_rate.map_or("n/a".to_owned(), percent)
        ));
    }
    for vendor in &worst {
        let lateness = vendor
            .avg_days_late
            .map(|d| format!(", {d:.1} days late on average when late"))
            .unwrap_or_default();
        report.finding(
            "vendors",
            format!(
                "{} delivered {} on time ({} late of {} due{lateness}).",
                vendor.vendor,
                vendor.on_time_rate.map_or("n/a".to_owned(), percent),
                vendor.late,
                vendor.due
            ),
        );
    }
    report.section("fulfilment", &overall);
    report.section("vendors", &vendors);
    Ok(())
}
