//! Schema fingerprints: the shape of a source entity (its columns and their
//! types) reduced to one hash, with a small value profile per column that drift
//! detection and mapping proposals compare.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt;

/// How many distinct values a column profile keeps.
const KEPT_SAMPLES: usize = 20;
/// Longest sample value kept, in characters.
const SAMPLE_CHARS: usize = 100;

/// The type of a source column: declared by the database, or inferred from
/// the values of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Integer,
    Number,
    Date,
    Timestamp,
    Boolean,
    Text,
}

impl ColumnType {
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::Integer => "integer",
            ColumnType::Number => "number",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Boolean => "boolean",
            ColumnType::Text => "text",
        }
    }

    pub fn parse(raw: &str) -> ColumnType {
        match raw {
            "integer" => ColumnType::Integer,
            "number" => ColumnType::Number,
            "date" => ColumnType::Date,
            "timestamp" => ColumnType::Timestamp,
            "boolean" => ColumnType::Boolean,
            _ => ColumnType::Text,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Integer | ColumnType::Number)
    }

    /// The type PostgreSQL's `information_schema.columns.data_type` names.
    pub fn from_postgres(data_type: &str) -> ColumnType {
        match data_type {
            "smallint" | "integer" | "bigint" => ColumnType::Integer,
            "numeric" | "real" | "double precision" | "money" => ColumnType::Number,
            "date" => ColumnType::Date,
            "timestamp without time zone" | "timestamp with time zone" => ColumnType::Timestamp,
            "boolean" => ColumnType::Boolean,
            _ => ColumnType::Text,
        }
    }

    /// The type one text value looks like.
    pub fn of_text(raw: &str) -> ColumnType {
        let s = raw.trim();
        if looks_integer(s) {
            ColumnType::Integer
        } else if looks_number(s) {
            ColumnType::Number
        } else if parse_date(s).is_some() {
            ColumnType::Date
        } else if parse_timestamp(s).is_some() {
            ColumnType::Timestamp
        } else if matches!(s.to_ascii_lowercase().as_str(), "true" | "false") {
            ColumnType::Boolean
        } else {
            ColumnType::Text
        }
    }

    /// The type one JSON value looks like; `None` for null or empty.
    pub fn of_value(value: &Value) -> Option<ColumnType> {
        match value {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(ColumnType::of_text(s)),
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(ColumnType::Integer),
            Value::Number(_) => Some(ColumnType::Number),
            Value::Bool(_) => Some(ColumnType::Boolean),
            Value::Array(_) | Value::Object(_) => Some(ColumnType::Text),
        }
    }

    /// The narrowest type every value of a column fits.
    fn widen(self, other: ColumnType) -> ColumnType {
        use ColumnType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Integer, Number) | (Number, Integer) => Number,
            (Date, Timestamp) | (Timestamp, Date) => Timestamp,
            _ => Text,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn looks_integer(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    // A leading zero marks a code (zip code, account number), not a quantity.
    !digits.is_empty()
        && digits.len() <= 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !(digits.len() > 1 && digits.starts_with('0'))
}

fn looks_number(s: &str) -> bool {
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let int_part = unsigned.split(['.', 'e', 'E']).next().unwrap_or_default();
    // `007`, like an integer with a leading zero, is a code.
    let code = int_part.len() > 1 && int_part.starts_with('0');
    !code
        && s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && s.parse::<f64>().is_ok_and(f64::is_finite)
}

/// A calendar date in one of the unambiguous forms.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// A point in time: RFC 3339 (any offset, given as UTC), or a date and time
/// without an offset, taken as UTC.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<chrono::Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    // PostgreSQL's `row_to_json` writes offsets as `+00:00`, RFC 3339 proper;
    // its text form writes `+00`.
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%#z") {
        return Some(t.with_timezone(&chrono::Utc));
    }
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .map(|t| t.and_utc())
}

/// One column of a source entity, with a profile of the values sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
    /// The type the source database declares, when it declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_type: Option<String>,
    /// Up to 20 distinct values, in the order first seen.
    #[serde(default)]
    pub samples: Vec<String>,
    /// Distinct non-empty values among the sampled rows.
    #[serde(default)]
    pub distinct: u32,
    /// Sampled rows with a value in this column.
    #[serde(default)]
    pub non_empty: u32,
    /// Rows sampled.
    #[serde(default)]
    pub sampled: u32,
}

/// A column as the source describes it before any value is seen.
#[derive(Debug, Clone)]
pub(crate) struct DeclaredColumn {
    pub name: String,
    /// `information_schema` data type; `None` for files, whose types are inferred.
    pub declared_type: Option<String>,
}

