//! Checks run before `pdf-extract` reads a document. It follows a page's
//! `/Parent` links and form XObject `Do` calls recursively, with no cycle or
//! depth check, and it expands each form every time it is drawn. A loop
//! therefore overflows the stack — which aborts the whole process, unlike a
//! panic — and nested forms that each draw the next twice take exponential
//! time. Such documents are refused here; the walk below is bounded by
//! [`MAX_PARENT_HOPS`], [`MAX_FORM_DEPTH`] and [`MAX_FORM_CALLS`].

use std::collections::{HashMap, HashSet};

use pdf_extract::content::Content;
use pdf_extract::{Dictionary, Document, Object, ObjectId, Stream};

/// Page-tree levels above a page; real files have a handful.
const MAX_PARENT_HOPS: usize = 64;
/// Forms drawn inside forms; real files rarely go past three or four.
const MAX_FORM_DEPTH: usize = 24;
/// Form expansions over the whole document, as pdf-extract would do them.
const MAX_FORM_CALLS: usize = 20_000;

/// Why a document would make pdf-extract loop, overflow or run away.
pub(super) fn check(document: &Document) -> Result<(), &'static str> {
    let mut forms = FormWalk {
        document,
        calls: 0,
        drawn_names: HashMap::new(),
    };
    for page_id in document.page_iter() {
        let resources = page_resources(document, page_id)?;
        let content = document.get_page_content(page_id).unwrap_or_default();
        let names = drawn_xobjects(&content);
        if let Some(resources) = resources {
            forms.walk(&names, resources, 0)?;
        }
    }
    Ok(())
}

/// The page's resources, inherited through `/Parent` as pdf-extract does,
/// after making sure the chain of parents ends.
fn page_resources(
    document: &Document,
    page_id: ObjectId,
) -> Result<Option<&Dictionary>, &'static str> {
    let mut seen = HashSet::from([page_id]);
    let Ok(mut dict) = document.get_dictionary(page_id) else {
        return Ok(None);
    };
    let mut resources = None;
    for _ in 0..MAX_PARENT_HOPS {
        if resources.is_none() {
            resources = dictionary(document, dict.get(b"Resources").ok());
        }
        let Ok(parent) = dict.get(b"Parent").and_then(Object::as_reference) else {
            return Ok(resources);
        };
        if !seen.insert(parent) {
            return Err("its page tree loops back on itself");
        }
        let Ok(parent_dict) = document.get_dictionary(parent) else {
            return Ok(resources);
        };
        dict = parent_dict;
    }
    Err("its page tree is nested too deeply")
}

struct FormWalk<'a> {
    document: &'a Document,
    calls: usize,
    /// XObject names drawn by each form stream, decoded once.
    drawn_names: HashMap<ObjectId, Vec<Vec<u8>>>,
}

impl<'a> FormWalk<'a> {
    /// Follow the `Do` calls of one content stream, as pdf-extract would.
    fn walk(
        &mut self,
        names: &[Vec<u8>],
        resources: &'a Dictionary,
        depth: usize,
    ) -> Result<(), &'static str> {
        if names.is_empty() {
            return Ok(());
        }
        if depth >= MAX_FORM_DEPTH {
            return Err("its drawings are nested too deeply or loop back on themselves");
        }
        let Some(xobjects) = dictionary(self.document, resources.get(b"XObject").ok()) else {
            return Ok(());
        };
        for name in names {
            self.calls += 1;
            if self.calls > MAX_FORM_CALLS {
                return Err("it repeats nested drawings too many times");
            }
            let Ok(id) = xobjects.get(name).and_then(Object::as_reference) else {
                continue;
            };
            let Ok(form) = self.document.get_object(id).and_then(Object::as_stream) else {
                continue;
            };
            let form_resources =
                dictionary(self.document, form.dict.get(b"Resources").ok()).unwrap_or(resources);
            let inner = self.names_drawn_by(id, form);
            self.walk(&inner, form_resources, depth + 1)?;
        }
        Ok(())
    }

    fn names_drawn_by(&mut self, id: ObjectId, form: &Stream) -> Vec<Vec<u8>> {
        self.drawn_names
            .entry(id)
            .or_insert_with(|| {
                let content = form
                    .decompressed_content()
                    .unwrap_or_else(|_| form.content.clone());
                drawn_xobjects(&content)
            })
            .clone()
    }
}

/// The operands of every `Do` (draw XObject) operator in a content stream.
fn drawn_xobjects(content: &[u8]) -> Vec<Vec<u8>> {
    let Ok(content) = Content::decode(content) else {
        return Vec::new();
    };
    content
        .operations
        .iter()
        .filter(|operation| operation.operator == "Do")
        .filter_map(|operation| operation.operands.first()?.as_name().ok())
        .map(<[u8]>::to_vec)
        .collect()
}

/// A dictionary, following one reference as pdf-extract does.
fn dictionary<'a>(document: &'a Document, object: Option<&'a Object>) -> Option<&'a Dictionary> {
    match object? {
        Object::Reference(id) => document.get_dictionary(*id).ok(),
        Object::Dictionary(dict) => Some(dict),
        _ => None,
    }
}
