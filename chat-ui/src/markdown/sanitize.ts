// The last gate before answer HTML reaches the page: DOMPurify with its HTML
// profile. `render.ts` already escapes raw HTML; this catches anything else.

import DOMPurify from "dompurify";
import { markdownToHtml } from "./render";

/** Answer Markdown as HTML that is safe to put in the page. */
export function renderAnswer(text: string, citations: ReadonlyMap<number, string>): string {
  return DOMPurify.sanitize(markdownToHtml(text, citations), {
    USE_PROFILES: { html: true },
    ADD_ATTR: ["target"],
    FORBID_TAGS: ["style", "form", "input", "img"],
  });
}
