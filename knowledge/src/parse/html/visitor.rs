//! Turns the HTML tree into blocks: headings, paragraphs, list items,
//! table rows (named by a header row of `<th>` cells when there is one) and
//! preformatted code. Block elements end the text before them; inline
//! elements just contribute their text.

use scraper::Node;

use crate::parse::{BlockKind, BlockList, normalize_whitespace, table_row_text};

/// Elements whose content is never shown as prose.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed",
    "canvas", "select", "button",
];

/// Elements that start and end a block of text.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "center",
    "details",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hr",
    "legend",
    "main",
    "nav",
    "ol",
    "p",
    "section",
    "summary",
    "ul",
];

/// An element whose text is collected into something other than a paragraph.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Container {
    Heading(u8),
    ListItem,
    Cell,
    Pre,
}

#[derive(Default)]
struct Table {
    header: Vec<String>,
    row: Vec<String>,
    row_is_all_th: bool,
    cell: String,
    data_rows: usize,
}

/// Walk state: the text in progress and the containers and tables open.
#[derive(Default)]
pub(super) struct Visitor {
    pub(super) blocks: BlockList,
    text: String,
    containers: Vec<Container>,
    tables: Vec<Table>,
}

impl Visitor {
    /// Enter a node; returns whether its children should be visited.
    pub(super) fn open(&mut self, node: &Node) -> bool {
        let element = match node {
            Node::Document | Node::Fragment => return true,
            Node::Text(text) => {
                self.push_text(text);
                return false;
            }
            Node::Element(element) => element,
            _ => return false,
        };
        let name = element.name();
        if SKIPPED.contains(&name) || element.attr("hidden").is_some() {
            return false;
        }
        match name {
            "li" => self.begin(Container::ListItem),
            "pre" | "listing" => self.begin(Container::Pre),
            "table" => {
                self.boundary();
                self.tables.push(Table::default());
            }
            "tr" => {
                if let Some(table) = self.tables.last_mut() {
                    table.row.clear();
                    table.row_is_all_th = true;
                }
            }
            "td" | "th" => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell.clear();
                    table.row_is_all_th &= name == "th";
                }
                self.containers.push(Container::Cell);
            }
            "br" => self.push_text("\n"),
            _ => match heading_level(name) {
                Some(level) => self.begin(Container::Heading(level)),
                None if BLOCKS.contains(&name) => self.boundary(),
                None => {}
            },
        }
        true
    }

    /// Leave an element whose `open` returned true.
    pub(super) fn close(&mut self, node: &Node) {
        let Node::Element(element) = node else {
            return;
        };
        let name = element.name();
        match name {
            "li" => self.end(),
            "pre" | "listing" => {
                self.blocks.push_code(&self.text);
                self.text.clear();
                self.containers.pop();
            }
            "td" | "th" => {
                self.containers.pop();
                if let Some(table) = self.tables.last_mut() {
                    let cell = normalize_whitespace(&table.cell);
                    table.row.push(cell);
                    table.cell.clear();
                }
            }
            "tr" => self.end_row(),
            "table" => {
                if let Some(table) = self.tables.pop()
                    && table.data_rows == 0
                {
                    // A table of headers only still carries text.
                    self.blocks
                        .push(BlockKind::TableRow, &joined_cells(&table.header));
                }
            }
            _ if heading_level(name).is_some() => self.end(),
            _ if BLOCKS.contains(&name) => self.boundary(),
            _ => {}
        }
    }

    fn begin(&mut self, container: Container) {
        self.boundary();
        self.containers.push(container);
    }

    fn end(&mut self) {
        self.flush();
        self.containers.pop();
    }

    fn end_row(&mut self) {
        let Some(table) = self.tables.last_mut() else {
            return;
        };
        let row = std::mem::take(&mut table.row);
        if row.iter().all(String::is_empty) {
            return;
        }
        if table.row_is_all_th && table.header.is_empty() && table.data_rows == 0 {
            table.header = row;
            return;
        }
        table.data_rows += 1;
        let text = if table.header.is_empty() {
            joined_cells(&row)
        } else {
            table_row_text(&table.header, &row)
        };
        self.blocks.push(BlockKind::TableRow, &text);
    }

    fn push_text(&mut self, text: &str) {
        match self.containers.last() {
            Some(Container::Cell) => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell.push_str(text);
                }
            }
            _ => self.text.push_str(text),
        }
    }

    /// A block element starts or ends inside the current container.
    fn boundary(&mut self) {
        match self.containers.last() {
            Some(Container::Cell) => self.push_text(" "),
            Some(Container::Pre) => {}
            _ => self.flush(),
        }
    }

    /// End the text in progress as a block of the innermost container's kind.
    pub(super) fn flush(&mut self) {
        let kind = match self.containers.last() {
            Some(Container::Heading(level)) => BlockKind::Heading { level: *level },
            Some(Container::ListItem) => BlockKind::ListItem,
            _ => BlockKind::Paragraph,
        };
        self.blocks.push(kind, &self.text);
        self.text.clear();
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn joined_cells(cells: &[String]) -> String {
    let cells: Vec<&str> = cells
        .iter()
        .map(String::as_str)
        .filter(|cell| !cell.is_empty())
        .collect();
    cells.join(" | ")
}
