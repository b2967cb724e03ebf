//! Reads a folder of CSV and JSON files (or one file): each becomes an asset
//! with inferred columns and types, a row count, and PII by column names and
//! sampled values. A ragged row, a line of invalid UTF-8 or a broken JSON line
//! is counted and reported with the file; it never ends the scan.

use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::file_profile::{FileProfile, Format, ValueType};
use super::{DiscoveryError, Scan};

const MAX_FILES: usize = 1000;
const MAX_DEPTH: usize = 4;
const MAX_JSON_BYTES: u64 = 64 * 1024 * 1024;
/// A file with more unreadable rows than this is given up on.
const MAX_UNREADABLE: u64 = 100;

/// The CSV/JSON files under `root` (or `root` itself), in path order. Hidden
/// files and symbolic links are skipped, so a scan stays inside the folder.
pub(crate) fn list(root: &Path) -> Result<Vec<PathBuf>, DiscoveryError> {
    if root.is_file() {
        return Ok(Format::of(root)
            .map(|_| root.to_path_buf())
            .into_iter()
            .collect());
    }
    let mut found = Vec::new();
    walk(root, 0, &mut found)
        .map_err(|e| DiscoveryError::Source(format!("cannot read {}: {e}", root.display())))?;
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if hidden || kind.is_symlink() || found.len() >= MAX_FILES {
            continue;
        }
        let path = entry.path();
        if kind.is_dir() && depth + 1 < MAX_DEPTH {
            // A subfolder that cannot be read is skipped, not fatal.
            walk(&path, depth + 1, found).ok();
        } else if kind.is_file() && Format::of(&path).is_some() {
            found.push(path);
        }
    }
    Ok(())
}

/// Scans every file [`list`] finds.
pub(crate) fn scan(root: &Path) -> Result<Scan, DiscoveryError> {
    let files = list(root)?;
    let base = if root.is_file() {
        root.parent().unwrap_or(root)
    } else {
        root
    };
    let mut scan = Scan {
        assets: Vec::new(),
        warnings: Vec::new(),
    };
    for path in files {
        let relative = path
            .strip_prefix(base)
            .unwrap_or(&path)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        match profile_file(&path) {
            Ok(profile) => {
                if let Some(problems) = profile.issues.describe() {
                    scan.warnings.push(format!("{relative}: {problems}"));
                }
                scan.assets.push(profile.into_asset(&path, relative));
            }
            Err(reason) => scan
                .warnings
                .push(format!("{relative}: skipped ({reason})")),
        }
    }
    Ok(scan)
}

fn profile_file(path: &Path) -> Result<FileProfile, String> {
    match Format::of(path) {
        Some(format @ (Format::Csv | Format::Tsv)) => read_csv(path, format),
        Some(format) => read_json(path, format),
        None => Err("not a CSV or JSON file".into()),
    }
}

fn read_csv(path: &Path, format: Format) -> Result<FileProfile, String> {
    let mut reader = BufReader::new(File::open(path).map_err(|e| e.to_string())?);
    let delimiter = match format {
        Format::Tsv => b'\t',
        _ => sniff_delimiter(reader.fill_buf().map_err(|e| e.to_string())?),
    };
    let mut csv = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(reader);
    let mut profile = FileProfile::new(format);
    let mut record = csv::ByteRecord::new();
    if !csv
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?
    {
        return Ok(profile);
    }
    let headers: Vec<String> = record
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h);
            let h = h.trim().trim_start_matches('\u{feff}');
            if h.is_empty() {
                format!("column_{}", i + 1)
            } else {
                h.to_owned()
            }
        })
        .collect();
    for header in &headers {
        profile.column(header);
    }
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                profile.rows += 1;
                let line = record.position().map_or(0, csv::Position::line);
                if record.len() != headers.len() {
                    profile.issues.ragged_rows += 1;
                    let example = format!(
                        "line {line}: {} fields, expected {}",
                        record.len(),
                        headers.len()
                    );
                    profile.issues.note(example);
                }
                let mut invalid = false;
                for (i, field) in record.iter().enumerate().take(headers.len()) {
                    let value = std::str::from_utf8(field).map_or_else(
                        |_| {
                            invalid = true;
                            String::from_utf8_lossy(field).into_owned()
                        },
                        str::to_owned,
                    );
                    profile.columns[i].add(value.trim(), None);
                }
                if invalid {
                    profile.issues.invalid_utf8_rows += 1;
                    profile.issues.note(format!("line {line}: invalid UTF-8"));
                }
            }
            Err(err) => {
                profile.issues.unreadable_rows += 1;
                profile.issues.note(err.to_string());
                if profile.issues.unreadable_rows > MAX_UNREADABLE {
                    break;
                }
            }
        }
    }
    Ok(profile)
}

