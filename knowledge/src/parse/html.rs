//! HTML via `scraper` (the html5ever tree builder, so broken markup is
//! repaired the way browsers do it). Only visible prose is kept: scripts,
//! styles, `<head>` (apart from `<title>`), templates, SVG and hidden
//! elements are skipped. Entities are decoded by the parser.
//!
//! html5ever's tree builder costs time proportional to the nesting depth for
//! each block element it opens, so a file of nothing but `<div>`s is
//! quadratic. Input is fed in slices and parsing stops with
//! [`ParseError::Unsupported`] once nesting passes [`MAX_DEPTH`] (browsers
//! also cap depth, at 512).

use html5ever::driver::{self, ParseOpts};
use html5ever::tendril::{StrTendril, TendrilSink};
use scraper::{Html, HtmlTreeSink};

use super::{ParseError, ParsedDocument, normalize_whitespace};
use visitor::Visitor;

mod visitor;

/// Deepest element nesting accepted; real pages stay well under 100.
const MAX_DEPTH: usize = 512;

/// Bytes fed to the parser between depth checks.
const SLICE_BYTES: usize = 4096;

/// Parse decoded HTML text.
pub(super) fn parse(text: &str) -> Result<ParsedDocument, ParseError> {
    let html = build_tree(text)?;
    let mut visitor = Visitor::default();

    // Depth-first walk without recursion: hostile pages nest deeply.
    let root = html.tree.root();
    let mut node = root;
    'walk: loop {
        if visitor.open(node.value()) {
            if let Some(child) = node.first_child() {
                node = child;
                continue;
            }
            visitor.close(node.value());
        }
        loop {
            if node.id() == root.id() {
                break 'walk;
            }
            if let Some(sibling) = node.next_sibling() {
                node = sibling;
                continue 'walk;
            }
            match node.parent() {
                Some(parent) => {
                    node = parent;
                    visitor.close(node.value());
                }
                None => break 'walk,
            }
        }
    }
    visitor.flush();

    let title = head_title(&html).or_else(|| visitor.blocks.first_h1());
    Ok(ParsedDocument {
        title,
        blocks: visitor.blocks.into_blocks(),
    })
}

/// Run the html5ever tree builder, refusing pathologically deep nesting.
fn build_tree(text: &str) -> Result<Html, ParseError> {
    let sink = HtmlTreeSink::new(Html::new_document());
    let mut parser = driver::parse_document(sink, ParseOpts::default());
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + SLICE_BYTES).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        parser.process(StrTendril::from_slice(&text[start..end]));
        start = end;
        // The newest node sits at (about) the depth of the open-element stack.
        let html = parser.tokenizer.sink.sink.0.borrow();
        let depth = html
            .tree
            .nodes()
            .next_back()
            .map_or(0, |node| node.ancestors().take(MAX_DEPTH + 1).count());
        if depth > MAX_DEPTH {
            return Err(ParseError::Unsupported(format!(
                "HTML nested more than {MAX_DEPTH} levels deep"
            )));
        }
    }
    Ok(parser.finish())
}

/// The text of `<head><title>`, if present and non-empty.
fn head_title(html: &Html) -> Option<String> {
    let title = html.tree.nodes().find(|node| {
        node.value()
            .as_element()
            .is_some_and(|e| e.name() == "title")
            && node
                .parent()
                .and_then(|parent| parent.value().as_element().map(|e| e.name() == "head"))
                .unwrap_or(false)
    })?;
    let text: String = title
        .children()
        .filter_map(|child| child.value().as_text().map(|text| &**text))
        .collect();
    Some(normalize_whitespace(&text)).filter(|title| !title.is_empty())
}
