//! The body of `word/document.xml`: paragraphs, their styles and
//! numbering, and tables, read as a stream of XML events.

use std::collections::HashMap;

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use super::{attribute, local_name};
use crate::parse::{BlockKind, BlockList, normalize_whitespace, table_row_text};

/// What a paragraph's style makes it.
#[derive(Debug, PartialEq)]
enum StyleKind {
    Title,
    Heading(u8),
    List,
    Body,
}

fn classify(style_id: &str, styles: &HashMap<String, String>) -> StyleKind {
    let name = styles.get(style_id).map(String::as_str).unwrap_or(style_id);
    for candidate in [name, style_id] {
        let key: String = candidate
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        if key == "title" {
            return StyleKind::Title;
        }
        if let Some(level) = key.strip_prefix("heading")
            && let Ok(level @ 1..=9) = level.parse::<u8>()
        {
            return StyleKind::Heading(level);
        }
        if key.starts_with("list") {
            return StyleKind::List;
        }
    }
    StyleKind::Body
}

#[derive(Default)]
struct Paragraph {
    text: String,
    style: Option<String>,
    numbered: bool,
}

#[derive(Default)]
struct Table {
    header: Option<Vec<String>>,
    row: Vec<String>,
    cell: Option<String>,
    data_rows: usize,
}

/// Walk state: the paragraphs and tables open and the blocks so far.
pub(super) struct BodyWalker<'s> {
    styles: &'s HashMap<String, String>,
    pub(super) blocks: BlockList,
    /// The first paragraph styled "Title".
    pub(super) title: Option<String>,
    /// Open paragraphs; a text box nests paragraphs inside a paragraph.
    paragraphs: Vec<Paragraph>,
    in_text: bool,
    tables: Vec<Table>,
}

impl<'s> BodyWalker<'s> {
    pub(super) fn new(styles: &'s HashMap<String, String>) -> Self {
        BodyWalker {
            styles,
            blocks: BlockList::default(),
            title: None,
            paragraphs: Vec::new(),
            in_text: false,
            tables: Vec::new(),
        }
    }

    /// Read the whole body, pushing blocks as paragraphs and rows end.
    pub(super) fn walk(&mut self, xml: &str) -> Result<(), quick_xml::Error> {
        let mut reader = Reader::from_str(xml);
        loop {
            match reader.read_event()? {
                Event::Start(e) => {
                    if local_name(&e) == "Fallback" {
                        // VML fallback repeats the text boxes of mc:Choice.
                        reader.read_to_end(e.name())?;
                    } else {
                        self.start(&e);
                    }
                }
                Event::Empty(e) => {
                    self.start(&e);
                    self.end(local_name(&e));
                }
                Event::End(e) => self.end(e.local_name().into_inner()),
                Event::Text(text) if self.in_text => self.push_text(&text.xml10_content()),
                Event::CData(text) if self.in_text => self.push_text(&text.xml10_content()),
                Event::GeneralRef(entity) if self.in_text => {
                    if let Ok(Some(c)) = entity.resolve_char_ref() {
                        self.push_text(c.encode_utf8(&mut [0; 4]));
                    } else if let Some(text) = resolve_predefined_entity(&entity) {
                        self.push_text(text);
                    }
                }
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    fn start(&mut self, e: &BytesStart<'_>) {
        match local_name(e) {
            "p" => self.paragraphs.push(Paragraph::default()),
            "pStyle" => {
                if let Some(paragraph) = self.paragraphs.last_mut() {
                    paragraph.style = attribute(e, "val");
                }
            }
            "numPr" => self.set_numbered(true),
            // numId 0 explicitly removes inherited numbering.
            "numId" if attribute(e, "val").as_deref() == Some("0") => self.set_numbered(false),
            "t" => self.in_text = true,
            "tab" | "br" | "cr" => self.push_text(" "),
            "tbl" => self.tables.push(Table::default()),
            "tr" => {
                if let Some(table) = self.tables.last_mut() {
                    table.row.clear();
                }
            }
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell = Some(String::new());
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "t" => self.in_text = false,
            "p" => self.end_paragraph(),
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    let cell = table.cell.take().unwrap_or_default();
                    table.row.push(normalize_whitespace(&cell));
                }
            }
            "tr" => self.end_row(),
            "tbl" => {
                if let Some(table) = self.tables.pop()
                    && table.data_rows == 0
                    && let Some(header) = table.header
                {
                    // A one-row table has no data rows; keep its text anyway.
                    let cells: Vec<&str> = header.iter().map(String::as_str).collect();
                    self.blocks.push(BlockKind::TableRow, &cells.join(" | "));
                }
            }
            _ => {}
        }
    }

    fn set_numbered(&mut self, numbered: bool) {
        if let Some(paragraph) = self.paragraphs.last_mut() {
            paragraph.numbered = numbered;
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(paragraph) = self.paragraphs.last_mut() {
            paragraph.text.push_str(text);
        }
    }

    fn end_paragraph(&mut self) {
        let Some(paragraph) = self.paragraphs.pop() else {
            return;
        };
        if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
            cell.push(' ');
            cell.push_str(&paragraph.text);
            return;
        }
        let style = paragraph.style.as_deref().unwrap_or_default();
        let kind = match classify(style, self.styles) {
            StyleKind::Title => {
                if self.title.is_none() {
                    let title = normalize_whitespace(&paragraph.text);
                    self.title = Some(title).filter(|title| !title.is_empty());
                }
                BlockKind::Heading { level: 1 }
            }
            StyleKind::Heading(level) => BlockKind::Heading { level },
            StyleKind::List => BlockKind::ListItem,
            StyleKind::Body if paragraph.numbered => BlockKind::ListItem,
            StyleKind::Body => BlockKind::Paragraph,
        };
        self.blocks.push(kind, &paragraph.text);
    }

    fn end_row(&mut self) {
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let row = std::mem::take(&mut table.row);
        match &table.header {
            None => table.header = Some(row),
            Some(header) => {
                table.data_rows += 1;
                self.blocks
                    .push(BlockKind::TableRow, &table_row_text(header, &row));
            }
        }
    }
}
