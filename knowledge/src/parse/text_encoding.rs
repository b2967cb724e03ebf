//! Decoding the bytes of text formats (Markdown, plain text, HTML, CSV):
//! UTF-8 with or without a byte-order mark, or UTF-16 with one. Anything
//! else — binary data, legacy encodings — is refused as [`ParseError::NotText`]
//! rather than indexed as mojibake.

use super::ParseError;

/// Above this share of control characters the "text" is really binary.
const MAX_CONTROL_SHARE: f64 = 0.05;

/// Decode `bytes` as text, refusing binary data.
pub(super) fn decode(bytes: &[u8]) -> Result<String, ParseError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        utf8(rest)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        utf16(rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        utf16(rest, u16::from_be_bytes)?
    } else {
        utf8(bytes)?
    };
    if text.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    if looks_binary(&text) {
        return Err(ParseError::NotText);
    }
    Ok(text)
}

fn utf8(bytes: &[u8]) -> Result<String, ParseError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => Err(ParseError::NotText),
    }
}

fn utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, ParseError> {
    let (pairs, remainder) = bytes.as_chunks::<2>();
    if !remainder.is_empty() {
        return Err(ParseError::NotText);
    }
    char::decode_utf16(pairs.iter().map(|pair| unit(*pair)))
        .collect::<Result<String, _>>()
        .map_err(|_| ParseError::NotText)
}

/// NUL anywhere, or many other control characters, means binary data.
fn looks_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut control = 0usize;
    for c in text.chars() {
        if c == '\0' {
            return true;
        }
        total += 1;
        // C0 controls and DEL only: C1 controls (U+0080–U+009F) turn up in
        // real text as mojibake ("â\u{80}\u{99}"), which is still text.
        if (c < ' ' || c == '\u{7f}') && !matches!(c, '\n' | '\r' | '\t' | '\u{c}') {
            control += 1;
        }
    }
    total > 0 && control as f64 / total as f64 > MAX_CONTROL_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode(b"hello").unwrap(), "hello");
        assert_eq!(decode(b"\xEF\xBB\xBFhello").unwrap(), "hello");
    }

    #[test]
    fn utf16_with_bom() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("héllo".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&le).unwrap(), "héllo");
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("héllo".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&be).unwrap(), "héllo");
        assert_eq!(decode(b"\xFF\xFEa"), Err(ParseError::NotText));
    }

    #[test]
    fn binary_is_refused() {
        assert_eq!(decode(b"abc\0def"), Err(ParseError::NotText));
        assert_eq!(decode(b"caf\xE9"), Err(ParseError::NotText));
        assert_eq!(
            decode(b"\x01\x02\x03\x04 some text"),
            Err(ParseError::NotText)
        );
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(decode(b""), Err(ParseError::Empty));
        assert_eq!(decode(b" \n\t\r\n"), Err(ParseError::Empty));
        assert_eq!(decode(b"\xEF\xBB\xBF"), Err(ParseError::Empty));
    }
}
