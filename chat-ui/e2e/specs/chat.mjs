// Chat: a streamed answer with its persona and citation markers, a source
// opened in the sources panel, and a persona pinned from the chip's menu.

import { ADMIN, ask, finished, signIn } from "../app.mjs";
import { check, eventually, equal } from "../expect.mjs";

const QUESTION = "What counts as a cloud spend anomaly?";

/** Gap put before each `text.delta` on its way to the page. */
const DELTA_PACE_MS = 40;

/**
 * Routes the chat socket through the test: records every `text.delta` the
 * server sends (with its arrival time), and hands the deltas on to the page
 * DELTA_PACE_MS apart, in order. The offline composer writes its whole
 * answer within a few milliseconds, which React may paint in one go; paced
 * like a slower network, each delta must show on screen as it comes.
 */
async function routeChatSocket(page) {
  const deltas = [];
  await page.routeWebSocket(/\/ws\/chat/, (ws) => {
    const server = ws.connectToServer();
    let queue = Promise.resolve();
    server.onMessage((message) => {
      let event = null;
      try {
        event = JSON.parse(String(message));
      } catch {
        // Not JSON: passed on as it is.
      }
      const delta = event?.type === "text.delta";
      if (delta) deltas.push({ at: performance.now(), seq: event.seq, text: event.text });
      queue = queue
        .then(async () => {
          if (delta) await new Promise((resolve) => setTimeout(resolve, DELTA_PACE_MS));
          ws.send(message);
        })
        // The page may have gone (test over): nothing is waiting for the rest.
        .catch(() => undefined);
    });
  });
  return deltas;
}

/**
 * Samples the newest answer on every DOM change: its status and how much
 * text it shows. Tells whether text was on screen while it still streamed.
 */
function sampleNewestAnswer(page) {
  return page.evaluate(() => {
    const samples = [];
    window.__aosSamples = samples;
    const record = () => {
      const answers = document.querySelectorAll("[data-testid=assistant-message]");
      const newest = answers[answers.length - 1];
      if (!newest) return;
      const text = newest.querySelector("[data-testid=answer-text]")?.textContent ?? "";
      const last = samples[samples.length - 1];
      if (last && last.status === newest.dataset.status && last.length === text.length) return;
      samples.push({ at: performance.now(), status: newest.dataset.status, length: text.length });
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ["data-status"],
    });
  });
}

export const chatTests = [
  {
    name: "an answer streams in with a persona chip and citation markers",
    async run({ page, shot }) {
      const deltas = await routeChatSocket(page);
      await signIn(page, ADMIN);
      await sampleNewestAnswer(page);

      const answer = await ask(page, QUESTION);
      await finished(answer);

      // The server sent the answer as several deltas, in order; the page
      // showed it growing, delta by delta, before it was complete.
      check(deltas.length >= 3, `several text.delta events arrived (got ${deltas.length})`);
      check(
        deltas.every((d, i) => i === 0 || d.seq > deltas[i - 1].seq),
        "text.delta events arrived in seq order",
      );
      const samples = await page.evaluate(() => window.__aosSamples);
      const finalLength = samples.at(-1)?.length ?? 0;
      const partial = samples.filter(
        (s) => s.status === "streaming" && s.length > 0 && s.length < finalLength,
      );
      check(
        partial.length >= 1,
        `part of the answer was on screen while it streamed (samples: ${JSON.stringify(samples)})`,
      );
      const lengths = new Set(samples.filter((s) => s.length > 0).map((s) => s.length));
      check(lengths.size >= 3, `the answer grew on screen (lengths seen: ${[...lengths].join(", ")})`);
      const streamed = deltas.map((d) => d.text).join("");
      check(streamed.includes("[1]"), "the streamed text cites sources as [n]");

      // The persona that answered, with its confidence; the composer's chip follows it.
      const persona = (await answer.getByTestId("message-persona").innerText()).trim();
      check(/^(CTO|CRO|COO|CFO)\s+\d+\s?%$/.test(persona), `persona chip with confidence: "${persona}"`);
      const chip = (await page.getByTestId("persona-chip").innerText()).trim();
      check(chip.startsWith("Auto ·") && chip.includes(persona.split(/\s/)[0]), `composer chip: "${chip}"`);

      // Citation markers [n] in the text; hovering one shows its source.
      const markers = answer.getByTestId("citation-marker");
      const count = await markers.count();
      check(count >= 1, "the answer has citation markers");
      const n = await markers.first().getAttribute("data-cite");
      check(/^\d+$/.test(n ?? ""), `a marker names its source number: ${n}`);
      await markers.first().hover();
      const peek = page.getByTestId("citation-peek");
      await peek.waitFor();
      check((await peek.innerText()).includes(`[${n}]`), "the hover card names the cited source");
      await answer.getByTestId("stage-timings").waitFor();
      check(/\/chat\/[0-9a-f-]{36}$/.test(page.url()), `the conversation has its own URL: ${page.url()}`);
      await page.getByTestId("conversation-item").first().waitFor();
      await shot("chat-answer");

      // Opening a source from its marker: the panel shows title and score breakdown.
      await page.mouse.move(0, 0);
      await markers.first().click();
      const panel = page.getByTestId("sources-panel");
      await panel.waitFor();
      const item = panel.locator(`[data-testid=source-item][data-n="${n}"]`);
      equal(await item.getAttribute("aria-current"), "true", "the clicked source is the current one");
      const title = (await item.locator(".source__title").innerText()).replace(/^\d+\s*/, "").trim();
      check(title.length > 0, "the source has a title");
      const breakdown = await item.getByTestId("score-breakdown").innerText();
      for (const part of ["Fused", "Vector", "Lexical"]) {
        check(breakdown.includes(part), `the score breakdown shows ${part}: "${breakdown}"`);
      }
      check(/\d\.\d{4}/.test(breakdown), `the breakdown has numbers: "${breakdown}"`);
      const listed = await panel.getByTestId("source-item").count();
      equal(
        listed,
        Number((await answer.getByTestId("open-sources").innerText()).match(/\d+/)?.[0]),
        "sources listed",
      );
      await shot("chat-sources");
      await page.getByTestId("close-sources").click();
      await eventually(async () => (await panel.count()) === 0, "the sources panel closes");
    },
  },
  {
    name: "the persona menu pins a persona for the next question",
    async run({ page, shot }) {
      const sent = [];
      page.on("websocket", (ws) => ws.on("framesent", ({ payload }) => sent.push(String(payload))));
      await signIn(page, ADMIN);
      await page.getByTestId("persona-chip").click();
      await page.getByTestId("persona-menu").waitFor();
      await shot("persona-menu");
      await page.getByTestId("persona-option-cro").click();
      await eventually(
        async () => (await page.getByTestId("persona-chip").innerText()).includes("CRO · pinned"),
        "the chip shows the pinned persona",
      );
      // The server takes the pin as a strong prior: a question that names no
      // domain is answered by the pinned persona.
      const answer = await ask(page, "Hello! What can you help me with?");
      await finished(answer);
      const send = sent.map((s) => JSON.parse(s)).find((c) => c.type === "chat.send");
      equal(send?.persona, "cro", "chat.send carries the pinned persona");
      const persona = await answer.getByTestId("message-persona").innerText();
      check(persona.startsWith("CRO"), `the pinned persona answered: "${persona}"`);
    },
  },
];
