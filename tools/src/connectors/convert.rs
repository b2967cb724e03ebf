//! Turning a source row into a canonical record: each mapped value converted
//! to its canonical field's type (numbers as JSON numbers, dates
//! `YYYY-MM-DD`, timestamps RFC 3339 in UTC), and the record's key built from
//! the canonical entity's key fields.

use chrono::SecondsFormat;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::fingerprint::{parse_date, parse_timestamp};
use crate::canonical::{Entity, Field, FieldType};

/// One approved mapping, resolved against the canonical model.
#[derive(Debug, Clone)]
pub(crate) struct FieldMapping {
    pub source_field: String,
    pub field: &'static Field,
}

/// A canonical record: its key within the source and its data.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Record {
    pub key: String,
    pub data: Value,
}

/// Builds the record of `entity` from one source row. Source fields absent
/// from the row are left out; empty values become null. The key joins the
/// entity's key fields; when not every key field is mapped, it is a hash of
/// the whole source row, so re-syncing an unchanged row replaces it.
pub(crate) fn record(
    entity: &Entity,
    mappings: &[FieldMapping],
    row: &Map<String, Value>,
) -> Result<Record, String> {
    let mut data = Map::new();
    for mapping in mappings {
        let Some(raw) = row.get(&mapping.source_field) else {
            continue;
        };
        let value = convert(raw, mapping.field.field_type).map_err(|reason| {
            format!(
                "`{}` (→ {}): {reason}",
                mapping.source_field, mapping.field.name
            )
        })?;
        data.insert(mapping.field.name.to_owned(), value);
    }
    let all_keys_mapped = entity
        .key
        .iter()
        .all(|k| mappings.iter().any(|m| m.field.name == *k));
    let key = if all_keys_mapped {
        let mut parts = Vec::with_capacity(entity.key.len());
        for name in entity.key {
            match data.get(*name) {
                None | Some(Value::Null) => {
                    return Err(format!("no value for the key field {name}"));
                }
                Some(Value::String(s)) => parts.push(s.clone()),
                Some(other) => parts.push(other.to_string()),
            }
        }
        parts.join("|")
    } else {
        let mut hasher = Sha256::new();
        hasher.update(Value::Object(row.clone()).to_string().as_bytes());
        format!("row:{}", &hex::encode(hasher.finalize())[..32])
    };
    Ok(Record {
        key,
        data: Value::Object(data),
    })
}

/// One source value as a value of `field_type`, or why it cannot be.
pub(crate) fn convert(raw: &Value, field_type: FieldType) -> Result<Value, String> {
    let text = match raw {
        Value::Null => return Ok(Value::Null),
        Value::String(s) if s.trim().is_empty() => return Ok(Value::Null),
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    match field_type {
        FieldType::Text => Ok(Value::String(match (text, raw) {
            (Some(s), _) => s.to_owned(),
            (None, other) => other.to_string(),
        })),
        FieldType::Number => match (text, raw) {
            (_, Value::Number(n)) => Ok(Value::Number(n.clone())),
            (Some(s), _) => parse_number(s)
                .map(Value::Number)
                .ok_or_else(|| format!("`{}` is not a number", shorten(s))),
            (None, other) => Err(format!("{other} is not a number")),
        },
        FieldType::Date => {
            let s = text.ok_or_else(|| format!("{raw} is not a date"))?;
            parse_date(s)
                .or_else(|| parse_timestamp(s).map(|t| t.date_naive()))
                .map(|d| Value::String(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| format!("`{}` is not a date (YYYY-MM-DD)", shorten(s)))
        }
        FieldType::Timestamp => {
            let s = text.ok_or_else(|| format!("{raw} is not a timestamp"))?;
            parse_timestamp(s)
                .or_else(|| {
                    parse_date(s)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc())
                })
                .map(|t| Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)))
                .ok_or_else(|| format!("`{}` is not a timestamp (RFC 3339)", shorten(s)))
        }
    }
}

