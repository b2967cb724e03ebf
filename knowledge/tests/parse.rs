//! Parser tests on realistic fixture files, one per format, plus the inputs
//! users actually upload by mistake: empty files, binaries, damaged files.
//! The PDF and DOCX fixtures are made by `tests/fixtures/make_fixtures.py`.

use knowledge::parse::{Block, BlockKind, Format, ParseError, ParsedDocument, parse};

fn fixture(name: &str) -> std::io::Result<Vec<u8>> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
}

fn block(kind: BlockKind, text: &str) -> Block {
    Block {
        kind,
        text: text.to_owned(),
    }
}

fn heading(level: u8, text: &str) -> Block {
    block(BlockKind::Heading { level }, text)
}

fn all_text(doc: &ParsedDocument) -> String {
    let texts: Vec<&str> = doc.blocks.iter().map(|b| b.text.as_str()).collect();
    texts.join("\n")
}

#[test]
fn parses_markdown_fixture() {
    let doc = parse(Format::Markdown, &fixture("sample.md").unwrap()).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Release Notes"));
    assert_eq!(
        doc.blocks,
        vec![
            heading(1, "Release Notes"),
            block(
                BlockKind::Paragraph,
                "Version 2.4 brings faster search and fewer surprises."
            ),
            heading(2, "Highlights"),
            block(BlockKind::ListItem, "Hybrid retrieval"),
            block(BlockKind::ListItem, "BM25 for exact terms"),
            block(BlockKind::ListItem, "vectors for meaning"),
            block(BlockKind::ListItem, "Smaller index"),
            block(
                BlockKind::TableRow,
                "Setting: top_k; Default: 8; Notes: per query"
            ),
            block(BlockKind::TableRow, "Setting: timeout; Default: 30s"),
            block(BlockKind::Code, "[search]\ntop_k = 8"),
            heading(2, "Upgrade notes"),
            block(
                BlockKind::Paragraph,
                "Upgrade diagram Run the migration first."
            ),
        ]
    );
}

#[test]
fn parses_text_fixture() {
    let doc = parse(Format::Text, &fixture("sample.txt").unwrap()).unwrap();
    assert_eq!(doc.title, None);
    assert_eq!(
        doc.blocks,
        vec![
            block(BlockKind::Paragraph, "Meeting notes, 12 March"),
            block(
                BlockKind::Paragraph,
                "Attendees agreed to ship the parser before the end of the month."
            ),
            block(BlockKind::Paragraph, "Action items:"),
            block(BlockKind::ListItem, "write tests"),
            block(BlockKind::ListItem, "update the docs for the new formats"),
            block(BlockKind::ListItem, "review"),
        ]
    );
}

#[test]
fn parses_html_fixture_without_scripts_or_styles() {
    let doc = parse(Format::Html, &fixture("sample.html").unwrap()).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Support & Help Centre"));
    let text = all_text(&doc);
    for hidden in ["SECRET", "color: red", "written", "console.log"] {
        assert!(!text.contains(hidden), "{hidden:?} leaked into {text}");
    }
    assert_eq!(
        doc.blocks,
        vec![
            block(BlockKind::Paragraph, "Home"),
            heading(1, "Contact us"),
            block(BlockKind::Paragraph, "Call us at <0800> — we're open 24/7."),
            block(
                BlockKind::Paragraph,
                "Second paragraph without a closing tag"
            ),
            block(BlockKind::Paragraph, "Block text on two lines"),
            block(BlockKind::ListItem, "Email"),
            block(BlockKind::ListItem, "Phone"),
            block(BlockKind::ListItem, "Mobile"),
            block(BlockKind::TableRow, "Plan: Basic; Price: Free"),
            block(BlockKind::TableRow, "Plan: Pro; Price: €10"),
            block(BlockKind::TableRow, "a | b"),
            block(BlockKind::Code, "line one\n  line two"),
            block(BlockKind::Paragraph, "Unclosed italic and bold"),
        ]
    );
}

#[test]
fn parses_html_title_from_first_h1_without_title_tag() {
    let doc = parse(Format::Html, b"<h2>Intro</h2><h1>Main &amp; only</h1>").unwrap();
    assert_eq!(doc.title.as_deref(), Some("Main & only"));
}

