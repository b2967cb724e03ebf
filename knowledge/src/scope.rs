//! Persona scopes of a document: which executives' retrieval may see it.
//! Stored as a bit mask so filters run inside both index scans.

use serde::{Deserialize, Serialize};

/// The personas a document is for; empty names mean every persona.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope(u8);

const NAMES: [(&str, u8); 4] = [("cto", 1), ("cro", 2), ("coo", 4), ("cfo", 8)];

impl Scope {
    pub const ALL: Scope = Scope(15);

    /// Parses persona names (`cto`, `cro`, `coo`, `cfo`, or `all`).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Scope, String> {
        let mut mask = 0u8;
        for name in names {
            let name = name.as_ref();
            if name == "all" {
                return Ok(Scope::ALL);
            }
            let bit = NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, b)| *b)
                .ok_or_else(|| {
                    format!("unknown persona `{name}` (expected cto, cro, coo, cfo or all)")
                })?;
            mask |= bit;
        }
        Ok(if mask == 0 { Scope::ALL } else { Scope(mask) })
    }

    pub fn mask(self) -> i16 {
        i16::from(self.0)
    }

    /// The persona names in the scope; empty when it is every persona.
    pub fn names(self) -> Vec<String> {
        if self == Scope::ALL {
            return Vec::new();
        }
        NAMES
            .iter()
            .filter(|(_, b)| self.0 & b != 0)
            .map(|(n, _)| (*n).to_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_mask() {
        let scope = Scope::from_names(&["cfo", "cto"]).expect("valid");
        assert_eq!(scope.mask(), 9);
        assert_eq!(scope.names(), vec!["cto", "cfo"]);
        assert_eq!(Scope::from_names::<&str>(&[]), Ok(Scope::ALL));
        assert_eq!(Scope::from_names(&["all", "cfo"]), Ok(Scope::ALL));
        assert!(Scope::from_names(&["ceo"]).is_err());
        assert!(Scope::ALL.names().is_empty());
    }
}
