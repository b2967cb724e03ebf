//! Schema drift: what changed between two observations of a source entity.
//! A column that disappeared while another appeared is judged a rename when
//! their values overlap and their types agree (names help break ties).

use serde::{Deserialize, Serialize};
use std::collections::HashSet;

use super::fingerprint::{ColumnProfile, ColumnType};
use crate::mapping::name_similarity;

/// The least rename score (value overlap, then name) that counts as a rename.
const RENAME_THRESHOLD: f32 = 0.5;

/// One difference between the previous and the current shape of an entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    Added {
        field: String,
        #[serde(rename = "type")]
        field_type: ColumnType,
    },
    Removed {
        field: String,
        #[serde(rename = "type")]
        field_type: ColumnType,
    },
    Renamed {
        from: String,
        to: String,
        #[serde(rename = "type")]
        field_type: ColumnType,
        /// Share of sampled values the two columns have in common.
        value_overlap: f32,
    },
    Retyped {
        field: String,
        from: ColumnType,
        to: ColumnType,
    },
}

impl Change {
    /// A few words for people: "renamed assigned_team → owning_team".
    pub fn describe(&self) -> String {
        match self {
            Change::Added { field, field_type } => format!("added {field} ({field_type})"),
            Change::Removed { field, .. } => format!("removed {field}"),
            Change::Renamed { from, to, .. } => format!("renamed {from} → {to}"),
            Change::Retyped { field, from, to } => format!("retyped {field} {from} → {to}"),
        }
    }

    /// The current field this change asks a mapping decision about, if any.
    pub fn affected_field(&self) -> Option<&str> {
        match self {
            Change::Added { field, .. } | Change::Retyped { field, .. } => Some(field),
            Change::Renamed { to, .. } => Some(to),
            Change::Removed { .. } => None,
        }
    }
}

/// All changes, comma separated, for a status line.
pub fn describe_all(changes: &[Change]) -> String {
    changes
        .iter()
        .map(Change::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The changes that turn `old` into `new`.
pub fn diff(old: &[ColumnProfile], new: &[ColumnProfile]) -> Vec<Change> {
    let old_names: HashSet<&str> = old.iter().map(|c| c.name.as_str()).collect();
    let new_names: HashSet<&str> = new.iter().map(|c| c.name.as_str()).collect();
    let mut changes = Vec::new();
    for column in new {
        if let Some(before) = old.iter().find(|c| c.name == column.name)
            && before.column_type != column.column_type
        {
            changes.push(Change::Retyped {
                field: column.name.clone(),
                from: before.column_type,
                to: column.column_type,
            });
        }
    }
    let removed: Vec<&ColumnProfile> = old
        .iter()
        .filter(|c| !new_names.contains(c.name.as_str()))
        .collect();
    let added: Vec<&ColumnProfile> = new
        .iter()
        .filter(|c| !old_names.contains(c.name.as_str()))
        .collect();

    // Score every (removed, added) pair, then take the best pairs greedily.
    let mut pairs: Vec<(f32, f32, usize, usize)> = Vec::new();
    for (r, gone) in removed.iter().enumerate() {
        for (a, came) in added.iter().enumerate() {
            if !types_agree(gone.column_type, came.column_type) {
                continue;
            }
            let overlap = value_overlap(&gone.samples, &came.samples);
            if overlap < 0.3 {
                continue;
            }
            let score = 0.75 * overlap + 0.25 * name_similarity(&gone.name, &came.name);
            if score >= RENAME_THRESHOLD {
                pairs.push((score, overlap, r, a));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0));
    let mut renamed_from = vec![false; removed.len()];
    let mut renamed_to = vec![false; added.len()];
    for (_, overlap, r, a) in pairs {
        if renamed_from[r] || renamed_to[a] {
            continue;
        }
        renamed_from[r] = true;
        renamed_to[a] = true;
        changes.push(Change::Renamed {
            from: removed[r].name.clone(),
            to: added[a].name.clone(),
            field_type: added[a].column_type,
            value_overlap: (overlap * 100.0).round() / 100.0,
        });
    }
    for (a, came) in added.iter().enumerate() {
        if !renamed_to[a] {
            changes.push(Change::Added {
                field: came.name.clone(),
                field_type: came.column_type,
            });
        }
    }
    for (r, gone) in removed.iter().enumerate() {
        if !renamed_from[r] {
            changes.push(Change::Removed {
                field: gone.name.clone(),
                field_type: gone.column_type,
            });
        }
    }
    changes
}

fn types_agree(a: ColumnType, b: ColumnType) -> bool {
    a == b
        || (a.is_numeric() && b.is_numeric())
        || matches!(
            (a, b),
            (ColumnType::Date, ColumnType::Timestamp) | (ColumnType::Timestamp, ColumnType::Date)
        )
}

/// How much of the smaller sample the larger one contains, in [0, 1].
fn value_overlap(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let left: HashSet<&str> = a.iter().map(String::as_str).collect();
    let right: HashSet<&str> = b.iter().map(String::as_str).collect();
    let common = left.intersection(&right).count();
    common as f32 / left.len().min(right.len()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, column_type: ColumnType, samples: &[&str]) -> ColumnProfile {
        ColumnProfile {
            name: name.into(),
            column_type,
            declared_type: None,
            samples: samples.iter().map(|s| (*s).into()).collect(),
            distinct: u32::try_from(samples.len()).unwrap(),
            non_empty: 3,
            sampled: 3,
        }
    }

    #[test]
    fn renames_retypes_additions_and_removals_are_told_apart() {
        use ColumnType::*;
        let old = vec![
            col("ticket_id", Text, &["T-1", "T-2"]),
            col("priority", Integer, &["1", "2"]),
            col(
                "assigned_team",
                Text,
                &["Platform", "Billing", "Onboarding"],
            ),
            col("legacy_flag", Boolean, &["true"]),
        ];
        let new = vec![
            col("ticket_id", Text, &["T-1", "T-2"]),
            col("priority", Text, &["P1", "P2"]),
            col(
                "owning_team",
                Text,
                &["Billing", "Platform", "Integrations"],
            ),
            col("channel", Text, &["email", "chat"]),
        ];
        let changes = diff(&old, &new);
        assert!(changes.contains(&Change::Retyped {
            field: "priority".into(),
            from: Integer,
            to: Text
        }));
        assert!(changes.iter().any(|c| matches!(c,
            Change::Renamed { from, to, .. } if from == "assigned_team" && to == "owning_team")));
        assert!(changes.contains(&Change::Added {
            field: "channel".into(),
            field_type: Text
        }));
        assert!(changes.contains(&Change::Removed {
            field: "legacy_flag".into(),
            field_type: Boolean
        }));
        assert_eq!(changes.len(), 4);
        assert!(describe_all(&changes).contains("renamed assigned_team → owning_team"));
    }

    #[test]
    fn unrelated_columns_are_not_renames() {
        use ColumnType::*;
        let old = vec![col("region", Text, &["eu", "us"])];
        let new = vec![col("channel", Text, &["email", "chat"])];
        let changes = diff(&old, &new);
        assert!(changes.iter().all(|c| !matches!(c, Change::Renamed { .. })));
        assert_eq!(changes.len(), 2);
    }
}