#[test]
fn parses_csv_fixture() {
    let doc = parse(Format::Csv, &fixture("sample.csv").unwrap()).unwrap();
    assert_eq!(doc.title, None);
    assert_eq!(
        doc.blocks,
        vec![
            block(
                BlockKind::TableRow,
                "id: 1; name: Ada Lovelace; city: London; notes: wrote the first program; loved maths"
            ),
            block(BlockKind::TableRow, "id: 2; name: Grace Hopper"),
            block(
                BlockKind::TableRow,
                "id: 3; name: Alan Turing; city: Manchester; notes: extra; fields"
            ),
        ]
    );
}

#[test]
fn parses_pdf_fixture_text_layer() {
    let doc = parse(Format::Pdf, &fixture("sample.pdf").unwrap()).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Q3 Report"));
    let text = all_text(&doc);
    for expected in [
        "Quarterly Report",
        "Revenue grew by twelve percent compared with the previous quarter.",
        "Costs stayed flat; hiring resumes in May.",
        "Appendix: figures are unaudited.",
    ] {
        assert!(text.contains(expected), "{expected:?} missing from {text}");
    }
    assert!(
        doc.blocks.len() >= 3,
        "paragraphs not split: {:?}",
        doc.blocks
    );
    assert!(doc.blocks.iter().all(|b| b.kind == BlockKind::Paragraph));
}

#[test]
fn parses_pdf_without_text_layer_as_empty() {
    assert_eq!(
        parse(Format::Pdf, &fixture("no-text.pdf").unwrap()),
        Err(ParseError::Empty)
    );
}

#[test]
fn parses_docx_fixture() {
    let doc = parse(Format::Docx, &fixture("sample.docx").unwrap()).unwrap();
    // docProps/core.xml wins over the Title-styled paragraph.
    assert_eq!(doc.title.as_deref(), Some("Onboarding & Welcome"));
    assert_eq!(
        doc.blocks,
        vec![
            heading(1, "Onboarding Guide"),
            heading(1, "Getting started"),
            block(BlockKind::Paragraph, "Welcome to the team & the company."),
            heading(2, "Your first week"),
            block(BlockKind::ListItem, "Collect your laptop"),
            block(BlockKind::ListItem, "Meet your buddy"),
            block(BlockKind::ListItem, "Read the handbook"),
            block(BlockKind::Paragraph, "Boxed note"),
            block(BlockKind::TableRow, "Name: Ada; Role: Engineer"),
            block(BlockKind::TableRow, "Name: Grace"),
        ]
    );
}

#[test]
fn parse_rejects_empty_and_whitespace_files() {
    for format in [Format::Markdown, Format::Text, Format::Html, Format::Csv] {
        assert_eq!(parse(format, b""), Err(ParseError::Empty), "{format:?}");
        assert_eq!(
            parse(format, b"  \n\t \r\n"),
            Err(ParseError::Empty),
            "{format:?}"
        );
    }
    assert_eq!(
        parse(
            Format::Html,
            b"<html><head><script>x()</script></head><body> </body></html>"
        ),
        Err(ParseError::Empty)
    );
    assert_eq!(
        parse(Format::Markdown, b"---\n\n***\n"),
        Err(ParseError::Empty)
    );
}

#[test]
fn parse_rejects_binary_as_not_text() {
    let png_header = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0";
    let garbage: Vec<u8> = noise(0x2545_f491).take(4096).map(|n| n as u8).collect();
    for format in [Format::Markdown, Format::Text, Format::Html, Format::Csv] {
        assert_eq!(
            parse(format, png_header),
            Err(ParseError::NotText),
            "{format:?}"
        );
        assert_eq!(
            parse(format, &garbage),
            Err(ParseError::NotText),
            "{format:?}"
        );
    }
}

