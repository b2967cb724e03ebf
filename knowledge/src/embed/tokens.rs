//! Token counting and token-bounded splitting with the local model's tokenizer,
//! so the chunker can size chunks in the unit the embedder truncates by.

use std::path::Path;
use std::sync::Arc;

use tokenizers::Tokenizer;

use super::EmbedError;

/// Counts and cuts text in tokens of a `tokenizer.json` (padding and truncation
/// off, special tokens not counted). Cheap to clone.
#[derive(Clone)]
pub struct TokenCounter {
    tokenizer: Arc<Tokenizer>,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCounter").finish_non_exhaustive()
    }
}

impl TokenCounter {
    /// Loads `tokenizer.json` from a model directory such as the one
    /// `scripts/fetch-model.sh` fills.
    pub fn load(model_dir: &Path) -> Result<Self, EmbedError> {
        let path = model_dir.join("tokenizer.json");
        let tokenizer = Tokenizer::from_file(&path).map_err(|e| EmbedError::Load {
            path,
            reason: e.to_string(),
        })?;
        Ok(Self::new(tokenizer))
    }

    /// Wraps a tokenizer, switching its padding and truncation off so counts are
    /// the real lengths.
    pub(super) fn new(mut tokenizer: Tokenizer) -> Self {
        tokenizer.with_padding(None);
        // Turning truncation off cannot fail (only a stride check can).
        let _ = tokenizer.with_truncation(None);
        Self {
            tokenizer: Arc::new(tokenizer),
        }
    }

    /// Number of tokens in `text`, without special tokens such as `[CLS]`.
    pub fn count(&self, text: &str) -> usize {
        match self.tokenizer.encode_fast(text, false) {
            Ok(encoding) => encoding.len(),
            // Not expected with a WordPiece vocabulary; every token spans at least
            // one byte, so the byte length is a safe upper bound.
            Err(_) => text.len(),
        }
    }

    /// Cuts `text` into pieces of at most `max_tokens` tokens each (as counted by
    /// [`TokenCounter::count`]), cutting between words where possible and inside
    /// a word only when one word alone is longer than `max_tokens`.
    ///
    /// The pieces concatenate back to `text` exactly: whitespace at a cut stays
    /// at the end of the earlier piece. A text that already fits comes back as one
    /// piece; an empty text gives no pieces. `max_tokens` below 1 is taken as 1.
    pub fn split_at_tokens(&self, text: &str, max_tokens: usize) -> Vec<String> {
        let max_tokens = max_tokens.max(1);
        let mut pieces = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            let Ok(encoding) = self.tokenizer.encode(rest, false) else {
                pieces.extend(split_by_bytes(rest, max_tokens));
                break;
            };
            let offsets = encoding.get_offsets();
            let words = encoding.get_word_ids();
            let mut first_token = 0;
            let mut piece_start = 0;
            loop {
                if offsets.len() - first_token <= max_tokens {
                    pieces.push(rest[piece_start..].to_owned());
                    rest = "";
                    break;
                }
                // The latest token that starts a word and still leaves the piece
                // within budget. Cutting there keeps the tokenisation of both sides
                // unchanged, so this encoding stays valid for what follows.
                let limit = first_token + max_tokens;
                let word_start = (first_token + 1..=limit)
                    .rev()
                    .find(|&j| words[j].is_none() || words[j] != words[j - 1]);
                let cut_token = word_start.unwrap_or(limit);
                let cut = offsets[cut_token].0;
                if cut <= piece_start || !rest.is_char_boundary(cut) {
                    // Offsets that do not map back to the text: fall back to a cut
                    // that is safe whatever the tokenizer does.
                    pieces.extend(split_by_bytes(&rest[piece_start..], max_tokens));
                    rest = "";
                    break;
                }
                pieces.push(rest[piece_start..cut].to_owned());
                if word_start.is_some() {
                    first_token = cut_token;
                    piece_start = cut;
                } else {
                    // Cut inside a word: the rest of that word may tokenise
                    // differently on its own, so encode the remainder afresh.
                    rest = &rest[cut..];
                    break;
                }
            }
        }
        pieces
    }
}

/// Pieces of at most `max_bytes` bytes on char boundaries (a char wider than
/// `max_bytes` gets a piece of its own); since a token spans at least one byte,
/// each piece has at most `max_bytes` tokens.
fn split_by_bytes(text: &str, max_bytes: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i > start && i + c.len_utf8() - start > max_bytes {
            pieces.push(text[start..i].to_owned());
            start = i;
        }
    }
    if start < text.len() {
        pieces.push(text[start..].to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::test_model_dir;

    fn counter() -> TokenCounter {
        TokenCounter::load(&test_model_dir()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn assert_valid_split(counter: &TokenCounter, text: &str, max: usize) -> Vec<String> {
        let pieces = counter.split_at_tokens(text, max);
        assert_eq!(pieces.concat(), text, "pieces must concatenate to the text");
        for piece in &pieces {
            let n = counter.count(piece);
            assert!(n <= max, "piece {piece:?} has {n} tokens > {max}");
            assert!(n > 0, "piece {piece:?} has no tokens");
        }
        pieces
    }

    #[test]
    fn counts_tokens_without_special_tokens() {
        let c = counter();
        assert_eq!(c.count(""), 0);
        assert_eq!(c.count("hello world"), 2);
        // "embeddings" is split into word pieces: em ##bed ##ding ##s.
        assert_eq!(c.count("Embeddings!"), 5);
        // Truncation is off: long texts are counted in full.
        let long = "word ".repeat(1000);
        assert_eq!(c.count(&long), 1000);
    }

    #[test]
    fn text_that_fits_is_one_piece_and_empty_is_none() {
        let c = counter();
        assert_eq!(
            c.split_at_tokens("A short sentence.", 10),
            vec!["A short sentence."]
        );
        assert!(c.split_at_tokens("", 10).is_empty());
    }

    #[test]
    fn splits_between_words() {
        let c = counter();
        let text = "The quick brown fox jumps over the lazy dog. It was not amused, \
                    and the embeddings of this sentence are tokenised into word pieces.";
        for max in [1, 2, 3, 5, 8, 13, 40] {
            let pieces = assert_valid_split(&c, text, max);
            if max >= 5 {
                // No word here is longer than four tokens, so no cut falls inside one.
                for pair in pieces.windows(2) {
                    let (a, b) = (&pair[0], &pair[1]);
                    let joined_at_word_boundary = a.ends_with(|ch: char| !ch.is_alphanumeric())
                        || b.starts_with(|ch: char| !ch.is_alphanumeric());
                    assert!(joined_at_word_boundary, "cut inside a word: {a:?} | {b:?}");
                }
            }
        }
        assert_eq!(
            c.split_at_tokens(text, 8)[0],
            "The quick brown fox jumps over the lazy "
        );
    }

    #[test]
    fn splits_inside_a_word_only_when_it_must() {
        let c = counter();
        let word = "antidisestablishmentarianism";
        let n = c.count(word);
        assert!(n >= 4, "{word} is {n} tokens");
        let text = format!("{word} {word} ok");
        assert_valid_split(&c, &text, 2);
        assert_valid_split(&c, "Ünïcödé façade naïve 東京タワー 👍🏽 done", 1);
    }

    #[test]
    fn byte_fallback_keeps_char_boundaries() {
        assert_eq!(split_by_bytes("abcdef", 4), vec!["abcd", "ef"]);
        assert_eq!(split_by_bytes("ééé", 3), vec!["é", "é", "é"]);
        assert_eq!(split_by_bytes("👍a", 2), vec!["👍", "a"]);
    }
}
