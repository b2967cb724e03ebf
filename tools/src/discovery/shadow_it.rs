//! Shadow IT: applications people use, as an SSO sign-in log
//! (`timestamp,user_email,app,result`) or an expense export
//! (`date,employee_email,vendor,amount_usd,category`) shows them, compared
//! with the tenant's approved list. Every application becomes an asset; those
//! not on the list are unsanctioned.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::Path;

use super::{AssetKind, DiscoveryError, FoundAsset, Scan};

/// The `assets.source` of applications.
pub(crate) const SOURCE: &str = "app_logs";

/// How an application is used, as stored in its asset's `details`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct AppUsage {
    /// Distinct people seen using or paying for it.
    pub users: u64,
    /// Log lines naming it (sign-ins and expense reports).
    pub events: u64,
    pub sign_ins: u64,
    pub failed_sign_ins: u64,
    pub expense_reports: u64,
    pub spend_usd: f64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Which logs it was seen in: `sso`, `expenses`.
    pub sources: Vec<String>,
}

/// The name an application is compared by: trimmed, single-spaced, lower case.
pub fn app_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The names in an approved-apps file: one per line, `#` starts a comment.
pub fn parse_app_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Default)]
struct Tally {
    name: String,
    users: HashSet<String>,
    usage: AppUsage,
}

impl Tally {
    fn seen(&mut self, when: Option<&str>, user: Option<&str>, source: &str) {
        if let Some(user) = user {
            self.users.insert(user.to_lowercase());
        }
        if let Some(when) = when {
            // ISO dates and timestamps compare correctly as text; keep the day.
            let day = when
                .get(..10)
                .filter(|d| d.parse::<chrono::NaiveDate>().is_ok());
            let day = day.unwrap_or(when).to_owned();
            let first = self.usage.first_seen.get_or_insert_with(|| day.clone());
            if day < *first {
                *first = day.clone();
            }
            let last = self.usage.last_seen.get_or_insert_with(|| day.clone());
            if day > *last {
                *last = day;
            }
        }
        if !self.usage.sources.iter().any(|s| s == source) {
            self.usage.sources.push(source.to_owned());
        }
        self.usage.events += 1;
    }
}

type Tallies = BTreeMap<String, Tally>;

/// Reads the logs and marks each application against `approved` (keys from [`app_key`]).
pub(crate) fn scan(
    sso_log: Option<&Path>,
    expenses: Option<&Path>,
    approved: &HashSet<String>,
) -> Result<Scan, DiscoveryError> {
    let mut apps = Tallies::new();
    let mut warnings = Vec::new();
    let logs: [(Option<&Path>, Tallier); 2] = [(sso_log, tally_sso), (expenses, tally_expenses)];
    for (path, tally) in logs {
        let Some(path) = path else { continue };
        let file = std::fs::File::open(path)
            .map_err(|e| DiscoveryError::Source(format!("cannot read {}: {e}", path.display())))?;
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        tally(&name, Log::read(file), &mut apps, &mut warnings)?;
    }
    let assets = apps
        .into_iter()
        .map(|(key, tally)| application(key, tally, approved))
        .collect();
    Ok(Scan { assets, warnings })
}

fn application(key: String, mut tally: Tally, approved: &HashSet<String>) -> FoundAsset {
    let sanctioned = approved.contains(&key);
    tally.usage.users = tally.users.len() as u64;
    tally.usage.spend_usd = (tally.usage.spend_usd * 100.0).round() / 100.0;
    let mut tags = vec!["application".to_owned()];
    tags.extend(tally.usage.sources.iter().cloned());
    if !sanctioned {
        tags.push("shadow_it".into());
    }
    FoundAsset {
        kind: AssetKind::Application,
        qualified_name: key,
        name: tally.name,
        owner: None,
        tags,
        columns: Vec::new(),
        row_estimate: None,
        sanctioned,
        details: serde_json::to_value(&tally.usage).unwrap_or_default(),
    }
}

/// Adds one log's applications to the tallies.
type Tallier = fn(&str, Log, &mut Tallies, &mut Vec<String>) -> Result<(), DiscoveryError>;

