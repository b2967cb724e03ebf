//! Evidence beyond names: whether a source column's type fits a canonical
//! field's, and whether its sampled values look like what the field holds
//! (dates for a date, amounts for a cost, emails for an email…). Scores are
//! in [0, 1], each with a few words for the rationale.

use crate::canonical::{Field, FieldType};
use crate::connectors::{ColumnProfile, ColumnType};

/// Whether a source type fits a canonical type, and how to say so.
pub(crate) fn type_compatibility(source: ColumnType, target: FieldType) -> (f32, String) {
    use ColumnType as C;
    use FieldType as F;
    let (score, note) = match (source, target) {
        (C::Integer | C::Number, F::Number) => (1.0, "both numeric"),
        (C::Date, F::Date) => (1.0, "both dates"),
        (C::Timestamp, F::Timestamp) => (1.0, "both timestamps"),
        (C::Text, F::Text) => (1.0, "both text"),
        (C::Timestamp, F::Date) => (0.7, "timestamp kept as its date"),
        (C::Date, F::Timestamp) => (0.7, "date taken as midnight UTC"),
        (C::Integer, F::Text) => (0.6, "integer codes kept as text"),
        (C::Boolean, F::Text) => (0.4, "boolean kept as text"),
        (C::Number, F::Text) => (0.3, "number kept as text"),
        (C::Date | C::Timestamp, F::Text) => (0.3, "time kept as text"),
        (C::Text, F::Number) => (0.1, "text into a number field"),
        (C::Text, F::Date | F::Timestamp) => (0.1, "text into a time field"),
        _ => (0.0, "types do not fit"),
    };
    (score, note.to_owned())
}

/// Canonical fields whose values come from a short list.
const CATEGORICAL: &[&str] = &[
    "provider",
    "service",
    "team",
    "environment",
    "segment",
    "industry",
    "country",
    "stage",
    "status",
    "priority",
    "channel",
    "currency",
    "carrier",
    "vendor",
    "owner",
];

/// Whether the sampled values look like what the field holds, and how to say so.
pub(crate) fn value_profile(column: &ColumnProfile, field: &Field) -> (f32, String) {
    let samples: Vec<&str> = column
        .samples
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if samples.is_empty() {
        return (0.5, "no values to compare".into());
    }
    let share = |test: &dyn Fn(&str) -> bool| {
        samples.iter().filter(|s| test(s)).count() as f32 / samples.len() as f32
    };
    let as_number = |s: &str| {
        crate::connectors::convert_value(
            &serde_json::Value::String(s.to_owned()),
            FieldType::Number,
        )
        .ok()
        .and_then(|v| v.as_f64())
    };
    let name = field.name;
    match field.field_type {
        FieldType::Number => {
            let numeric = share(&|s| as_number(s).is_some());
            if numeric < 0.5 {
                return (
                    numeric * 0.5,
                    format!("only {:.0}% of values are numbers", numeric * 100.0),
                );
            }
            if name.ends_with("_pct") || name.contains("percent") || name.contains("utilization") {
                let pct = share(&|s| as_number(s).is_some_and(|n| (0.0..=100.0).contains(&n)));
                (
                    numeric.min(pct),
                    if pct > 0.9 {
                        "values look like percentages".into()
                    } else {
                        "values exceed 100".into()
                    },
                )
            } else if ["usd", "amount", "cost", "budget"]
                .iter()
                .any(|w| name.contains(w))
            {
                let amount = share(&|s| {
                    as_number(s).is_some_and(|n| n >= 0.0)
                        && s.split_once('.')
                            .is_none_or(|(_, decimals)| decimals.len() <= 2)
                });
                (
                    numeric.min(0.4 + 0.6 * amount),
                    if amount > 0.8 {
                        "values look like amounts".into()
                    } else {
                        "values are numbers".into()
                    },
                )
            } else {
                (numeric, "values parse as numbers".into())
            }
        }
        FieldType::Date | FieldType::Timestamp => {
            let dates = share(&|s| {
                crate::connectors::convert_value(
                    &serde_json::Value::String(s.to_owned()),
                    field.field_type,
                )
                .is_ok()
            });
            let kind = if field.field_type == FieldType::Date {
                "dates"
            } else {
                "timestamps"
            };
            if dates > 0.9 {
                (dates, format!("values parse as {kind}"))
            } else {
                (
                    dates * 0.8,
                    format!("{:.0}% of values parse as {kind}", dates * 100.0),
                )
            }
        }
        FieldType::Text => {
            let emails = share(&looks_like_email);
            if name.contains("email") {
                return (
                    emails,
                    if emails > 0.8 {
                        "values look like emails".into()
                    } else {
                        "values are not emails".into()
                    },
                );
            }
            if name == "currency" {
                let codes = share(&|s| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase()));
                return (
                    codes,
                    if codes > 0.8 {
                        "values look like currency codes".into()
                    } else {
                        "values are not currency codes".into()
                    },
                );
            }
            if emails > 0.8 && name != "owner" {
                return (0.3, "values are emails".into());
            }
            let numeric = share(&|s| as_number(s).is_some());
            if name.ends_with("_id") || name == "name" {
                let codes = share(&|s| !s.contains(char::is_whitespace) || name == "name");
                let distinct = column.distinct as f32 / column.non_empty.max(1) as f32;
                return if name.ends_with("_id") {
                    (
                        0.5 + 0.5 * codes,
                        if codes > 0.9 {
                            "values look like identifiers".into()
                        } else {
                            "values are free text".into()
                        },
                    )
                } else {
                    (
                        0.4 + 0.6 * (1.0 - numeric) * distinct.min(1.0),
                        "values are names".into(),
                    )
                };
            }
            if CATEGORICAL.contains(&name) {
                let few = column.distinct <= 30 && column.distinct * 2 <= column.non_empty.max(1);
                return if few {
                    (0.9, "values are a few categories".into())
                } else {
                    (0.5, "values are many distinct texts".into())
                };
            }
            if numeric > 0.9 {
                (0.5, "values are numbers".into())
            } else {
                (0.7, "values are text".into())
            }
        }
    }
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_values_are_judged() {
        let cost = crate::canonical::entity("cloud_cost").unwrap();
        let column = |name: &str, column_type, samples: &[&str]| ColumnProfile {
            name: name.into(),
            column_type,
            declared_type: None,
            samples: samples.iter().map(|s| (*s).into()).collect(),
            distinct: u32::try_from(samples.len()).unwrap(),
            non_empty: 100,
            sampled: 100,
        };
        let amounts = column("unblended_cost", ColumnType::Number, &["1692.65", "946.83"]);
        let teams = column("team_tag", ColumnType::Text, &["platform", "data"]);
        let usd = cost.field("cost_usd").unwrap();
        assert!(value_profile(&amounts, usd).0 > 0.9);
        assert!(value_profile(&teams, usd).0 < 0.1);
        assert!(value_profile(&teams, cost.field("team").unwrap()).0 > 0.8);
        assert_eq!(
            type_compatibility(ColumnType::Integer, FieldType::Number).0,
            1.0
        );
        assert_eq!(
            type_compatibility(ColumnType::Boolean, FieldType::Date).0,
            0.0
        );
    }
}