/// The most frequent of `,`, `;`, tab and `|` in the first line (`,` if none).
fn sniff_delimiter(head: &[u8]) -> u8 {
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    [b',', b';', b'\t', b'|']
        .into_iter()
        .map(|d| (first_line.iter().filter(|&&b| b == d).count(), d))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, d)| (*n, *d == b','))
        .map_or(b',', |(_, d)| d)
}

fn read_json(path: &Path, format: Format) -> Result<FileProfile, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_JSON_BYTES {
        return Err(format!("larger than {} MB", MAX_JSON_BYTES / (1024 * 1024)));
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let mut profile = FileProfile::new(format);
    if format == Format::Json {
        let text = String::from_utf8_lossy(&bytes);
        match serde_json::from_str::<Value>(&text) {
            Ok(document) => {
                let replaced = matches!(text, std::borrow::Cow::Owned(_));
                for record in records_of(document)? {
                    add_record(&mut profile, record, replaced);
                }
                return Ok(profile);
            }
            // Many `.json` files are JSON Lines; read them so if they look it.
            Err(err) if !text.trim_start().starts_with('{') || text.trim().lines().count() < 2 => {
                return Err(format!("not valid JSON: {err}"));
            }
            Err(_) => {}
        }
    }
    for (n, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(record) => add_record(
                &mut profile,
                record,
                matches!(text, std::borrow::Cow::Owned(_)),
            ),
            Err(err) => {
                profile.issues.unreadable_rows += 1;
                profile
                    .issues
                    .note(format!("line {}: not valid JSON ({err})", n + 1));
                if profile.issues.unreadable_rows > MAX_UNREADABLE {
                    break;
                }
            }
        }
    }
    Ok(profile)
}

/// The rows of a JSON document: an array of objects, an object wrapping one
/// (`{"data": [...]}`), or a single object.
fn records_of(document: Value) -> Result<Vec<Value>, String> {
    match document {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => {
            let wrapped = map
                .iter()
                .find(|(_, v)| matches!(v, Value::Array(items) if items.first().is_some_and(Value::is_object)))
                .map(|(k, _)| k.clone());
            match wrapped.and_then(|k| map.remove(&k)) {
                Some(Value::Array(items)) => Ok(items),
                _ => Ok(vec![Value::Object(map)]),
            }
        }
        other => Err(format!("a JSON {} is not a table", json_type_name(&other))),
    }
}

fn add_record(profile: &mut FileProfile, record: Value, replaced: bool) {
    let Value::Object(map) = record else {
        profile.issues.unreadable_rows += 1;
        profile.issues.note(format!(
            "a JSON {} where a row was expected",
            json_type_name(&record)
        ));
        return;
    };
    profile.rows += 1;
    let mut fields = Vec::new();
    flatten("", &map, 0, &mut fields);
    let mut invalid = false;
    for (name, value) in fields {
        let (text, value_type) = match value {
            Value::Null => continue,
            Value::Bool(b) => (b.to_string(), Some(ValueType::Boolean)),
            Value::Number(n) if n.is_i64() || n.is_u64() => {
                (n.to_string(), Some(ValueType::Integer))
            }
            Value::Number(n) => (n.to_string(), Some(ValueType::Number)),
            Value::String(s) => (s.trim().to_owned(), None),
            Value::Array(_) => (value.to_string(), Some(ValueType::Array)),
            Value::Object(_) => (value.to_string(), Some(ValueType::Object)),
        };
        invalid |= replaced && text.contains('\u{fffd}');
        profile.column(&name).add(&text, value_type);
    }
    if invalid {
        profile.issues.invalid_utf8_rows += 1;
        profile
            .issues
            .note(format!("row {}: invalid UTF-8", profile.rows));
    }
}

/// Nested objects become dotted columns (`customer.email`), three levels deep.
fn flatten<'a>(
    prefix: &str,
    map: &'a Map<String, Value>,
    depth: usize,
    out: &mut Vec<(String, &'a Value)>,
) {
    for (key, value) in map {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if depth < 2 => flatten(&name, inner, depth + 1, out),
            _ => out.push((name, value)),
        }
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters_are_sniffed_from_the_header() {
        assert_eq!(sniff_delimiter(b"a,b,c\n1;2"), b',');
        assert_eq!(sniff_delimiter(b"a;b;c\n"), b';');
        assert_eq!(sniff_delimiter(b"a\tb\n"), b'\t');
        assert_eq!(sniff_delimiter(b"single\n"), b',');
    }

    #[test]
    fn json_documents_give_rows() {
        let wrapped = serde_json::json!({"meta": 1, "data": [{"a": 1}, {"a": 2}]});
        assert_eq!(records_of(wrapped).map(|r| r.len()), Ok(2));
        assert_eq!(
            records_of(serde_json::json!({"a": 1})).map(|r| r.len()),
            Ok(1)
        );
        assert!(records_of(serde_json::json!(3)).is_err());
    }
}
