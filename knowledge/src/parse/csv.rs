//! CSV: the first row names the columns and every later row becomes one
//! table-row block, "header: value; header: value" (empty values skipped),
//! so a row can be retrieved on its own and still be understood. The
//! delimiter (`,` `;` or tab) is sniffed from the header line; ragged rows
//! are accepted.

use ::csv::{ReaderBuilder, Trim};

use super::{BlockKind, BlockList, ParseError, ParsedDocument, table_row_text};

const DELIMITERS: [u8; 3] = [b',', b';', b'\t'];

/// Parse decoded CSV text. A file with a header and no data rows has no blocks.
pub(super) fn parse(text: &str) -> Result<ParsedDocument, ParseError> {
    let mut reader = ReaderBuilder::new()
        .delimiter(sniff_delimiter(text))
        .has_headers(false)
        .flexible(true)
        .trim(Trim::All)
        .from_reader(text.as_bytes());

    let mut blocks = BlockList::default();
    let mut header: Option<Vec<String>> = None;
    for record in reader.records() {
        let record = record.map_err(|e| ParseError::Corrupt(format!("unreadable CSV: {e}")))?;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        match &header {
            None => header = Some(cells),
            Some(header) => blocks.push(BlockKind::TableRow, &table_row_text(header, &cells)),
        }
    }
    Ok(ParsedDocument {
        title: None,
        blocks: blocks.into_blocks(),
    })
}

/// The candidate delimiter that occurs most often, outside quotes, in the
/// first non-empty line; a comma when none occurs.
fn sniff_delimiter(text: &str) -> u8 {
    let Some(first_line) = text.lines().find(|line| !line.trim().is_empty()) else {
        return b',';
    };
    let mut counts = [0usize; DELIMITERS.len()];
    let mut in_quotes = false;
    for byte in first_line.bytes() {
        if byte == b'"' {
            in_quotes = !in_quotes;
        } else if !in_quotes && let Some(i) = DELIMITERS.iter().position(|d| *d == byte) {
            counts[i] += 1;
        }
    }
    let mut best = (b',', 0);
    for (delimiter, count) in DELIMITERS.into_iter().zip(counts) {
        if count > best.1 {
            best = (delimiter, count);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<String> {
        parse(text)
            .unwrap()
            .blocks
            .into_iter()
            .map(|block| block.text)
            .collect()
    }

    #[test]
    fn rows_are_named_by_the_header() {
        assert_eq!(
            rows("name,role,team\nAda,engineer,core\n\"Lovelace, A.\",,\"r&d\"\n"),
            vec![
                "name: Ada; role: engineer; team: core",
                "name: Lovelace, A.; team: r&d"
            ]
        );
    }

    #[test]
    fn semicolons_tabs_and_ragged_rows() {
        assert_eq!(rows("a;b\n1;2;3\n4\n"), vec!["a: 1; b: 2; 3", "a: 4"]);
        assert_eq!(rows("a\tb\n1\t2\n"), vec!["a: 1; b: 2"]);
    }

    #[test]
    fn header_only_has_no_rows() {
        assert!(parse("a,b,c\n").unwrap().blocks.is_empty());
        assert!(parse("a,b\n,\n").unwrap().blocks.is_empty());
    }
}