/// A decimal number as written in a file: an optional `$`, thousands
/// separators, a sign.
fn parse_number(s: &str) -> Option<Number> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let negative = unsigned.len() != s.len();
    let unsigned = unsigned.strip_prefix('$').unwrap_or(unsigned);
    let plain: String = if unsigned.contains(',') {
        // Only well-formed thousands separators: 1,234,567.89.
        let int_part = unsigned.split('.').next().unwrap_or_default();
        let groups: Vec<&str> = int_part.split(',').collect();
        let well_formed = groups.first().is_some_and(|g| (1..=3).contains(&g.len()))
            && groups[1..].iter().all(|g| g.len() == 3);
        if !well_formed {
            return None;
        }
        unsigned.replace(',', "")
    } else {
        unsigned.to_owned()
    };
    let signed = if negative { format!("-{plain}") } else { plain };
    if !signed.bytes().any(|b| b.is_ascii_digit())
        || !signed
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    if let Ok(i) = signed.parse::<i64>() {
        return Some(Number::from(i));
    }
    signed
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(Number::from_f64)
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical;
    use serde_json::json;

    #[test]
    fn values_take_their_canonical_types() {
        assert_eq!(
            convert(&json!("1692.65"), FieldType::Number).unwrap(),
            json!(1692.65)
        );
        assert_eq!(
            convert(&json!("$1,234"), FieldType::Number).unwrap(),
            json!(1234)
        );
        assert_eq!(
            convert(&json!(-3.5), FieldType::Number).unwrap(),
            json!(-3.5)
        );
        assert!(convert(&json!("12,34"), FieldType::Number).is_err());
        assert!(
            convert(&json!("abc"), FieldType::Number)
                .unwrap_err()
                .contains("not a number")
        );
        assert_eq!(convert(&json!(""), FieldType::Number).unwrap(), Value::Null);
        assert_eq!(
            convert(&json!("2026/08/01"), FieldType::Date).unwrap(),
            json!("2026-08-01")
        );
        assert_eq!(
            convert(&json!("2026-08-01T23:30:00-02:00"), FieldType::Date).unwrap(),
            json!("2026-08-02")
        );
        assert_eq!(
            convert(&json!("2026-08-01 04:02:36"), FieldType::Timestamp).unwrap(),
            json!("2026-08-01T04:02:36Z")
        );
        assert_eq!(
            convert(&json!("2026-08-01T04:02:36+00:00"), FieldType::Timestamp).unwrap(),
            json!("2026-08-01T04:02:36Z")
        );
        assert_eq!(convert(&json!(2), FieldType::Text).unwrap(), json!("2"));
        assert!(convert(&json!(true), FieldType::Date).is_err());
    }

    #[test]
    fn records_are_keyed_by_the_entity_key() {
        let entity = canonical::entity("cloud_cost").unwrap();
        let mapping = |source: &str, field: &str| FieldMapping {
            source_field: source.into(),
            field: entity.field(field).unwrap(),
        };
        let row = json!({"date": "2026-08-01", "resource": "api", "unblended_cost": "10.5", "team_tag": "x"});
        let row = row.as_object().unwrap();
        let mappings = vec![
            mapping("date", "usage_date"),
            mapping("resource", "resource_id"),
            mapping("unblended_cost", "cost_usd"),
        ];
        let record = record(entity, &mappings, row).unwrap();
        assert_eq!(record.key, "2026-08-01|api");
        assert_eq!(
            record.data,
            json!({"usage_date": "2026-08-01", "resource_id": "api", "cost_usd": 10.5})
        );
        let partial = super::record(entity, &mappings[2..], row).unwrap();
        assert!(partial.key.starts_with("row:"));
        let missing_key = json!({"date": "", "resource": "api", "unblended_cost": "1"});
        let err = super::record(entity, &mappings, missing_key.as_object().unwrap()).unwrap_err();
        assert!(err.contains("usage_date"));
    }
}
