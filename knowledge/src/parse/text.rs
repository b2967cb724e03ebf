//! Plain text: paragraphs are separated by blank lines, and lines that start
//! with a list marker ("- ", "* ", "• ", "1. ", "1) ") are list items.
//! Plain text declares no title; callers fall back to the file name.

use super::{BlockKind, BlockList, ParsedDocument};

/// Parse decoded plain text.
pub(super) fn parse(text: &str) -> ParsedDocument {
    let mut blocks = BlockList::default();
    let mut current = String::new();
    let mut in_item = false;

    for line in text.lines() {
        let trimmed = line.trim();
        let kind = if in_item {
            BlockKind::ListItem
        } else {
            BlockKind::Paragraph
        };
        if trimmed.is_empty() {
            blocks.push(kind, &current);
            current.clear();
            in_item = false;
        } else if let Some(item) = strip_list_marker(trimmed) {
            blocks.push(kind, &current);
            current = item.to_owned();
            in_item = true;
        } else if in_item && !starts_indented(line) {
            // An unindented line after a list item ends the list.
            blocks.push(kind, &current);
            current = trimmed.to_owned();
            in_item = false;
        } else {
            current.push(' ');
            current.push_str(trimmed);
        }
    }
    let kind = if in_item {
        BlockKind::ListItem
    } else {
        BlockKind::Paragraph
    };
    blocks.push(kind, &current);

    ParsedDocument {
        title: None,
        blocks: blocks.into_blocks(),
    }
}

fn starts_indented(line: &str) -> bool {
    line.starts_with([' ', '\t'])
}

/// The item text if `line` (already trimmed) starts with a list marker.
pub(super) fn strip_list_marker(line: &str) -> Option<&str> {
    for bullet in ["- ", "* ", "+ ", "• ", "– "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(rest);
        }
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    if (1..=3).contains(&digits) {
        let rest = &line[digits..];
        for marker in [". ", ") "] {
            if let Some(item) = rest.strip_prefix(marker) {
                return Some(item);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::Block;

    fn block(kind: BlockKind, text: &str) -> Block {
        Block {
            kind,
            text: text.to_owned(),
        }
    }

    #[test]
    fn paragraphs_and_list_items() {
        let text = "First paragraph\nstill first.\n\nShopping:\n- milk\n- eggs\n  and bacon\n1. one\n2) two\nAfter the list.\n\n\n* last";
        let doc = parse(text);
        assert_eq!(doc.title, None);
        assert_eq!(
            doc.blocks,
            vec![
                block(BlockKind::Paragraph, "First paragraph still first."),
                block(BlockKind::Paragraph, "Shopping:"),
                block(BlockKind::ListItem, "milk"),
                block(BlockKind::ListItem, "eggs and bacon"),
                block(BlockKind::ListItem, "one"),
                block(BlockKind::ListItem, "two"),
                block(BlockKind::Paragraph, "After the list."),
                block(BlockKind::ListItem, "last"),
            ]
        );
    }

    #[test]
    fn numbers_are_not_always_markers() {
        assert_eq!(strip_list_marker("2024. A year"), None);
        assert_eq!(strip_list_marker("3.14 is pi"), None);
        assert_eq!(strip_list_marker("12. twelfth"), Some("twelfth"));
        assert_eq!(strip_list_marker("-dash"), None);
    }
}
