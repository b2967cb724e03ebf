// Knowledge: upload a document through the page and find it by search.

import { ADMIN, openPage, signIn } from "../app.mjs";
import { check, eventually } from "../expect.mjs";

export const knowledgeTests = [
  {
    name: "an uploaded document is listed and found by search",
    async run({ page, shot }) {
      // A word no demo document has, so the search can only find this one.
      const word = `quokkaplex${Date.now().toString(36)}`;
      const title = `Field guide to ${word}`;
      const body = [
        `# ${title}`,
        "",
        `The ${word} programme pairs every new enterprise customer with a named success engineer`,
        "for their first ninety days, and reviews adoption at day thirty and day sixty.",
        "",
        "## Escalation",
        "",
        `Blocked ${word} onboardings go to the COO's weekly operations review.`,
        "",
      ].join("\n");

      await signIn(page, ADMIN);
      await openPage(page, "knowledge", "AOS Knowledge");
      await page.getByTestId("documents-table").waitFor();
      await page.getByTestId("upload-input").setInputFiles({
        name: `${word}.md`,
        mimeType: "text/markdown",
        buffer: Buffer.from(body),
      });
      await page.getByTestId("upload-title").fill(title);
      await page.getByTestId("upload-tags").fill("e2e, onboarding");
      await page.getByTestId("upload-button").click();

      const result = page.getByTestId("upload-result");
      await result.waitFor({ timeout: 30_000 });
      const said = await result.innerText();
      check(said.includes(title), `the upload result names the document: "${said}"`);
      check(/\(\d+ chunks\)/.test(said) && !said.includes("(0 chunks)"), `it was indexed: "${said}"`);
      const row = page.getByTestId("document-row").filter({ hasText: title });
      await row.waitFor();
      check((await row.innerText()).includes("e2e"), "the list shows its tags");
      await shot("knowledge-uploaded");

      await page.getByTestId("knowledge-search-input").fill(`${word} escalation`);
      await page.getByTestId("knowledge-search-button").click();
      const hits = page.getByTestId("search-result");
      await eventually(async () => (await hits.count()) > 0, "the search finds something");
      const first = await hits.first().innerText();
      check(first.includes(title), `the top hit is the uploaded document: "${first.slice(0, 120)}"`);
      await shot("knowledge-search");
    },
  },
];
