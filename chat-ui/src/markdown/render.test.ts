import { describe, expect, it } from "vitest";
import { markdownToHtml } from "./render";

const known = new Map([
  [1, "Cloud budget policy"],
  [2, "FinOps runbook"],
  [3, "Vendor list"],
]);

describe("markdownToHtml", () => {
  it("renders GitHub tables, lists and code", () => {
    const html = markdownToHtml(
      "| vendor | spend |\n| --- | ---: |\n| AWS | 120 |\n\n- one\n- two\n\n```sql\nselect 1;\n```",
      known,
    );
    expect(html).toContain("<table>");
    expect(html).toContain('<td align="right">120</td>');
    expect(html).toContain("<li>one</li>");
    expect(html).toContain('<code class="language-sql">select 1;');
  });

  it("turns known [n] markers into citation buttons", () => {
    const html = markdownToHtml("Budgets are monthly [1] and capped [2][3].", known);
    expect(html.match(/data-testid="citation-marker"/g)).toHaveLength(3);
    expect(html).toContain('data-cite="1"');
    expect(html).toContain('aria-label="Source 3: Vendor list"');
  });

  it("splits grouped markers", () => {
    const html = markdownToHtml("See [1, 2].", known);
    expect(html).toContain('data-cite="1"');
    expect(html).toContain('data-cite="2"');
    expect(html).not.toContain("[1, 2]");
  });

  it("leaves unknown numbers, links and code alone", () => {
    const html = markdownToHtml("In [2024] we [1](https://example.com) `x[1]`", known);
    expect(html).toContain("[2024]");
    expect(html).not.toContain("citation-marker");
    expect(html).toContain("<code>x[1]</code>");
  });

  it("shows raw HTML as text and drops unsafe links and images", () => {
    const html = markdownToHtml(
      '<img src=x onerror="alert(1)"> [a](javascript:alert(1)) ![p](http://x/p.png)',
      known,
    );
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img");
    expect(html).not.toContain("javascript:");
    expect(html).not.toContain("<a ");
  });

  it("opens safe links in a new tab", () => {
    const html = markdownToHtml("[docs](https://example.com/a)", known);
    expect(html).toContain(
      '<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">docs</a>',
    );
  });
});
