//! Reading the catalog: search by words and filters, one asset by id or name,
//! and the unsanctioned applications.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::asset::{ASSET_COLUMNS, Asset, AssetRow, AssetSummary};
use super::shadow_it::AppUsage;
use super::{AssetKind, Sensitivity};

/// What to look for in the catalog.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    /// Words matched against names, qualified names, tags, PII kinds, column names and sources.
    pub text: Option<String>,
    pub kind: Option<AssetKind>,
    pub sensitivity: Option<Sensitivity>,
    /// Only assets holding PII.
    pub pii_only: bool,
    pub sanctioned: Option<bool>,
    pub limit: i64,
}

#[derive(sqlx::FromRow)]
struct ScoredRow {
    #[sqlx(flatten)]
    asset: AssetRow,
    total: i64,
}

/// Assets matching `query`, most relevant (then most recently updated) first,
/// and how many match in all.
pub async fn search_assets(
    conn: &mut PgConnection,
    query: &AssetQuery,
) -> Result<(Vec<AssetSummary>, i64), sqlx::Error> {
    let terms = search_terms(query.text.as_deref().unwrap_or_default());
    let patterns: Vec<String> = terms.iter().map(|t| like_pattern(t)).collect();
    let rows: Vec<ScoredRow> = sqlx::query_as(
        "select *, count(*) over () as total from (
             select a.*, (
                 select coalesce(sum(case
                     when lower(a.name) = q.term or lower(a.qualified_name) = q.term then 10
                     when a.name ilike q.pattern then 6
                     when a.qualified_name ilike q.pattern then 5
                     when q.term = any(a.tags) or q.term = any(a.pii_kinds) then 4
                     when exists (select 1 from jsonb_array_elements(a.columns) c
                                  where c->>'name' ilike q.pattern) then 3
                     when a.source ilike q.pattern or coalesce(a.owner, '') ilike q.pattern then 1
                     else 0 end), 0)
                 from unnest($1::text[], $2::text[]) as q (term, pattern)
             ) as score
             from assets a
             where ($3::text is null or a.kind = $3)
               and ($4::text is null or a.sensitivity = $4)
               and (not $5 or cardinality(a.pii_kinds) > 0)
               and ($6::boolean is null or a.sanctioned = $6)
         ) s
         where cardinality($1::text[]) = 0 or score > 0
         order by score desc, updated_at desc, qualified_name
         limit $7",
    )
    .bind(&terms)
    .bind(&patterns)
    .bind(query.kind.map(AssetKind::as_str))
    .bind(query.sensitivity.map(Sensitivity::as_str))
    .bind(query.pii_only)
    .bind(query.sanctioned)
    .bind(query.limit)
    .fetch_all(conn)
    .await?;
    let total = rows.first().map_or(0, |r| r.total);
    let assets = rows
        .into_iter()
        .map(|r| AssetSummary::from(&Asset::from(r.asset)))
        .collect();
    Ok((assets, total))
}

/// Words worth matching in a question ("which tables hold card numbers?"),
/// with the catalog's own words added for common synonyms.
fn search_terms(text: &str) -> Vec<String> {
    const STOP: &[&str] = &[
        "a",
        "about",
        "all",
        "an",
        "and",
        "any",
        "are",
        "asset",
        "assets",
        "at",
        "by",
        "column",
        "columns",
        "contain",
        "containing",
        "contains",
        "data",
        "do",
        "does",
        "file",
        "files",
        "find",
        "for",
        "from",
        "has",
        "have",
        "hold",
        "holding",
        "holds",
        "how",
        "in",
        "is",
        "it",
        "list",
        "me",
        "of",
        "on",
        "or",
        "our",
        "show",
        "table",
        "tables",
        "that",
        "the",
        "there",
        "to",
        "we",
        "what",
        "where",
        "which",
        "who",
        "with",
    ];
    let mut terms: Vec<String> = Vec::new();
    for raw in text.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'')) {
        let word = raw
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '_')
            .to_lowercase();
        if word.chars().count() < 2 || STOP.contains(&word.as_str()) {
            continue;
        }
        let synonym = match word.as_str() {
            "ssn" | "ssns" | "social" => Some("national_id"),
            "card" | "cards" | "credit" => Some("card_number"),
            "phones" | "telephone" | "mobile" => Some("phone"),
            "emails" | "mail" => Some("email"),
            "password" | "passwords" | "keys" | "tokens" | "credentials" | "secrets" => {
                Some("secret")
            }
            "personal" | "sensitive" => Some("pii"),
            "unsanctioned" | "unapproved" | "shadow" => Some("shadow_it"),
            "app" | "apps" | "applications" | "saas" => Some("application"),
            _ => None,
        };
        let plural = word.len() > 3 && word.ends_with('s') && !word.ends_with("ss");
        if plural && !word.contains(['.', '_']) {
            terms.push(word[..word.len() - 1].to_owned());
        }
        terms.extend(synonym.map(str::to_owned));
        terms.push(word);
    }
    terms.sort();
    terms.dedup();
    terms.truncate(16);
    terms
}

/// `%word%` for `ilike`, with the word's own `%`, `_` and `\` taken literally.
fn like_pattern(word: &str) -> String {
    let escaped = word
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn get_asset(conn: &mut PgConnection, id: Uuid) -> Result<Option<Asset>, sqlx::Error> {
    let sql = format!("select {ASSET_COLUMNS} from assets where id = $1");
    let row: Option<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(Asset::from))
}

/// Assets whose qualified name (or else name) is `name`, case-insensitively,
/// optionally from one source; exact qualified names first, newest first.
pub async fn find_assets_by_name(
    conn: &mut PgConnection,
    name: &str,
    source: Option<&str>,
) -> Result<Vec<Asset>, sqlx::Error> {
    let sql = format!(
        "select {ASSET_COLUMNS} from assets
         where (lower(qualified_name) = lower($1) or lower(name) = lower($1))
           and ($2::text is null or lower(source) = lower($2))
         order by (lower(qualified_name) = lower($1)) desc, updated_at desc
         limit 20"
    );
    let rows: Vec<AssetRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(source)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(Asset::from).collect())
}

/// An application not on the approved list, with its usage.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowApp {
    pub id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub usage: AppUsage,
}

/// Unsanctioned applications, most used first (users, then events, then
/// spend), and how many there are in all.
pub async fn list_shadow_it(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<(Vec<ShadowApp>, i64), sqlx::Error> {
    let rows: Vec<(Uuid, String, Value, i64)> = sqlx::query_as(
        "select id, name, details, count(*) over () from assets
         where kind = 'application' and not sanctioned
         order by coalesce((details->>'users')::bigint, 0) desc,
                  coalesce((details->>'events')::bigint, 0) desc,
                  coalesce((details->>'spend_usd')::numeric, 0) desc, name
         limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let total = rows.first().map_or(0, |r| r.3);
    let apps = rows
        .into_iter()
        .map(|(id, name, details, _)| ShadowApp {
            id,
            name,
            usage: serde_json::from_value(details).unwrap_or_default(),
        })
        .collect();
    Ok((apps, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_become_catalog_words() {
        assert_eq!(
            search_terms("Which tables hold card numbers?"),
            ["card", "card_number", "number", "numbers"]
        );
        assert_eq!(search_terms("crm.accounts"), ["crm.accounts"]);
        assert_eq!(search_terms("the of a"), Vec::<String>::new());
        assert_eq!(search_terms("SSN"), ["national_id", "ssn"]);
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("contact_email"), "%contact\\_email%");
        assert_eq!(like_pattern("100%"), "%100\\%%");
    }
}
