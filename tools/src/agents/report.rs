//! What an agent run produces (a headline, findings and tables), and how
//! numbers are written in them: the headline goes straight into an executive's
//! chat answer, so it reads as a sentence with the numbers in it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The stored result of a run (`agent_runs.result`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    /// One sentence with the key numbers.
    pub headline: String,
    /// One line per finding, the most important first.
    pub findings: Vec<String>,
    /// Tables by name; each is an object or an array of rows.
    pub sections: Map<String, Value>,
}

/// Builds a report section by section, keeping each finding with the section
/// it came from so a run's `focus` can bring those findings first.
#[derive(Default)]
pub(crate) struct ReportBuilder {
    findings: Vec<(&'static str, String)>,
    sections: Map<String, Value>,
}

impl ReportBuilder {
    pub fn section(&mut self, name: &'static str, table: impl Serialize) {
        let value = serde_json::to_value(table).unwrap_or(Value::Null);
        self.sections.insert(name.to_owned(), value);
    }

    pub fn finding(&mut self, section: &'static str, text: String) {
        self.findings.push((section, text));
    }

    /// The report, with the findings of sections the focus names first.
    /// `keywords` maps words a focus may use to the section they point at.
    pub fn finish(
        self,
        headline: String,
        focus: Option<&str>,
        keywords: &[(&str, &str)],
    ) -> Report {
        let focus = focus.unwrap_or_default().to_lowercase();
        let wanted: Vec<&str> = keywords
            .iter()
            .filter(|(word, _)| focus.contains(word))
            .map(|(_, section)| *section)
            .collect();
        let mut findings = self.findings;
        // A stable sort keeps each group's own order.
        findings.sort_by_key(|(section, _)| !wanted.contains(section));
        Report {
            headline,
            findings: findings.into_iter().map(|(_, text)| text).collect(),
            sections: self.sections,
        }
    }
}

/// A dollar amount for people: `$1.25M`, `$12,345`, `$87.50`.
pub(crate) fn usd(amount: f64) -> String {
    let sign = if amount < 0.0 { "-" } else { "" };
    let abs = amount.abs();
    if abs >= 1_000_000.0 {
        format!("{sign}${:.2}M", abs / 1_000_000.0)
    } else if abs >= 100.0 {
        format!("{sign}${}", thousands(abs.round()))
    } else {
        format!("{sign}${abs:.2}")
    }
}

/// `0.4287` → `42.9%`.
pub(crate) fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// `2026-11-01` → `November 2026`.
pub(crate) fn month_name(month: NaiveDate) -> String {
    month.format("%B %Y").to_string()
}

fn thousands(whole: f64) -> String {
    // Amounts here are far below 2^53, so the integer is exact.
    let digits = (whole as i64).to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1` → `1 deal`, `3` → `3 deals`.
pub(crate) fn count(n: i64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_naturally() {
        assert_eq!(usd(0.0), "$0.00");
        assert_eq!(usd(87.5), "$87.50");
        assert_eq!(usd(3810.0), "$3,810");
        assert_eq!(usd(123_456.7), "$123,457");
        assert_eq!(usd(6_000_000.0), "$6.00M");
        assert_eq!(usd(-1500.0), "-$1,500");
        assert_eq!(percent(0.428_57), "42.9%");
        assert_eq!(count(1, "deal"), "1 deal");
        assert_eq!(count(2, "deal"), "2 deals");
    }

    #[test]
    fn focus_brings_its_findings_first() {
        let mut report = ReportBuilder::default();
        report.finding("spend", "spend".into());
        report.finding("budgets", "budget a".into());
        report.finding("idle", "idle".into());
        report.finding("budgets", "budget b".into());
        let report = report.finish(
            "h".into(),
            Some("How are we doing against BUDGET?"),
            &[("budget", "budgets"), ("idle", "idle")],
        );
        assert_eq!(report.findings, ["budget a", "budget b", "spend", "idle"]);
    }
}
