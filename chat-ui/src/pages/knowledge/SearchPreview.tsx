// What a knowledge search finds, as you type, with each hit's scores.

import { useEffect, useId, useRef, useState } from "react";
import type { SearchHit } from "../../api/types";
import { useApi } from "../../app/context";
import { ErrorNote } from "../../components/ErrorNote";
import { scoreLine } from "../../format";

export function SearchPreview() {
  const api = useApi();
  const [query, setQuery] = useState("");
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const inputId = useId();
  const latest = useRef(0);

  async function search(text: string) {
    const q = text.trim();
    const ticket = ++latest.current;
    if (!q) {
      setHits(null);
      return;
    }
    setBusy(true);
    try {
      const res = await api.search(q, 8);
      if (ticket === latest.current) {
        setHits(res.hits);
        setError(null);
      }
    } catch (err) {
      if (ticket === latest.current) setError(err);
    } finally {
      if (ticket === latest.current) setBusy(false);
    }
  }

  useEffect(() => {
    const t = setTimeout(() => void search(query), 350);
    return () => clearTimeout(t);
  }, [query]);

  return (
    <section className="card" aria-labelledby="search-title">
      <h2 id="search-title">Search preview</h2>
      <form
        role="search"
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void search(query);
        }}
      >
        <label htmlFor={inputId} className="visually-hidden">
          Search the knowledge base
        </label>
        <input
          id={inputId}
          type="search"
          className="input"
          placeholder="Search the knowledge base"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="knowledge-search-input"
        />
        <button type="submit" className="button" data-testid="knowledge-search-button">
          Search
        </button>
      </form>
      <ErrorNote error={error} prefix="Search failed" />
      <div aria-live="polite" aria-busy={busy}>
        {hits && hits.length === 0 && <p className="empty">Nothing found.</p>}
        {hits && hits.length > 0 && (
          <ol className="hits" data-testid="search-results">
            {hits.map((h) => (
              <li key={h.chunk_id} className="hit" data-testid="search-result">
                <strong>{h.title}</strong>
                {h.heading_path && h.heading_path.length > 0 && (
                  <span className="muted small"> · {h.heading_path.join(" › ")}</span>
                )}
                <p className="hit__snippet">{h.snippet}</p>
                <span className="muted small">{scoreLine(h)}</span>
              </li>
            ))}
          </ol>
        )}
      </div>
    </section>
  );
}
