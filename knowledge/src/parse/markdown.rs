//! Markdown (CommonMark with GitHub tables, strikethrough, task lists and
//! footnotes) via `pulldown-cmark`. Inline markup is dropped: links keep
//! their text, images their alt text; raw HTML and front matter are skipped.
//! The title is the first level-1 heading.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{BlockKind, BlockList, ParsedDocument, normalize_whitespace, table_row_text};

/// Parse decoded Markdown text.
pub(super) fn parse(text: &str) -> ParsedDocument {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS;
    let mut walker = Walker::default();
    for event in Parser::new_ext(text, options) {
        walker.event(event);
    }
    walker.flush();
    let title = walker.blocks.first_h1();
    ParsedDocument {
        title,
        blocks: walker.blocks.into_blocks(),
    }
}

/// The table being read: its header cells and the row and cell in progress.
#[derive(Default)]
struct Table {
    header: Vec<String>,
    row: Vec<String>,
    cell: String,
}

/// Turns the parser's event stream into blocks.
#[derive(Default)]
struct Walker {
    blocks: BlockList,
    /// Inline text of the heading, paragraph or list item in progress.
    text: String,
    heading: Option<u8>,
    /// How many list items are open (nested lists make this > 1).
    item_depth: usize,
    code: Option<String>,
    table: Option<Table>,
    in_metadata: bool,
}

impl Walker {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) | Event::Code(text) => self.push_text(&text),
            Event::SoftBreak | Event::HardBreak => self.push_text("\n"),
            Event::Rule => self.flush(),
            // Raw HTML, footnote markers, task checkboxes and math carry no prose.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Heading { level, .. } => {
                self.flush();
                self.heading = Some(level as u8);
            }
            Tag::CodeBlock(_) => {
                self.flush();
                self.code = Some(String::new());
            }
            Tag::Item => {
                self.flush();
                self.item_depth += 1;
            }
            Tag::Table(_) => {
                self.flush();
                self.table = Some(Table::default());
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(table) = &mut self.table {
                    table.row.clear();
                }
            }
            Tag::TableCell => {
                if let Some(table) = &mut self.table {
                    table.cell.clear();
                }
            }
            Tag::MetadataBlock(_) => self.in_metadata = true,
            // A nested list starts: the parent item's own text comes first.
            Tag::List(_)
            | Tag::BlockQuote(_)
            | Tag::HtmlBlock
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition => self.flush(),
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            // Paragraphs inside a list item belong to that item.
            TagEnd::Paragraph if self.item_depth > 0 => self.text.push(' '),
            TagEnd::Heading(_) => {
                self.flush();
                self.heading = None;
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.blocks.push_code(&code);
                }
            }
            TagEnd::Item => {
                self.flush();
                self.item_depth = self.item_depth.saturating_sub(1);
            }
            TagEnd::TableCell => {
                if let Some(table) = &mut self.table {
                    let cell = normalize_whitespace(&table.cell);
                    table.row.push(cell);
                }
            }
            TagEnd::TableHead => {
                if let Some(table) = &mut self.table {
                    table.header = std::mem::take(&mut table.row);
                }
            }
            TagEnd::TableRow => {
                if let Some(table) = &self.table {
                    let row = table_row_text(&table.header, &table.row);
                    self.blocks.push(BlockKind::TableRow, &row);
                }
            }
            TagEnd::Table => self.table = None,
            TagEnd::MetadataBlock(_) => self.in_metadata = false,
            TagEnd::Paragraph
            | TagEnd::List(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::HtmlBlock
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition => self.flush(),
            _ => {}
        }
    }

    fn push_text(&mut self, text: &str) {
        if self.in_metadata {
            return;
        }
        if let Some(code) = &mut self.code {
            code.push_str(text);
        } else if let Some(table) = &mut self.table {
            table.cell.push_str(text);
        } else {
            self.text.push_str(text);
        }
    }

    /// End the block in progress; its kind follows from where it sits.
    fn flush(&mut self) {
        let kind = match self.heading {
            Some(level) => BlockKind::Heading { level },
            None if self.item_depth > 0 => BlockKind::ListItem,
            None => BlockKind::Paragraph,
        };
        self.blocks.push(kind, &self.text);
        self.text.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Block;

    fn texts(doc: &ParsedDocument, kind: BlockKind) -> Vec<&str> {
        doc.blocks
            .iter()
            .filter(|block| block.kind == kind)
            .map(|block| block.text.as_str())
            .collect()
    }

    #[test]
    fn headings_paragraphs_and_inline_markup() {
        let doc = parse(
            "Intro *before* the title.\n\n# The **Title**\n\nSee [the docs](https://x.y) and ![a diagram](d.png).\n\nSub\n---\n",
        );
        assert_eq!(doc.title.as_deref(), Some("The Title"));
        assert_eq!(
            doc.blocks,
            vec![
                Block {
                    kind: BlockKind::Paragraph,
                    text: "Intro before the title.".into()
                },
                Block {
                    kind: BlockKind::Heading { level: 1 },
                    text: "The Title".into()
                },
                Block {
                    kind: BlockKind::Paragraph,
                    text: "See the docs and a diagram.".into()
                },
                Block {
                    kind: BlockKind::Heading { level: 2 },
                    text: "Sub".into()
                },
            ]
        );
    }

    #[test]
    fn nested_list_items_are_separate_blocks() {
        let doc = parse("- one\n- two\n  - two a\n  - two b\n- three\n\n1. loose\n\n   more\n");
        assert_eq!(
            texts(&doc, BlockKind::ListItem),
            vec!["one", "two", "two a", "two b", "three", "loose more"]
        );
    }

    #[test]
    fn tables_rows_use_the_header() {
        let doc = parse("| Name | Role |\n|---|---|\n| Ada | `eng` |\n| Bob | |\n");
        assert_eq!(
            texts(&doc, BlockKind::TableRow),
            vec!["Name: Ada; Role: eng", "Name: Bob"]
        );
    }

    #[test]
    fn code_keeps_lines_and_front_matter_is_skipped() {
        let doc = parse(
            "---\ntitle: x\n---\n\n```rust\nfn main() {\n    run();\n}\n```\n\n    indented\n",
        );
        assert_eq!(
            texts(&doc, BlockKind::Code),
            vec!["fn main() {\n    run();\n}", "indented"]
        );
        assert!(texts(&doc, BlockKind::Paragraph).is_empty());
        assert_eq!(doc.title, None);
    }
}
