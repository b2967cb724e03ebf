// Answer Markdown to HTML (GitHub flavour: tables, code, lists). Raw HTML in
// the answer is shown as text, not interpreted, and `[n]` markers that name a
// known citation become buttons. The result still goes through DOMPurify
// (`sanitize.ts`) before it reaches the page.

import { Marked, type Tokens } from "marked";

const CITATION = /^\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\](?!\()/;

let knownCitations: ReadonlyMap<number, string> = new Map();

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SAFE_URL = /^(https?:|mailto:|\/|#)/i;

const marked = new Marked({
  gfm: true,
  breaks: false,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      if (!SAFE_URL.test(href)) return text;
      const t = title ? ` title="${escapeHtml(title)}"` : "";
      return `<a href="${escapeHtml(href)}"${t} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    image({ text }: Tokens.Image) {
      // Answers do not load remote images (the product runs offline).
      return escapeHtml(text);
    },
  },
  extensions: [
    {
      name: "citation",
      level: "inline",
      start(src: string) {
        const i = src.search(/\[\d/);
        return i < 0 ? undefined : i;
      },
      tokenizer(src: string) {
        const match = CITATION.exec(src);
        if (!match?.[1]) return undefined;
        const numbers = match[1].split(",").map((n) => Number(n.trim()));
        if (!numbers.every((n) => knownCitations.has(n))) return undefined;
        return { type: "citation", raw: match[0], numbers };
      },
      renderer(token) {
        const numbers = (token as unknown as { numbers: number[] }).numbers;
        return numbers.map((n) => citationButton(n, knownCitations.get(n) ?? "")).join("");
      },
    },
  ],
});

function citationButton(n: number, title: string): string {
  const label = title ? `Source ${n}: ${title}` : `Source ${n}`;
  return (
    `<button type="button" class="cite" data-cite="${n}" data-testid="citation-marker" ` +
    `aria-label="${escapeHtml(label)}">${n}</button>`
  );
}

/**
 * Markdown to (unsanitised) HTML; `[n]` becomes a marker when `n` is a key of
 * `citations` (citation number → source title).
 */
export function markdownToHtml(text: string, citations: ReadonlyMap<number, string>): string {
  // The tokenizer extension cannot take arguments; parsing is synchronous, so
  // a module variable set around the call is safe.
  knownCitations = citations;
  try {
    return marked.parse(text, { async: false });
  } finally {
    knownCitations = new Map();
  }
}
