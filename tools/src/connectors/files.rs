//! The file source: a folder of CSV (with a header row), JSON (an array of
//! objects) and JSON-lines files, one entity per file. A bad row (ragged, not
//! UTF-8, not an object) is reported with its number; the rest are read.
//! Everything here blocks: callers run it on the blocking pool.

use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::SourceError;
use super::fingerprint::DeclaredColumn;

/// File extensions read, and how.
const CSV: &[&str] = &["csv"];
const JSON: &[&str] = &["json"];
const JSON_LINES: &[&str] = &["jsonl", "ndjson"];
/// The largest JSON-array file read (it is parsed whole).
const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// One source row: its number (1-based, header not counted) and its values,
/// or why it could not be read.
#[derive(Debug, Clone)]
pub(crate) struct SourceRow {
    pub number: u64,
    pub data: Result<Map<String, Value>, String>,
}

/// The files a folder offers, by file name.
pub(crate) fn entities(dir: &Path) -> Result<Vec<String>, SourceError> {
    let listing = std::fs::read_dir(dir)
        .map_err(|e| SourceError(format!("cannot list `{}`: {e}", dir.display())))?;
    let mut names: Vec<String> = listing
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.') && format_of(name).is_some())
        .collect();
    names.sort();
    Ok(names)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
    JsonLines,
}

fn format_of(name: &str) -> Option<Format> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    if CSV.contains(&ext.as_str()) {
        Some(Format::Csv)
    } else if JSON.contains(&ext.as_str()) {
        Some(Format::Json)
    } else if JSON_LINES.contains(&ext.as_str()) {
        Some(Format::JsonLines)
    } else {
        None
    }
}

/// The path of entity `name` in `dir`; refuses anything but a plain file name.
fn entity_path(dir: &Path, name: &str) -> Result<(PathBuf, Format), SourceError> {
    let format = format_of(name)
        .filter(|_| !name.contains(['/', '\\']) && !name.starts_with('.'))
        .ok_or_else(|| SourceError(format!("`{name}` is not a CSV or JSON file name")))?;
    let path = dir.join(name);
    // Not through a symbolic link: it could lead outside the allowed folders.
    if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
        return Err(SourceError(format!(
            "`{name}` is not in `{}`",
            dir.display()
        )));
    }
    Ok((path, format))
}

/// Reads the rows of one file, a batch at a time.
pub(crate) enum FileRows {
    Csv(CsvRows),
    JsonArray(std::vec::IntoIter<SourceRow>),
    JsonLines(JsonLines),
}

impl FileRows {
    pub(crate) fn open(dir: &Path, name: &str) -> Result<FileRows, SourceError> {
        let (path, format) = entity_path(dir, name)?;
        let file =
            File::open(&path).map_err(|e| SourceError(format!("cannot open `{name}`: {e}")))?;
        match format {
            Format::Csv => Ok(FileRows::Csv(CsvRows::new(file, name)?)),
            Format::Json => Ok(FileRows::JsonArray(
                read_json_array(file, name)?.into_iter(),
            )),
            Format::JsonLines => Ok(FileRows::JsonLines(JsonLines {
                reader: BufReader::new(file),
                line: 0,
            })),
        }
    }

    /// The columns the file declares (a CSV header); none for JSON.
    pub(crate) fn declared(&self) -> Vec<DeclaredColumn> {
        match self {
            FileRows::Csv(csv) => csv
                .header
                .iter()
                .map(|name| DeclaredColumn {
                    name: name.clone(),
                    declared_type: None,
                })
                .collect(),
            FileRows::JsonArray(_) | FileRows::JsonLines(_) => Vec::new(),
        }
    }

    /// Up to `max` rows; an empty batch means the end of the file.
    pub(crate) fn next_batch(&mut self, max: usize) -> Result<Vec<SourceRow>, SourceError> {
        match self {
            FileRows::Csv(csv) => csv.next_batch(max),
            FileRows::JsonArray(rows) => Ok(rows.by_ref().take(max).collect()),
            FileRows::JsonLines(lines) => lines.next_batch(max),
        }
    }
}

pub(crate) struct CsvRows {
    reader: csv::Reader<File>,
    header: Vec<String>,
    name: String,
    rows: u64,
}

impl CsvRows {
    fn new(file: File, name: &str) -> Result<CsvRows, SourceError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file);
        let mut record = csv::ByteRecord::new();
        let has_header = reader
            .read_byte_record(&mut record)
            .map_err(|e| SourceError(format!("`{name}`: {e}")))?;
        if !has_header || record.iter().all(|f| f.is_empty()) {
            return Err(SourceError(format!("`{name}` has no header row")));
        }
        let header = header_names(&record);
        Ok(CsvRows {
            reader,
            header,
            name: name.to_owned(),
            rows: 0,
        })
    }

    fn next_batch(&mut self, max: usize) -> Result<Vec<SourceRow>, SourceError> {
        let mut batch = Vec::new();
        let mut record = csv::ByteRecord::new();
        while batch.len() < max {
            match self.reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(SourceError(format!("`{}`: {e}", self.name)));
                }
            }
            // A blank line is no row.
            if record.len() == 1 && record.get(0).is_some_and(<[u8]>::is_empty) {
                continue;
            }
            self.rows += 1;
            let line = record.position().map_or(0, csv::Position::line);
            batch.push(SourceRow {
                number: self.rows,
                data: self.row_values(&record, line),
            });
        }
        Ok(batch)
    }

    fn row_values(
        &self,
        record: &csv::ByteRecord,
        line: u64,
    ) -> Result<Map<String, Value>, String> {
        if record.len() != self.header.len() {
            return Err(format!(
                "line {line}: expected {} fields, found {}",
                self.header.len(),
                record.len()
            ));
        }
        let mut values = Map::new();
        for (name, raw) in self.header.iter().zip(record.iter()) {
            let text = std::str::from_utf8(raw)
                .map_err(|_| format!("line {line}: `{name}` is not valid UTF-8"))?;
            values.insert(name.clone(), Value::String(text.to_owned()));
        }
        Ok(values)
    }
}

