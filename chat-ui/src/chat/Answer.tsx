// An answer's Markdown with its citation markers: hovering or focusing a
// marker shows the source; clicking it opens the sources panel there.

import { type FocusEvent, type MouseEvent, useMemo, useState } from "react";
import { scoreLine } from "../format";
import { renderAnswer } from "../markdown/sanitize";
import type { Citation } from "./protocol";

interface Props {
  text: string;
  citations: Citation[];
  streaming: boolean;
  onOpenSource: (n: number) => void;
}

interface Peek {
  citation: Citation;
  top: number;
  left: number;
}

function markerOf(target: EventTarget | null): HTMLElement | null {
  return target instanceof HTMLElement ? target.closest<HTMLElement>("button.cite") : null;
}

export function Answer({ text, citations, streaming, onOpenSource }: Props) {
  const titles = useMemo(() => new Map(citations.map((c) => [c.n, c.title])), [citations]);
  const html = useMemo(() => renderAnswer(text, titles), [text, titles]);
  const [peek, setPeek] = useState<Peek | null>(null);

  function show(target: EventTarget | null) {
    const marker = markerOf(target);
    const n = Number(marker?.dataset.cite);
    const citation = citations.find((c) => c.n === n);
    if (!marker || !citation) return;
    const rect = marker.getBoundingClientRect();
    const width = Math.min(320, window.innerWidth - 16);
    setPeek({
      citation,
      top: rect.bottom + 6,
      left: Math.max(8, Math.min(rect.left - width / 2, window.innerWidth - width - 8)),
    });
  }

  function hide(event: MouseEvent | FocusEvent) {
    if (markerOf(event.target)) setPeek(null);
  }

  function click(event: MouseEvent) {
    const marker = markerOf(event.target);
    if (!marker) return;
    event.preventDefault();
    setPeek(null);
    onOpenSource(Number(marker.dataset.cite));
  }

  return (
    <div className="answer">
      {/* Markers are real buttons (Tab reaches them); these handlers delegate to them. */}
      <div
        className={`markdown${streaming ? " markdown--streaming" : ""}`}
        data-testid="answer-text"
        dangerouslySetInnerHTML={{ __html: html }}
        onMouseOver={(e) => show(e.target)}
        onMouseOut={hide}
        onFocus={(e) => show(e.target)}
        onBlur={hide}
        onClick={click}
        onKeyDown={(e) => e.key === "Escape" && setPeek(null)}
      />
      {peek && (
        <div
          className="citation-peek"
          role="tooltip"
          data-testid="citation-peek"
          style={{ top: peek.top, left: peek.left }}
        >
          <strong>
            [{peek.citation.n}] {peek.citation.title}
          </strong>
          <p>{peek.citation.snippet}</p>
          <span className="muted small">{scoreLine(peek.citation)}</span>
        </div>
      )}
    </div>
  );
}