#[test]
fn parse_reports_corrupt_pdf() {
    let pdf = fixture("sample.pdf").unwrap();
    for cut in [pdf.len() / 2, 200, 20, 0] {
        let result = parse(Format::Pdf, &pdf[..cut]);
        assert!(
            matches!(result, Err(ParseError::Corrupt(_) | ParseError::Empty)),
            "cut at {cut}: {result:?}"
        );
    }
    assert!(matches!(
        parse(Format::Pdf, b"%PDF-1.7\n\xde\xad\xbe\xef garbage"),
        Err(ParseError::Corrupt(_))
    ));
    // pdf-extract panics on an unknown font encoding; that must come back as
    // an error. (Same length, so the xref offsets stay valid.)
    let mut bytes = pdf.clone();
    let at = bytes
        .windows(16)
        .position(|window| window == b"/WinAnsiEncoding")
        .unwrap();
    bytes[at..at + 16].copy_from_slice(b"/BogusEncodingXY");
    assert!(matches!(
        parse(Format::Pdf, &bytes),
        Err(ParseError::Corrupt(_))
    ));
}

#[test]
fn parse_reports_corrupt_docx() {
    let garbage: Vec<u8> = (0..2048u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert!(matches!(
        parse(Format::Docx, &garbage),
        Err(ParseError::Corrupt(_))
    ));
    let docx = fixture("sample.docx").unwrap();
    assert!(matches!(
        parse(Format::Docx, &docx[..docx.len() / 2]),
        Err(ParseError::Corrupt(_))
    ));
    assert!(matches!(
        parse(Format::Docx, &fixture("sample.pdf").unwrap()),
        Err(ParseError::Corrupt(_))
    ));
}

#[test]
fn parse_reports_header_only_csv_as_empty() {
    assert_eq!(
        parse(Format::Csv, b"name,email,team\n"),
        Err(ParseError::Empty)
    );
}

#[test]
fn parse_accepts_bom_and_utf16() {
    let doc = parse(Format::Text, b"\xEF\xBB\xBFhello").unwrap();
    assert_eq!(doc.blocks, vec![block(BlockKind::Paragraph, "hello")]);
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("# Grüße".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let doc = parse(Format::Markdown, &utf16).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Grüße"));
}

#[test]
fn parse_survives_deeply_nested_html_and_markdown() {
    let html = "<div>".repeat(400) + "deep" + &"</div>".repeat(400);
    let doc = parse(Format::Html, html.as_bytes()).unwrap();
    assert_eq!(doc.blocks, vec![block(BlockKind::Paragraph, "deep")]);
    // Deeper than browsers allow: html5ever would take quadratic time.
    for attack in ["<div>", "<ul><li>", "<b><div></b>x"] {
        let started = std::time::Instant::now();
        let html = attack.repeat(200_000);
        assert!(matches!(
            parse(Format::Html, html.as_bytes()),
            Err(ParseError::Unsupported(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
    // Wide rather than deep is fine, however long.
    let wide = "<p>paragraph <b>bold</b></p>\n".repeat(50_000);
    assert_eq!(
        parse(Format::Html, wide.as_bytes()).unwrap().blocks.len(),
        50_000
    );
    let markdown = ">".repeat(10_000) + " quoted\n" + &"- ".repeat(5_000) + "item\n";
    assert!(parse(Format::Markdown, markdown.as_bytes()).is_ok());
}

#[test]
fn parse_refuses_pdfs_that_would_recurse_forever() {
    // Without the guard these overflow the stack (aborting the process) or
    // run for hours; a caught panic would not help.
    for name in ["loop-parent.pdf", "loop-form.pdf", "fan-out.pdf"] {
        let started = std::time::Instant::now();
        let result = parse(Format::Pdf, &fixture(name).unwrap());
        assert!(
            matches!(result, Err(ParseError::Unsupported(_))),
            "{name}: {result:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{name}"
        );
    }
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(seed: u32) -> impl Iterator<Item = u32> {
    let mut state = seed.max(1);
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    })
}

#[test]
fn parse_never_panics_on_damaged_pdf_or_docx() {
    for (format, name) in [(Format::Pdf, "sample.pdf"), (Format::Docx, "sample.docx")] {
        let original = fixture(name).unwrap();
        for seed in 1..150u32 {
            let mut bytes = original.clone();
            let mut random = noise(seed);
            for _ in 0..1 + seed % 8 {
                let at = random.next().unwrap_or(0) as usize % bytes.len();
                bytes[at] = random.next().unwrap_or(0) as u8;
            }
            let cut = bytes.len() - (seed as usize * 7) % (bytes.len() / 4);
            // Any outcome but a panic or a hang is acceptable.
            let _ = parse(format, &bytes);
            let _ = parse(format, &bytes[..cut]);
        }
    }
}