/// A CSV log: its lower-cased header and its rows, fields decoded leniently
/// (invalid UTF-8 becomes U+FFFD; a short row simply lacks its last fields).
struct Log {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    unreadable: usize,
}

impl Log {
    fn read(reader: impl Read) -> Log {
        let mut csv = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(reader);
        let mut records = csv.byte_records();
        let decode = |r: &csv::ByteRecord| -> Vec<String> {
            r.iter()
                .map(|f| String::from_utf8_lossy(f).trim().to_owned())
                .collect()
        };
        let headers = match records.next() {
            Some(Ok(r)) => decode(&r)
                .into_iter()
                .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
                .collect(),
            _ => Vec::new(),
        };
        let (mut rows, mut unreadable) = (Vec::new(), 0);
        for record in records {
            match record {
                Ok(r) => rows.push(decode(&r)),
                Err(_) => unreadable += 1,
            }
        }
        Log {
            headers,
            rows,
            unreadable,
        }
    }

    fn column(&self, names: &[&str]) -> Option<usize> {
        names
            .iter()
            .find_map(|n| self.headers.iter().position(|h| h == n))
    }
}

fn field(row: &[String], column: Option<usize>) -> Option<&str> {
    column
        .and_then(|c| row.get(c))
        .map(String::as_str)
        .filter(|v| !v.is_empty())
}

fn tally_sso(
    file: &str,
    log: Log,
    apps: &mut Tallies,
    warnings: &mut Vec<String>,
) -> Result<(), DiscoveryError> {
    let app = log
        .column(&["app", "application", "app_name", "service"])
        .ok_or_else(|| DiscoveryError::BadTarget(format!("{file} has no `app` column")))?;
    let user = log.column(&["user_email", "user", "email", "username", "actor"]);
    let time = log.column(&["timestamp", "time", "date", "event_time", "occurred_at"]);
    let result = log.column(&["result", "outcome", "status"]);
    let mut skipped = log.unreadable;
    for row in &log.rows {
        let Some(name) = field(row, Some(app)) else {
            skipped += 1;
            continue;
        };
        let tally = tally_for(apps, name);
        tally.seen(field(row, time), field(row, user), "sso");
        let failed = field(row, result).is_some_and(|r| {
            matches!(
                r.to_lowercase().as_str(),
                "failure" | "failed" | "fail" | "denied" | "error" | "blocked"
            )
        });
        if failed {
            tally.usage.failed_sign_ins += 1;
        } else {
            tally.usage.sign_ins += 1;
        }
    }
    if skipped > 0 {
        warnings.push(format!(
            "{file}: {skipped} rows without an application skipped"
        ));
    }
    Ok(())
}

/// Expense lines for software only (when the export has a category): travel
/// and meals are not applications.
fn tally_expenses(
    file: &str,
    log: Log,
    apps: &mut Tallies,
    warnings: &mut Vec<String>,
) -> Result<(), DiscoveryError> {
    let vendor = log
        .column(&["vendor", "merchant", "payee", "app", "application"])
        .ok_or_else(|| DiscoveryError::BadTarget(format!("{file} has no `vendor` column")))?;
    let user = log.column(&["employee_email", "email", "user_email", "employee", "user"]);
    let date = log.column(&["date", "expense_date", "transaction_date", "timestamp"]);
    let amount = log.column(&["amount_usd", "amount", "total_usd", "total", "cost_usd"]);
    let category = log.column(&["category", "expense_category", "type"]);
    let (mut skipped, mut bad_amounts) = (log.unreadable, 0);
    for row in &log.rows {
        if category.is_some() && !field(row, category).is_some_and(software_category) {
            continue;
        }
        let Some(name) = field(row, Some(vendor)) else {
            skipped += 1;
            continue;
        };
        let spend = field(row, amount).map(|a| a.replace(['$', ',', ' '], "").parse::<f64>());
        let tally = tally_for(apps, name);
        tally.seen(field(row, date), field(row, user), "expenses");
        tally.usage.expense_reports += 1;
        match spend {
            Some(Ok(spend)) if spend.is_finite() => tally.usage.spend_usd += spend,
            Some(_) => bad_amounts += 1,
            None => {}
        }
    }
    if skipped > 0 {
        warnings.push(format!("{file}: {skipped} rows without a vendor skipped"));
    }
    if bad_amounts > 0 {
        warnings.push(format!(
            "{file}: {bad_amounts} amounts unreadable, counted as 0"
        ));
    }
    Ok(())
}

