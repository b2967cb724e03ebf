//! Structure-aware chunking: blocks (headings, paragraphs, list items, table
//! rows, code) are packed into chunks of about `target_tokens` tokens of the
//! embedder's own tokenizer, never across a heading, with a small overlap
//! between neighbours. Each chunk keeps the heading path it sits under.

use crate::embed::TokenCounter;
use crate::parse::{Block, BlockKind, ParsedDocument};

/// Chunk sizes in tokens.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSizes {
    pub target_tokens: usize,
    pub overlap_tokens: usize,
}

impl Default for ChunkSizes {
    fn default() -> Self {
        ChunkSizes {
            target_tokens: 256,
            overlap_tokens: 32,
        }
    }
}

/// One piece of a document, ready to embed and index.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    pub heading_path: Vec<String>,
    pub text: String,
    pub token_count: usize,
}

struct Piece {
    text: String,
    tokens: usize,
}

/// Splits a parsed document into chunks.
pub fn chunk_document(
    doc: &ParsedDocument,
    counter: &TokenCounter,
    sizes: ChunkSizes,
) -> Vec<Chunk> {
    let mut chunker = Chunker {
        counter,
        sizes,
        headings: Vec::new(),
        current: Vec::new(),
        current_tokens: 0,
        carried: 0,
        out: Vec::new(),
    };
    for block in &doc.blocks {
        chunker.push(block);
    }
    chunker.flush(false);
    chunker.out
}

struct Chunker<'a> {
    counter: &'a TokenCounter,
    sizes: ChunkSizes,
    headings: Vec<(u8, String)>,
    current: Vec<Piece>,
    current_tokens: usize,
    /// How many of `current`'s first pieces are overlap from the chunk before.
    carried: usize,
    out: Vec<Chunk>,
}

