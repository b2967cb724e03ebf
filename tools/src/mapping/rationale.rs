//! Why a proposal was made, in words: the drift that touched the column
//! (renamed, retyped) and the one-line rationale a reviewer reads.

use serde_json::json;

use super::score::Signals;
use crate::canonical::{Entity, Field};
use crate::connectors::ColumnProfile;

/// Where a column's data went before drift: its approved mapping, or else
/// the target its pending proposal named.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub entity: String,
    pub field: String,
    pub approved: bool,
}

impl Target {
    fn label(&self) -> String {
        format!("{}.{}", self.entity, self.field)
    }
}

/// What drift says about one column.
#[derive(Debug, Clone)]
pub(crate) enum Reason {
    /// A column with no mapping yet.
    Unmapped,
    /// Renamed from a column that went to `target`.
    Renamed {
        from: String,
        overlap: f32,
        target: Option<Target>,
    },
    /// Its type changed while it went to `target`.
    Retyped {
        from: String,
        to: String,
        target: Option<Target>,
    },
}

impl Reason {
    pub(crate) fn forced_target(&self) -> Option<&Target> {
        match self {
            Reason::Unmapped => None,
            Reason::Renamed { target, .. } | Reason::Retyped { target, .. } => target.as_ref(),
        }
    }
}

/// The drift part of a proposal's signals.
pub(crate) fn drift_signal(reason: &Reason) -> serde_json::Value {
    match reason {
        Reason::Unmapped => serde_json::Value::Null,
        Reason::Renamed {
            from,
            overlap,
            target,
        } => json!({
            "change": "renamed", "from": from, "value_overlap": overlap,
            "previous_mapping": target.as_ref().map(Target::label),
            "previous_mapping_approved": target.as_ref().map(|t| t.approved),
        }),
        Reason::Retyped { from, to, target } => json!({
            "change": "retyped", "from": from, "to": to,
            "previous_mapping": target.as_ref().map(Target::label),
            "previous_mapping_approved": target.as_ref().map(|t| t.approved),
        }),
    }
}

/// "`unblended_cost` → cloud_cost.cost_usd: names similar (0.71), both numeric, values look like amounts".
pub(crate) fn rationale(
    column: &ColumnProfile,
    entity: &Entity,
    field: &Field,
    signals: &Signals,
    reason: &Reason,
) -> String {
    let name = signals.name_score();
    let names = if name >= 0.85 {
        format!("names match ({name:.2})")
    } else if name >= 0.6 {
        format!("names similar ({name:.2})")
    } else if name >= 0.35 {
        format!("names related ({name:.2})")
    } else {
        format!("names differ ({name:.2})")
    };
    let drift = match reason {
        Reason::Unmapped => String::new(),
        Reason::Renamed {
            from,
            overlap,
            target: Some(target),
        } => format!(
            "renamed from `{from}` ({} {}), {:.0}% of values shared; ",
            if target.approved {
                "mapped to"
            } else {
                "proposed for"
            },
            target.label(),
            overlap * 100.0
        ),
        Reason::Renamed { from, .. } => format!("renamed from `{from}`; "),
        Reason::Retyped {
            from,
            to,
            target: Some(target),
        } if target.approved => {
            format!("retyped {from} → {to}, confirm the mapping still holds; ")
        }
        Reason::Retyped { from, to, .. } => format!("retyped {from} → {to}; "),
    };
    format!(
        "`{}` → {}.{}: {drift}{names}, {}, {}",
        column.name, entity.name, field.name, signals.type_note, signals.value_note
    )
}