fn software_category(category: &str) -> bool {
    let category = category.to_lowercase();
    ["software", "saas", "subscription", "cloud", "licen", "app"]
        .iter()
        .any(|w| category.contains(w))
}

fn tally_for<'a>(apps: &'a mut Tallies, name: &str) -> &'a mut Tally {
    apps.entry(app_key(name)).or_insert_with(|| Tally {
        name: name.split_whitespace().collect::<Vec<_>>().join(" "),
        ..Tally::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tallies(sso: &str, expenses: &str) -> (Vec<FoundAsset>, Vec<String>) {
        let (mut apps, mut warnings) = (Tallies::new(), Vec::new());
        tally_sso(
            "sso.csv",
            Log::read(sso.as_bytes()),
            &mut apps,
            &mut warnings,
        )
        .expect("sso");
        tally_expenses(
            "exp.csv",
            Log::read(expenses.as_bytes()),
            &mut apps,
            &mut warnings,
        )
        .expect("expenses");
        let approved: HashSet<String> = ["slack".to_owned()].into();
        let assets = apps
            .into_iter()
            .map(|(k, t)| application(k, t, &approved))
            .collect();
        (assets, warnings)
    }

    #[test]
    fn logs_become_applications_with_usage() {
        let sso = "timestamp,user_email,app,result\n\
                   2026-11-02T08:00:00Z,ada@x.example,Notion,success\n\
                   2026-11-01T08:00:00Z,Bob@x.example,notion ,failure\n\
                   2026-11-03T08:00:00Z,bob@x.example,SLACK,success\n\
                   2026-11-03T09:00:00Z,bob@x.example,,success\n";
        let expenses = "date,employee_email,vendor,amount_usd,category\n\
                        2026-10-15,cy@x.example,Notion,\"1,200.50\",Software\n\
                        2026-10-16,cy@x.example,Hilton,300,Travel\n\
                        2026-10-17,cy@x.example,Miro,abc,SaaS\n";
        let (assets, warnings) = tallies(sso, expenses);
        let names: Vec<&str> = assets.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Miro", "Notion", "SLACK"]);
        let notion: AppUsage = serde_json::from_value(assets[1].details.clone()).expect("usage");
        assert_eq!(notion.users, 3);
        assert_eq!(
            (notion.events, notion.sign_ins, notion.failed_sign_ins),
            (3, 1, 1)
        );
        assert_eq!(notion.spend_usd, 1200.5);
        assert_eq!(notion.first_seen.as_deref(), Some("2026-10-15"));
        assert_eq!(notion.last_seen.as_deref(), Some("2026-11-02"));
        assert_eq!(notion.sources, ["sso", "expenses"]);
        assert!(!assets[1].sanctioned && assets[2].sanctioned);
        assert!(assets[1].tags.contains(&"shadow_it".to_owned()));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn a_log_without_an_app_column_is_refused() {
        let (mut apps, mut warnings) = (Tallies::new(), Vec::new());
        let log = Log::read("a,b\n1,2\n".as_bytes());
        let err = tally_sso("sso.csv", log, &mut apps, &mut warnings).expect_err("no app column");
        assert_eq!(err.to_string(), "sso.csv has no `app` column");
    }

    #[test]
    fn approved_lists_skip_comments_and_blank_lines() {
        let text = "# approved\nSlack\n\n  Google  Workspace  # mail\n";
        assert_eq!(parse_app_list(text), ["Slack", "Google  Workspace"]);
        assert_eq!(app_key(" Google  Workspace "), "google workspace");
    }
}
