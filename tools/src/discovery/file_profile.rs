//! What reading one CSV or JSON file learns: each column's inferred type and
//! sampled values, the row count, and the problems met on the way; and how
//! that becomes a catalog asset.

use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;

use super::{AssetKind, Column, FoundAsset};

const SAMPLE_SIZE: usize = 100;
/// Values per column the type is inferred from.
const TYPE_SAMPLE: usize = 1000;
const MAX_EXAMPLES: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    Csv,
    Tsv,
    Json,
    JsonLines,
}

impl Format {
    pub(super) fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::JsonLines),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::JsonLines => "jsonl",
        }
    }
}

/// Problems met while reading a file.
#[derive(Debug, Default, Serialize)]
pub(super) struct Issues {
    pub ragged_rows: u64,
    pub invalid_utf8_rows: u64,
    pub unreadable_rows: u64,
    pub examples: Vec<String>,
}

impl Issues {
    pub(super) fn note(&mut self, example: String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(example);
        }
    }

    pub(super) fn describe(&self) -> Option<String> {
        let parts: Vec<String> = [
            (self.ragged_rows, "ragged rows"),
            (self.invalid_utf8_rows, "rows with invalid UTF-8 (replaced)"),
            (self.unreadable_rows, "unreadable rows (skipped)"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        (!parts.is_empty()).then(|| format!("{} ({})", parts.join(", "), self.examples.join("; ")))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ValueType {
    Boolean,
    Integer,
    Number,
    Date,
    Timestamp,
    Text,
    Object,
    Array,
}

impl ValueType {
    fn of_text(value: &str) -> ValueType {
        let numeric = !value.is_empty()
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'e' | b'E'))
            && !(value.len() > 1 && value.starts_with('0') && !value.starts_with("0."));
        if value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false") {
            ValueType::Boolean
        } else if numeric && value.parse::<i64>().is_ok() {
            ValueType::Integer
        } else if numeric && value.parse::<f64>().is_ok() {
            ValueType::Number
        } else if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() {
            ValueType::Date
        } else if chrono::DateTime::parse_from_rfc3339(value).is_ok()
            || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f").is_ok()
            || chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
        {
            ValueType::Timestamp
        } else {
            ValueType::Text
        }
    }

    /// The narrowest type holding both.
    fn widen(self, other: ValueType) -> ValueType {
        use ValueType::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Integer | Number, Integer | Number) => Number,
            (Date | Timestamp, Date | Timestamp) => Timestamp,
            _ => Text,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            ValueType::Boolean => "boolean",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Date => "date",
            ValueType::Timestamp => "timestamp",
            ValueType::Text => "text",
            ValueType::Object => "object",
            ValueType::Array => "array",
        }
    }
}

#[derive(Default)]
pub(super) struct ColumnProfile {
    name: String,
    value_type: Option<ValueType>,
    typed: usize,
    samples: Vec<String>,
}

impl ColumnProfile {
    pub(super) fn add(&mut self, value: &str, value_type: Option<ValueType>) {
        if value.is_empty() {
            return;
        }
        if self.typed < TYPE_SAMPLE {
            let this = value_type.unwrap_or_else(|| ValueType::of_text(value));
            self.value_type = Some(self.value_type.map_or(this, |t| t.widen(this)));
            self.typed += 1;
        }
        if self.samples.len() < SAMPLE_SIZE {
            self.samples.push(value.chars().take(1000).collect());
        }
    }
}

/// What reading one file learnt.
pub(super) struct FileProfile {
    format: Format,
    pub columns: Vec<ColumnProfile>,
    index: HashMap<String, usize>,
    pub rows: u64,
    pub issues: Issues,
}

impl FileProfile {
    pub(super) fn new(format: Format) -> FileProfile {
        FileProfile {
            format,
            columns: Vec::new(),
            index: HashMap::new(),
            rows: 0,
            issues: Issues::default(),
        }
    }

    pub(super) fn column(&mut self, name: &str) -> &mut ColumnProfile {
        let next = self.columns.len();
        let i = *self.index.entry(name.to_owned()).or_insert(next);
        if i == next {
            self.columns.push(ColumnProfile {
                name: name.to_owned(),
                ..ColumnProfile::default()
            });
        }
        &mut self.columns[i]
    }

    pub(super) fn into_asset(self, path: &Path, relative: String) -> FoundAsset {
        let meta = std::fs::metadata(path).ok();
        let modified = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(|t| chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339());
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let data_type = c.value_type.map_or("text", ValueType::as_str);
                Column::classify(&c.name, data_type, &c.samples)
            })
            .collect();
        let has_issues = self.issues.describe().is_some();
        FoundAsset {
            kind: AssetKind::File,
            name: path
                .file_name()
                .map_or_else(|| relative.clone(), |n| n.to_string_lossy().into_owned()),
            qualified_name: relative,
            owner: None,
            tags: vec!["file".into(), self.format.as_str().into()],
            columns,
            row_estimate: Some(i64::try_from(self.rows).unwrap_or(i64::MAX)),
            sanctioned: true,
            details: json!({
                "path": path.display().to_string(),
                "format": self.format.as_str(),
                "size_bytes": meta.map(|m| m.len()),
                "modified_at": modified,
                "issues": has_issues.then_some(&self.issues),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_types_are_inferred_and_widened() {
        assert_eq!(ValueType::of_text("42"), ValueType::Integer);
        assert_eq!(ValueType::of_text("-4.5"), ValueType::Number);
        assert_eq!(ValueType::of_text("2026-08-01"), ValueType::Date);
        assert_eq!(
            ValueType::of_text("2026-08-01T04:02:36Z"),
            ValueType::Timestamp
        );
        assert_eq!(ValueType::of_text("TRUE"), ValueType::Boolean);
        assert_eq!(ValueType::of_text("+16045550116"), ValueType::Text);
        assert_eq!(ValueType::of_text("00123"), ValueType::Text);
        assert_eq!(ValueType::of_text("NaN"), ValueType::Text);
        assert_eq!(
            ValueType::Integer.widen(ValueType::Number),
            ValueType::Number
        );
        assert_eq!(
            ValueType::Date.widen(ValueType::Timestamp),
            ValueType::Timestamp
        );
        assert_eq!(ValueType::Date.widen(ValueType::Integer), ValueType::Text);
    }
}
