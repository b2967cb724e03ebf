//! PDF: the text layer, via `pdf-extract` (layout-aware spacing on top of
//! `lopdf`). Paragraphs are split where the extractor leaves a blank line,
//! which it does at large vertical gaps and page breaks. Scanned PDFs have no
//! text layer and come back as [`ParseError::Empty`]; there is no OCR.
//!
//! `pdf-extract` panics on many malformed or unusual files (unknown
//! encodings, missing font widths, odd colour spaces, …), so extraction runs
//! under `catch_unwind` and a panic becomes [`ParseError::Corrupt`]. This
//! relies on the workspace building with `panic = "unwind"` (the default).
//! What a panic cannot cover — endless recursion — is refused beforehand by
//! [`pdf_guard`](super::pdf_guard).

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{Document, Object, PlainTextOutput, decode_text_string, output_doc};

use super::{BlockKind, BlockList, ParseError, ParsedDocument, normalize_whitespace, pdf_guard};

/// Parse the bytes of a PDF file.
pub(super) fn parse(bytes: &[u8]) -> Result<ParsedDocument, ParseError> {
    let (title, text) = match catch_unwind(AssertUnwindSafe(|| extract(bytes))) {
        Ok(extracted) => extracted?,
        Err(_) => {
            return Err(ParseError::Corrupt(
                "the PDF's structure could not be read".into(),
            ));
        }
    };
    let mut blocks = BlockList::default();
    for paragraph in split_paragraphs(&text) {
        blocks.push(BlockKind::Paragraph, &paragraph);
    }
    Ok(ParsedDocument {
        title,
        blocks: blocks.into_blocks(),
    })
}

/// Load the document and return its Info title and raw text layer.
fn extract(bytes: &[u8]) -> Result<(Option<String>, String), ParseError> {
    // The header may follow up to 1 KiB of junk.
    if !bytes.windows(5).take(1024).any(|window| window == b"%PDF-") {
        return Err(ParseError::Corrupt("not a PDF file".into()));
    }
    let mut document = Document::load_mem(bytes)
        .map_err(|_| ParseError::Corrupt("the PDF could not be opened".into()))?;
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Err(ParseError::Unsupported("password-protected PDF".into()));
    }
    pdf_guard::check(&document).map_err(|reason| {
        ParseError::Unsupported(format!("this PDF cannot be read safely: {reason}"))
    })?;
    let title = info_title(&document);
    let mut text = String::new();
    output_doc(&document, &mut PlainTextOutput::new(&mut text))
        .map_err(|_| ParseError::Corrupt("the PDF's text could not be read".into()))?;
    Ok((title, text))
}

/// The Title entry of the document information dictionary.
fn info_title(document: &Document) -> Option<String> {
    let info = match document.trailer.get(b"Info").ok()? {
        Object::Reference(id) => document.get_dictionary(*id).ok()?,
        Object::Dictionary(info) => info,
        _ => return None,
    };
    let title = decode_text_string(info.get(b"Title").ok()?).ok()?;
    Some(normalize_whitespace(&title)).filter(|title| !title.is_empty())
}

/// Split extracted text at blank lines, joining the lines of each paragraph.
fn split_paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(line.trim());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(
            split_paragraphs("\n\nLine one\nline two\n\n\nNext\n"),
            vec!["Line one line two", "Next"]
        );
    }

    #[test]
    fn garbage_is_corrupt_not_a_panic() {
        assert!(matches!(
            parse(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"),
            Err(ParseError::Corrupt(_))
        ));
        assert!(matches!(parse(b"hello"), Err(ParseError::Corrupt(_))));
    }
}
