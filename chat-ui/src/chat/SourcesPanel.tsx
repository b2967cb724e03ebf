// The sources an answer cites, with how each scored in hybrid retrieval.

import { useEffect, useRef } from "react";
import { CloseIcon } from "../components/icons";
import type { Citation } from "./protocol";

interface Props {
  citations: Citation[];
  focus: number | null;
  onClose: () => void;
}

function rank(r: number | null | undefined): string {
  return r == null ? "not found" : `#${r}`;
}

export function SourcesPanel({ citations, focus, onClose }: Props) {
  const list = useRef<HTMLOListElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    const item = focus != null ? list.current?.querySelector<HTMLElement>(`[data-n="${focus}"]`) : null;
    if (item) {
      item.scrollIntoView?.({ block: "nearest" });
      item.focus({ preventScroll: true });
    } else {
      heading.current?.focus();
    }
  }, [focus, citations]);

  const best = Math.max(...citations.map((c) => c.scores.fused), 0) || 1;

  return (
    <aside
      className="sources"
      aria-labelledby="sources-title"
      data-testid="sources-panel"
      onKeyDown={(e) => e.key === "Escape" && onClose()}
    >
      <header className="sources__head">
        <h2 id="sources-title" ref={heading} tabIndex={-1}>
          Sources <span className="muted">({citations.length})</span>
        </h2>
        <button
          type="button"
          className="icon-button"
          aria-label="Close sources"
          onClick={onClose}
          data-testid="close-sources"
        >
          <CloseIcon />
        </button>
      </header>
      {citations.length === 0 ? (
        <p className="muted">This answer cites no documents.</p>
      ) : (
        <ol className="sources__list" ref={list}>
          {citations.map((c) => (
            <SourceItem key={`${c.n}-${c.chunk_id}`} citation={c} focused={c.n === focus} best={best} />
          ))}
        </ol>
      )}
    </aside>
  );
}

function SourceItem({ citation: c, focused, best }: { citation: Citation; focused: boolean; best: number }) {
  const { scores } = c;
  return (
    <li
      className={`source${focused ? " source--focus" : ""}`}
      data-n={c.n}
      tabIndex={-1}
      data-testid="source-item"
      aria-current={focused ? "true" : undefined}
    >
      <div className="source__title">
        <span className="source__n">{c.n}</span>
        {c.uri && /^https?:/i.test(c.uri) ? (
          <a href={c.uri} target="_blank" rel="noopener noreferrer">
            {c.title}
          </a>
        ) : (
          <span>{c.title}</span>
        )}
      </div>
      <p className="source__snippet">{c.snippet}</p>
      <div className="source__score" role="img" aria-label={`Fused score ${scores.fused.toFixed(4)}`}>
        <span className="source__bar" style={{ width: `${Math.max(4, (scores.fused / best) * 100)}%` }} />
      </div>
      <dl className="source__scores" data-testid="score-breakdown">
        <div>
          <dt>Score</dt>
          <dd>{c.score.toFixed(4)}</dd>
        </div>
        <div>
          <dt>Fused</dt>
          <dd>{scores.fused.toFixed(4)}</dd>
        </div>
        <div>
          <dt>Vector</dt>
          <dd>
            {rank(scores.vector_rank)}
            {scores.vector_similarity != null && ` (cos ${scores.vector_similarity.toFixed(2)})`}
          </dd>
        </div>
        <div>
          <dt>Lexical</dt>
          <dd>
            {rank(scores.lexical_rank)}
            {scores.bm25 != null && ` (bm25 ${scores.bm25.toFixed(2)})`}
          </dd>
        </div>
      </dl>
    </li>
  );
}