/// Profiles every column from the declared columns and sampled rows. Columns
/// seen only in the rows (JSON objects with extra keys) come after the
/// declared ones, in the order first seen.
pub(crate) fn profile(
    declared: &[DeclaredColumn],
    rows: &[Map<String, Value>],
) -> Vec<ColumnProfile> {
    let mut columns: Vec<DeclaredColumn> = declared.to_vec();
    let mut known: HashSet<String> = columns.iter().map(|c| c.name.clone()).collect();
    for row in rows {
        for key in row.keys() {
            if known.insert(key.clone()) {
                columns.push(DeclaredColumn {
                    name: key.clone(),
                    declared_type: None,
                });
            }
        }
    }
    columns
        .iter()
        .map(|column| profile_column(column, rows))
        .collect()
}

fn profile_column(column: &DeclaredColumn, rows: &[Map<String, Value>]) -> ColumnProfile {
    let mut inferred: Option<ColumnType> = None;
    let mut seen: HashSet<String> = HashSet::new();
    let mut samples = Vec::new();
    let mut non_empty = 0u32;
    for row in rows {
        let Some(value) = row.get(&column.name) else {
            continue;
        };
        let Some(kind) = ColumnType::of_value(value) else {
            continue;
        };
        non_empty += 1;
        inferred = Some(inferred.map_or(kind, |t| t.widen(kind)));
        let text = sample_text(value);
        if seen.len() < 1000 && seen.insert(text.clone()) && samples.len() < KEPT_SAMPLES {
            samples.push(text);
        }
    }
    let column_type = match &column.declared_type {
        Some(declared) => ColumnType::from_postgres(declared),
        None => inferred.unwrap_or(ColumnType::Text),
    };
    ColumnProfile {
        name: column.name.clone(),
        column_type,
        declared_type: column.declared_type.clone(),
        samples,
        distinct: u32::try_from(seen.len()).unwrap_or(u32::MAX),
        non_empty,
        sampled: u32::try_from(rows.len()).unwrap_or(u32::MAX),
    }
}

fn sample_text(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    text.chars().take(SAMPLE_CHARS).collect()
}

/// The hash of an entity's shape: its sorted `name:type` pairs.
pub fn fingerprint(columns: &[ColumnProfile]) -> String {
    let mut pairs: Vec<String> = columns
        .iter()
        .map(|c| format!("{}:{}", c.name, c.column_type))
        .collect();
    pairs.sort();
    let mut hasher = Sha256::new();
    for pair in pairs {
        hasher.update(pair.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows(values: &[Value]) -> Vec<Map<String, Value>> {
        values
            .iter()
            .filter_map(|v| v.as_object().cloned())
            .collect()
    }

    #[test]
    fn text_values_are_typed() {
        assert_eq!(ColumnType::of_text("42"), ColumnType::Integer);
        assert_eq!(ColumnType::of_text("007"), ColumnType::Text);
        assert_eq!(ColumnType::of_text("1692.65"), ColumnType::Number);
        assert_eq!(ColumnType::of_text("2026-08-01"), ColumnType::Date);
        assert_eq!(
            ColumnType::of_text("2026-08-01T04:02:36Z"),
            ColumnType::Timestamp
        );
        assert_eq!(
            ColumnType::of_text("2026-08-01 04:02:36"),
            ColumnType::Timestamp
        );
        assert_eq!(ColumnType::of_text("TRUE"), ColumnType::Boolean);
        assert_eq!(ColumnType::of_text("P1"), ColumnType::Text);
        assert_eq!(ColumnType::of_text("e"), ColumnType::Text);
    }

    #[test]
    fn columns_take_the_narrowest_type_all_values_fit() {
        let sampled = rows(&[
            json!({"a": "1", "b": "1.5", "c": "2026-01-01", "d": "x", "e": ""}),
            json!({"a": "2", "b": "2", "c": "2026-01-02T00:00:00Z", "d": "3", "e": null}),
        ]);
        let declared: Vec<DeclaredColumn> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|n| DeclaredColumn {
                name: (*n).into(),
                declared_type: None,
            })
            .collect();
        let profiles = profile(&declared, &sampled);
        let types: Vec<ColumnType> = profiles.iter().map(|p| p.column_type).collect();
        use ColumnType::*;
        assert_eq!(types, vec![Integer, Number, Timestamp, Text, Text]);
        assert_eq!(profiles[0].samples, vec!["1", "2"]);
        assert_eq!(profiles[4].non_empty, 0);
    }

    #[test]
    fn fingerprints_ignore_column_order_and_samples() {
        let a = ColumnProfile {
            name: "a".into(),
            column_type: ColumnType::Integer,
            declared_type: None,
            samples: vec!["1".into()],
            distinct: 1,
            non_empty: 1,
            sampled: 1,
        };
        let b = ColumnProfile {
            name: "b".into(),
            column_type: ColumnType::Text,
            samples: vec![],
            ..a.clone()
        };
        let mut a2 = a.clone();
        a2.samples = vec!["9".into()];
        assert_eq!(
            fingerprint(&[a.clone(), b.clone()]),
            fingerprint(&[b.clone(), a2])
        );
        let mut retyped = a.clone();
        retyped.column_type = ColumnType::Text;
        assert_ne!(fingerprint(&[a, b.clone()]), fingerprint(&[retyped, b]));
    }
}
