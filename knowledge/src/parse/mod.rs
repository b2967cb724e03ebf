//! Document parsers: turn the bytes of an uploaded file into plain-text
//! blocks (headings, paragraphs, list items, table rows, code) that the
//! chunker can split without caring which format the file came in.
//!
//! Every parser is total: any input, however broken, yields either a
//! [`ParsedDocument`] or a [`ParseError`] whose message can be shown to the
//! user who uploaded the file.

mod csv;
mod docx;
mod html;
mod markdown;
mod pdf;
mod pdf_guard;
mod text;
mod text_encoding;

use serde::Serialize;

/// A document format the parsers understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Markdown,
    Text,
    Html,
    Pdf,
    Docx,
    Csv,
}

impl Format {
    /// The format for a file extension (without the dot), case-insensitive.
    pub fn from_extension(ext: &str) -> Option<Format> {
        match ext.trim_start_matches('.').to_ascii_lowercase().as_str() {
            "md" | "markdown" => Some(Format::Markdown),
            "txt" | "text" => Some(Format::Text),
            "html" | "htm" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            "docx" => Some(Format::Docx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format for a MIME type; parameters such as `;charset=utf-8` are ignored.
    pub fn from_mime(mime: &str) -> Option<Format> {
        let essence = mime.split(';').next().unwrap_or_default().trim();
        match essence.to_ascii_lowercase().as_str() {
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            "text/plain" => Some(Format::Text),
            "text/html" => Some(Format::Html),
            "application/pdf" => Some(Format::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                Some(Format::Docx)
            }
            "text/csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The lowercase name of the format, as stored and shown ("markdown", "pdf", …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Text => "text",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
            Format::Csv => "csv",
        }
    }
}

/// What a block of text is, so chunking and display can respect structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockKind {
    /// A heading; level 1 is the most important.
    Heading {
        level: u8,
    },
    Paragraph,
    /// One item of a list (nested items are separate blocks).
    ListItem,
    /// One table row, rendered as "Header: value; Header: value".
    TableRow,
    /// Preformatted text; unlike other blocks its line breaks are kept.
    Code,
}

/// One unit of document text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    /// Plain text with whitespace collapsed (code keeps its lines).
    pub text: String,
}

/// The text of a document in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParsedDocument {
    /// The document's own title, if it declares one.
    pub title: Option<String>,
    /// Never empty: a document without text is [`ParseError::Empty`].
    pub blocks: Vec<Block>,
}

/// Why a file could not be turned into text. Messages are safe to show users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the document contains no text")]
    Empty,
    #[error("the file is not text in a supported encoding (UTF-8 or UTF-16)")]
    NotText,
    #[error("the file is damaged or not in the expected format: {0}")]
    Corrupt(String),
    #[error("the document uses a feature that is not supported: {0}")]
    Unsupported(String),
}

/// Parse `bytes` as a document of the given format.
pub fn parse(format: Format, bytes: &[u8]) -> Result<ParsedDocument, ParseError> {
    let document = match format {
        Format::Markdown => markdown::parse(&text_encoding::decode(bytes)?),
        Format::Text => text::parse(&text_encoding::decode(bytes)?),
        Format::Html => html::parse(&text_encoding::decode(bytes)?)?,
        Format::Csv => csv::parse(&text_encoding::decode(bytes)?)?,
        Format::Pdf => pdf::parse(bytes)?,
        Format::Docx => docx::parse(bytes)?,
    };
    if document.blocks.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(document)
}

/// Collapse every run of whitespace (and drop control characters) so block
/// text is a single clean line.
pub(crate) fn normalize_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space_pending = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space_pending = !out.is_empty();
        } else if !c.is_control() {
            if space_pending {
                out.push(' ');
                space_pending = false;
            }
            out.push(c);
        }
    }
    out
}

/// Render a table row as "Header: value; Header: value", skipping empty
/// cells; cells without a header name are listed by value alone.
pub(crate) fn table_row_text(headers: &[String], cells: &[String]) -> String {
    let mut parts = Vec::with_capacity(cells.len());
    for (index, cell) in cells.iter().enumerate() {
        if cell.is_empty() {
            continue;
        }
        match headers.get(index).filter(|header| !header.is_empty()) {
            Some(header) => parts.push(format!("{header}: {cell}")),
            None => parts.push(cell.clone()),
        }
    }
    parts.join("; ")
}

/// Collects blocks, dropping those whose text ends up empty.
#[derive(Debug, Default)]
pub(crate) struct BlockList {
    blocks: Vec<Block>,
}

impl BlockList {
    /// Push `text` (whitespace-normalised) as a block of `kind`, if non-empty.
    pub(crate) fn push(&mut self, kind: BlockKind, text: &str) {
        let text = normalize_whitespace(text);
        if !text.is_empty() {
            self.blocks.push(Block { kind, text });
        }
    }

    /// Push preformatted text as a code block, keeping its lines.
    pub(crate) fn push_code(&mut self, code: &str) {
        let lines: Vec<&str> = code.lines().map(str::trim_end).collect();
        let text = lines.join("\n");
        let text = text.trim_matches('\n');
        if !text.trim().is_empty() {
            self.blocks.push(Block {
                kind: BlockKind::Code,
                text: text.to_owned(),
            });
        }
    }

    /// The text of the first heading of level 1, if any.
    pub(crate) fn first_h1(&self) -> Option<String> {
        self.blocks
            .iter()
            .find(|block| block.kind == BlockKind::Heading { level: 1 })
            .map(|block| block.text.clone())
    }

    pub(crate) fn into_blocks(self) -> Vec<Block> {
        self.blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extension_and_mime() {
        assert_eq!(Format::from_extension("MD"), Some(Format::Markdown));
        assert_eq!(Format::from_extension("htm"), Some(Format::Html));
        assert_eq!(Format::from_extension(".docx"), Some(Format::Docx));
        assert_eq!(Format::from_extension("exe"), None);
        assert_eq!(
            Format::from_mime("text/plain; charset=utf-8"),
            Some(Format::Text)
        );
        assert_eq!(Format::from_mime("Application/PDF"), Some(Format::Pdf));
        assert_eq!(Format::from_mime("image/png"), None);
        assert_eq!(Format::Csv.as_str(), "csv");
    }

    #[test]
    fn whitespace_is_collapsed_and_controls_dropped() {
        assert_eq!(normalize_whitespace("  a\t b\n\nc\u{7}d "), "a b cd");
        assert_eq!(normalize_whitespace(" \u{7} "), "");
    }

    #[test]
    fn table_rows_name_their_cells() {
        let headers = vec!["Name".to_owned(), String::new()];
        let cells = vec!["Ada".to_owned(), "x".to_owned(), "extra".to_owned()];
        assert_eq!(table_row_text(&headers, &cells), "Name: Ada; x; extra");
    }

    #[test]
    fn block_kinds_serialize_with_a_type_tag() {
        let json = serde_json::to_string(&BlockKind::Heading { level: 2 }).unwrap();
        assert_eq!(json, r#"{"type":"heading","level":2}"#);
    }
}
