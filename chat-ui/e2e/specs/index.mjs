// Every UI end-to-end test, in the order they run. Each one signs in on a
// fresh browser profile; they share the server and its seeded demo tenant.

import { approvalTests } from "./approvals.mjs";
import { chatTests } from "./chat.mjs";
import { knowledgeTests } from "./knowledge.mjs";
import { screenTests } from "./screens.mjs";
import { signInTests } from "./signin.mjs";
import { themeTests } from "./theme.mjs";

export const TESTS = [
  ...signInTests,
  ...chatTests,
  ...approvalTests,
  ...knowledgeTests,
  ...themeTests,
  ...screenTests,
];
