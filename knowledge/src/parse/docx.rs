//! DOCX (Office Open XML word processing): the body of `word/document.xml`.
//! Paragraph styles decide the block kind — "Heading N" and "Title" become
//! headings, numbered paragraphs and "List …" styles list items — resolved
//! through `word/styles.xml` so localised style ids still work. Each table
//! row is a block named by the table's first row. Headers, footers,
//! comments and deleted text are not read; text boxes are read once.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;
use zip::result::ZipError;

use super::{ParseError, ParsedDocument, normalize_whitespace};
use body::BodyWalker;

mod body;

/// Bound on one decompressed XML part, against zip bombs.
const MAX_PART_BYTES: u64 = 256 * 1024 * 1024;

/// Parse the bytes of a .docx file.
pub(super) fn parse(bytes: &[u8]) -> Result<ParsedDocument, ParseError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| ParseError::Corrupt("not a DOCX file (not a ZIP archive)".into()))?;
    let body = read_part(&mut archive, "word/document.xml")?.ok_or_else(|| {
        ParseError::Corrupt("not a DOCX file (word/document.xml is missing)".into())
    })?;
    // Styles and properties only refine the result; a damaged one is ignored.
    let styles = read_part(&mut archive, "word/styles.xml")
        .ok()
        .flatten()
        .map(|xml| style_names(&xml))
        .unwrap_or_default();
    let core_title = read_part(&mut archive, "docProps/core.xml")
        .ok()
        .flatten()
        .and_then(|xml| core_title(&xml));

    let mut walker = BodyWalker::new(&styles);
    walker
        .walk(&body)
        .map_err(|_| ParseError::Corrupt("word/document.xml is not well-formed XML".into()))?;
    Ok(ParsedDocument {
        title: core_title.or(walker.title),
        blocks: walker.blocks.into_blocks(),
    })
}

/// The text of a part of the package, or `None` if it does not exist.
fn read_part(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, ParseError> {
    let part = match archive.by_name(name) {
        Ok(part) => part,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(ZipError::UnsupportedArchive(_) | ZipError::CompressionMethodNotSupported(_)) => {
            return Err(ParseError::Unsupported(
                "encrypted DOCX or unusual compression".into(),
            ));
        }
        Err(_) => return Err(ParseError::Corrupt(format!("{name} could not be read"))),
    };
    let mut xml = String::new();
    part.take(MAX_PART_BYTES + 1)
        .read_to_string(&mut xml)
        .map_err(|_| ParseError::Corrupt(format!("{name} could not be read")))?;
    if xml.len() as u64 > MAX_PART_BYTES {
        return Err(ParseError::Unsupported("the document is too large".into()));
    }
    Ok(Some(xml))
}

/// Style id → style name (e.g. "Heading1" or "berschrift1" → "heading 1").
fn style_names(xml: &str) -> HashMap<String, String> {
    let mut names = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current_id: Option<String> = None;
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(e) | Event::Empty(e) => match local_name(&e) {
                "style" => current_id = attribute(&e, "styleId"),
                "name" => {
                    if let (Some(id), Some(name)) = (current_id.take(), attribute(&e, "val")) {
                        names.insert(id, name);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    names
}

/// The `dc:title` of `docProps/core.xml`.
fn core_title(xml: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    let mut in_title = false;
    let mut title = String::new();
    while let Ok(event) = reader.read_event() {
        match event {
            Event::Start(e) if local_name(&e) == "title" => in_title = true,
            Event::End(e) if e.local_name().as_ref() == "title" => break,
            Event::Text(text) if in_title => title.push_str(&text.xml10_content()),
            Event::GeneralRef(entity) if in_title => {
                title.push_str(resolve_predefined_entity(&entity).unwrap_or_default());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(normalize_whitespace(&title)).filter(|title| !title.is_empty())
}

fn local_name<'e>(e: &'e BytesStart<'_>) -> &'e str {
    e.local_name().into_inner()
}

/// The value of the attribute with this local name (namespace prefix ignored).
fn attribute(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|attribute| attribute.key.local_name().as_ref() == name)
        .map(|attribute| attribute.value.into_owned())
}
