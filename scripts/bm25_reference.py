#!/usr/bin/env python3
"""Independent BM25 reference for `aos eval retrieval`.

Scores a BEIR-layout folder with the `bm25s` package (Lucene BM25, k1=1.2,
b=0.75) using the same text analysis as the project's index: lower-case words
of two or more letters or digits, the same English stop words
(knowledge/src/analyze.rs) and the Snowball English stemmer. Prints nDCG@10,
recall@10 and MRR@10 computed the same way as the Rust evaluation.

    bash scripts/bm25_reference.sh ../shared/data/retrieval/msmarco-subset
"""
import json
import math
import re
import sys
from pathlib import Path

import bm25s
import Stemmer

STOP_WORDS = [
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
]
STOP = set(STOP_WORDS)
STEMMER = Stemmer.Stemmer("english")
WORD = re.compile(r"[^\W_]+")  # letters and digits, like Rust's char::is_alphanumeric


def analyze(text):
    words = [w.lower() for w in WORD.findall(text) if len(w) >= 2]
    return [t for t in STEMMER.stemWords([w for w in words if w not in STOP]) if len(t) <= 64]


def ndcg(ranked, judged, k=10):
    dcg = sum(max(judged.get(d, 0), 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked, judged, k=10):
    relevant = [d for d, g in judged.items() if g > 0]
    return sum(1 for d in ranked[:k] if judged.get(d, 0) > 0) / len(relevant) if relevant else 0.0


def mrr(ranked, judged, k=10):
    for i, d in enumerate(ranked[:k]):
        if judged.get(d, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def main(folder):
    folder = Path(folder)
    corpus = [json.loads(l) for l in (folder / "corpus.jsonl").read_text().split("\n") if l.strip()]
    qrels = {}
    for line in (folder / "qrels" / "test.tsv").read_text().split("\n")[1:]:
        if not line.strip():
            continue
        q, d, s = line.split("\t")[:3]
        qrels.setdefault(q, {})[d] = int(s)
    queries = [json.loads(l) for l in (folder / "queries.jsonl").read_text().split("\n") if l.strip()]
    queries = [q for q in queries if q["_id"] in qrels]

    ids = [d["_id"] for d in corpus]
    texts = [(d.get("title") + "\n\n" if d.get("title") else "") + d["text"] for d in corpus]
    retriever = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    retriever.index([analyze(t) for t in texts], show_progress=False)

    totals = [0.0, 0.0, 0.0]
    for q in queries:
        tokens = [t for t in analyze(q["text"]) if t in retriever.vocab_dict]
        if not tokens:
            ranked = []
        else:
            docs, _ = retriever.retrieve([tokens], k=10, show_progress=False)
            ranked = [ids[i] for i in docs[0]]
        judged = qrels[q["_id"]]
        totals[0] += ndcg(ranked, judged)
        totals[1] += recall(ranked, judged)
        totals[2] += mrr(ranked, judged)
    n = max(len(queries), 1)
    print(f"bm25s {bm25s.__version__} (lucene, k1=1.2, b=0.75) on {folder}: {len(corpus)} passages, {len(queries)} judged queries")
    print(f"{'mode':<8} {'nDCG@10':>8} {'recall@10':>10} {'MRR@10':>8}")
    print(f"{'bm25s':<8} {totals[0] / n:>8.4f} {totals[1] / n:>10.4f} {totals[2] / n:>8.4f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/retrieval/msmarco-subset")
