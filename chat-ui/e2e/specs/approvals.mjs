// Approvals: an approver asks in chat to approve a pending mapping, gets an
// approval card, approves it and sees it carried out; a viewer sees approval
// cards without the buttons.

import { APPROVER, VIEWER, apiAs, ask, finished, openPage, signIn } from "../app.mjs";
import { check, eventually, equal } from "../expect.mjs";

/** The demo's schema drift renamed `assigned_team` to `owning_team`: a pending proposal. */
const CHAT_FIELD = "owning_team";

async function pendingProposals(api) {
  const res = await api("POST", "/api/v1/tools/list_pending_mappings/invoke", { arguments: {} });
  equal(res.status, 200, `list_pending_mappings: ${res.text}`);
  return res.json.data.proposals;
}

/** What an answer holds, for a failure message. */
async function describeAnswer(answer) {
  const tools = await answer.locator("[data-testid=tool-call-card] .tool-card__name").allInnerTexts();
  const text = (
    await answer
      .getByTestId("answer-text")
      .innerText()
      .catch(() => "")
  ).slice(0, 300);
  return `tools called: [${tools.join(", ")}]; answer: "${text.replaceAll("\n", " ")}"`;
}

export const approvalTests = [
  {
    name: "an approver approves a pending mapping from chat and sees it done",
    async run({ page, base, shot }) {
      const api = await apiAs(base, APPROVER);
      const proposal = (await pendingProposals(api)).find((p) => p.source_field === CHAT_FIELD);
      check(proposal, `the demo has a pending proposal for ${CHAT_FIELD}`);

      await signIn(page, APPROVER);
      const answer = await ask(page, `Approve the pending mapping for ${CHAT_FIELD}`);
      // The turn waits for the decision: the card comes while it still streams.
      const card = answer.getByTestId("approval-card");
      try {
        await eventually(
          async () =>
            (await card.count()) > 0 ||
            !["pending", "streaming"].includes(await answer.getAttribute("data-status")),
          "an approval card or the end of the answer",
          { timeout: 30_000 },
        );
      } catch (err) {
        await shot("chat-approval-missing");
        throw err;
      }
      if ((await card.count()) === 0) {
        await shot("chat-approval-missing");
        throw new Error(`no approval card in the answer; ${await describeAnswer(answer)}`);
      }
      const status = card.getByTestId("approval-status");
      equal(await status.getAttribute("data-status"), "pending", "the card waits for a decision");
      const approvalId = await card.getAttribute("data-approval-id");
      const pending = await api("GET", `/api/v1/approvals/${approvalId}`);
      equal(pending.status, 200, `the card's approval exists: ${pending.text}`);
      equal(pending.json.action, "approve_mapping", "the approval is for approve_mapping");
      equal(pending.json.arguments?.proposal_id, proposal.id, `it approves the ${CHAT_FIELD} proposal`);
      equal(await answer.getByTestId("stage").innerText(), "Waiting for approval…", "the answer's stage");
      await shot("chat-approval-pending");

      await card.getByTestId("approve-button").click();
      await eventually(
        async () => (await status.getAttribute("data-status")) === "executed",
        "the card shows the approval carried out",
        { timeout: 15_000 },
      );
      equal(await card.getByTestId("approve-button").count(), 0, "no buttons once decided");
      // The answer then goes on with the tool's result.
      await finished(answer);
      const tool = answer.locator("[data-testid=tool-call-card]", { hasText: "approve_mapping" });
      equal(await tool.getAttribute("data-state"), "ok", "the approve_mapping call succeeded");
      await shot("chat-approval-executed");

      // The server agrees: executed, and the proposal is no longer pending.
      const decided = await api("GET", `/api/v1/approvals/${approvalId}`);
      equal(decided.json.status, "executed", "the approval's status on the server");
      const still = (await pendingProposals(api)).some((p) => p.id === proposal.id);
      check(!still, `the ${CHAT_FIELD} proposal is no longer pending`);

      // The inbox lists it among all approvals, decided.
      await openPage(page, "approvals", "AOS Approvals");
      await page.getByTestId("approvals-filter-all").click();
      const listed = page.locator(`[data-testid=approval-card][data-approval-id="${approvalId}"]`);
      await listed.waitFor();
      equal(
        await listed.getByTestId("approval-status").getAttribute("data-status"),
        "executed",
        "the inbox shows it executed",
      );
      await shot("approvals-all");
    },
  },
  {
    name: "a viewer sees approval cards read-only",
    async run({ page, base, shot }) {
      // An approver asks for one through the API; the viewer may look, not decide.
      const api = await apiAs(base, APPROVER);
      const proposals = await pendingProposals(api);
      const proposal = proposals.find((p) => p.source_field === "channel") ?? proposals[0];
      check(proposal, "the demo has a pending mapping proposal");
      const res = await api("POST", "/api/v1/tools/approve_mapping/invoke", {
        arguments: { proposal_id: proposal.id },
      });
      equal(res.status, 202, `approve_mapping asks for an approval: ${res.text}`);
      const approvalId = res.json.approval.id;

      await signIn(page, VIEWER);
      await openPage(page, "approvals", "AOS Approvals");
      const card = page.locator(`[data-testid=approval-card][data-approval-id="${approvalId}"]`);
      await card.waitFor();
      await card.getByTestId("approval-readonly").waitFor();
      equal(await card.getByTestId("approve-button").count(), 0, "no Approve button for a viewer");
      equal(await card.getByTestId("reject-button").count(), 0, "no Reject button for a viewer");
      equal(await page.getByTestId("approve-button").count(), 0, "no Approve button anywhere");
      await shot("approvals-viewer");
    },
  },
];