/// Column names from a header row: trimmed, a byte-order mark dropped, blanks
/// and repeats given a name of their own.
fn header_names(record: &csv::ByteRecord) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (i, raw) in record.iter().enumerate() {
        let text = String::from_utf8_lossy(raw);
        let mut name = text.trim_start_matches('\u{feff}').trim().to_owned();
        if name.is_empty() {
            name = format!("column_{}", i + 1);
        }
        let mut unique = name.clone();
        let mut n = 2;
        while names.contains(&unique) {
            unique = format!("{name}_{n}");
            n += 1;
        }
        names.push(unique);
    }
    names
}

fn read_json_array(file: File, name: &str) -> Result<Vec<SourceRow>, SourceError> {
    let mut bytes = Vec::new();
    file.take(MAX_JSON_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| SourceError(format!("cannot read `{name}`: {e}")))?;
    if bytes.len() as u64 > MAX_JSON_BYTES {
        return Err(SourceError(format!(
            "`{name}` is larger than {} MiB; use JSON lines for large files",
            MAX_JSON_BYTES / 1024 / 1024
        )));
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first != Some(b'[') {
        // Not an array: read it as JSON lines.
        return Ok(json_lines(
            BufReader::new(bytes.as_slice()),
            &mut 0,
            usize::MAX,
        ));
    }
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| SourceError(format!("`{name}` is not valid JSON: {e}")))?;
    let Value::Array(items) = value else {
        return Err(SourceError(format!("`{name}` is not a JSON array")));
    };
    Ok(items
        .into_iter()
        .zip(1u64..)
        .map(|(item, number)| SourceRow {
            number,
            data: match item {
                Value::Object(map) => Ok(map),
                other => Err(format!(
                    "item {number} is {}, not an object",
                    kind_of(&other)
                )),
            },
        })
        .collect())
}

pub(crate) struct JsonLines {
    reader: BufReader<File>,
    line: u64,
}

impl JsonLines {
    fn next_batch(&mut self, max: usize) -> Result<Vec<SourceRow>, SourceError> {
        Ok(json_lines(&mut self.reader, &mut self.line, max))
    }
}

/// Up to `max` rows of JSON lines, one object per non-blank line; `line`
/// counts the lines read so far.
fn json_lines(mut reader: impl BufRead, line: &mut u64, max: usize) -> Vec<SourceRow> {
    let mut rows = Vec::new();
    let mut buf = Vec::new();
    while rows.len() < max {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                *line += 1;
                rows.push(SourceRow {
                    number: *line,
                    data: Err(format!("line {line}: cannot read: {e}")),
                });
                break;
            }
        }
        *line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let data = match serde_json::from_slice::<Value>(&buf) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(other) => Err(format!("line {line}: {} is not an object", kind_of(&other))),
            Err(e) => Err(format!("line {line}: not valid JSON: {e}")),
        };
        rows.push(SourceRow {
            number: *line,
            data,
        });
    }
    rows
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn folder() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("aos-files-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn csv_rows_with_problems_are_reported_and_the_rest_read() {
        let dir = folder();
        let mut file = File::create(dir.join("t.csv")).unwrap();
        file.write_all(b"\xef\xbb\xbfid,name\n1,alpha\n2\n3,g\xffmma\n\n4,delta\n")
            .unwrap();
        drop(file);
        let mut rows = FileRows::open(&dir, "t.csv").unwrap();
        let names: Vec<String> = rows.declared().into_iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["id", "name"]);
        let batch = rows.next_batch(100).unwrap();
        assert_eq!(batch.len(), 4);
        assert!(batch[0].data.is_ok());
        assert_eq!(
            batch[1].data.as_ref().unwrap_err(),
            "line 3: expected 2 fields, found 1"
        );
        assert_eq!(
            batch[2].data.as_ref().unwrap_err(),
            "line 4: `name` is not valid UTF-8"
        );
        assert_eq!(batch[3].number, 4);
        assert_eq!(batch[3].data.as_ref().unwrap()["name"], "delta");
        assert!(rows.next_batch(100).unwrap().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn json_arrays_and_lines_are_read() {
        let dir = folder();
        std::fs::write(dir.join("a.json"), r#"[{"x": 1}, 2, {"x": 3}]"#).unwrap();
        std::fs::write(dir.join("b.jsonl"), "{\"x\": 1}\nnot json\n\n{\"x\": 2}\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        assert_eq!(entities(&dir).unwrap(), vec!["a.json", "b.jsonl"]);
        let batch = FileRows::open(&dir, "a.json")
            .unwrap()
            .next_batch(10)
            .unwrap();
        assert_eq!(batch.len(), 3);
        assert!(
            batch[1]
                .data
                .as_ref()
                .unwrap_err()
                .contains("not an object")
        );
        let batch = FileRows::open(&dir, "b.jsonl")
            .unwrap()
            .next_batch(10)
            .unwrap();
        assert_eq!(batch.len(), 3);
        assert!(batch[1].data.as_ref().unwrap_err().starts_with("line 2"));
        assert_eq!(batch[2].number, 4);
        assert!(FileRows::open(&dir, "../a.json").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