impl Chunker<'_> {
    fn push(&mut self, block: &Block) {
        let text = block.text.trim();
        if text.is_empty() {
            return;
        }
        if let BlockKind::Heading { level } = block.kind {
            // A new section: what came before is finished, with no overlap into it.
            self.flush(false);
            self.headings.retain(|(l, _)| *l < level);
            self.headings.push((level, text.to_owned()));
            return;
        }
        let rendered = match block.kind {
            BlockKind::ListItem => format!("- {text}"),
            _ => text.to_owned(),
        };
        let tokens = self.counter.count(&rendered);
        if tokens > self.sizes.target_tokens {
            self.flush(true);
            let step = self
                .sizes
                .target_tokens
                .saturating_sub(self.sizes.overlap_tokens)
                .max(1);
            for piece in self.counter.split_at_tokens(&rendered, step) {
                let tokens = self.counter.count(&piece);
                self.add(Piece {
                    text: piece,
                    tokens,
                });
            }
            return;
        }
        self.add(Piece {
            text: rendered,
            tokens,
        });
    }

    fn add(&mut self, piece: Piece) {
        if self.current_tokens + piece.tokens > self.sizes.target_tokens {
            if self.current.len() > self.carried {
                self.flush(true);
            }
            if self.current_tokens + piece.tokens > self.sizes.target_tokens {
                // The overlap and this piece do not fit together: drop the overlap.
                self.current.clear();
                self.current_tokens = 0;
                self.carried = 0;
            }
        }
        self.current_tokens += piece.tokens;
        self.current.push(piece);
    }

    /// Emits the current chunk; with `overlap`, its last pieces (up to the
    /// overlap budget) start the next one.
    fn flush(&mut self, overlap: bool) {
        if self.current.len() <= self.carried {
            // Only overlap from the previous chunk: nothing new to emit.
            self.current.clear();
            self.current_tokens = 0;
            self.carried = 0;
            return;
        }
        let text = self
            .current
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        self.out.push(Chunk {
            heading_path: self.headings.iter().map(|(_, h)| h.clone()).collect(),
            token_count: self.current_tokens,
            text,
        });
        let pieces = std::mem::take(&mut self.current);
        self.current_tokens = 0;
        self.carried = 0;
        if !overlap {
            return;
        }
        let mut carried = Vec::new();
        let mut budget = self.sizes.overlap_tokens;
        for piece in pieces.into_iter().rev() {
            if piece.tokens > budget {
                break;
            }
            budget -= piece.tokens;
            carried.push(piece);
        }
        carried.reverse();
        self.current_tokens = carried.iter().map(|p| p.tokens).sum();
        self.carried = carried.len();
        self.current = carried;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::test_model_dir;

    fn counter() -> TokenCounter {
        TokenCounter::load(&test_model_dir()).expect("tokenizer")
    }

    fn block(kind: BlockKind, text: &str) -> Block {
        Block {
            kind,
            text: text.to_owned(),
        }
    }

    fn doc(blocks: Vec<Block>) -> ParsedDocument {
        ParsedDocument {
            title: None,
            blocks,
        }
    }

    #[test]
    fn headings_start_new_chunks_and_give_their_path() {
        let counter = counter();
        let parsed = doc(vec![
            block(BlockKind::Heading { level: 1 }, "Handbook"),
            block(BlockKind::Paragraph, "Welcome to the company."),
            block(BlockKind::Heading { level: 2 }, "Travel"),
            block(BlockKind::ListItem, "Book economy for short flights."),
            block(BlockKind::Heading { level: 2 }, "Expenses"),
            block(BlockKind::Paragraph, "Receipts are due within 30 days."),
        ]);
        let chunks = chunk_document(&parsed, &counter, ChunkSizes::default());
        let paths: Vec<Vec<String>> = chunks.iter().map(|c| c.heading_path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                vec!["Handbook".to_owned()],
                vec!["Handbook".to_owned(), "Travel".to_owned()],
                vec!["Handbook".to_owned(), "Expenses".to_owned()],
            ]
        );
        assert_eq!(chunks[1].text, "- Book economy for short flights.");
    }

    #[test]
    fn chunks_stay_within_the_target_and_overlap_their_neighbours() {
        let counter = counter();
        let sentences: Vec<Block> = (0..60)
            .map(|i| {
                block(
                    BlockKind::Paragraph,
                    &format!("Sentence number {i} talks about quarterly revenue and cloud costs."),
                )
            })
            .collect();
        let sizes = ChunkSizes {
            target_tokens: 64,
            overlap_tokens: 16,
        };
        let chunks = chunk_document(&doc(sentences), &counter, sizes);
        assert!(chunks.len() > 5, "{}", chunks.len());
        for chunk in &chunks {
            assert!(chunk.token_count <= 64, "{chunk:?}");
            assert_eq!(
                chunk.token_count,
                chunk.text.lines().map(|l| counter.count(l)).sum::<usize>()
            );
        }
        for pair in chunks.windows(2) {
            let last_line = pair[0].text.lines().last().unwrap_or_default();
            assert!(
                pair[1].text.starts_with(last_line),
                "no overlap between {pair:?}"
            );
        }
        // The last chunk is not a copy of the overlap alone.
        let last = chunks.last().expect("chunks");
        assert!(last.text.contains("Sentence number 59"));
    }

    #[test]
    fn an_over_long_block_is_split_on_token_boundaries() {
        let counter = counter();
        let long = "revenue ".repeat(600);
        let chunks = chunk_document(
            &doc(vec![block(BlockKind::Paragraph, &long)]),
            &counter,
            ChunkSizes::default(),
        );
        assert!(chunks.len() >= 3);
        assert!(
            chunks.iter().all(|c| c.token_count <= 256),
            "{:?}",
            chunks.iter().map(|c| c.token_count).collect::<Vec<_>>()
        );
        assert!(
            chunk_document(
                &doc(vec![block(BlockKind::Paragraph, "  ")]),
                &counter,
                ChunkSizes::default()
            )
            .is_empty()
        );
    }
}
