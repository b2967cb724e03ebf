import "@fontsource/quicksand/400.css";
import "@fontsource/quicksand/500.css";
import "@fontsource/quicksand/600.css";
import "@fontsource/quicksand/700.css";
import "./styles/base.css";
import "./styles/layout.css";
import "./styles/message.css";
import "./styles/chat.css";
import "./styles/pages.css";

import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { ApiClient } from "./api/client";
import { SessionManager, browserLock } from "./api/session";
import { App } from "./app/App";
import { ServicesContext } from "./app/context";

const session = new SessionManager({
  fetch: (...args) => window.fetch(...args),
  storage: window.localStorage,
  now: () => Date.now(),
  withLock: browserLock(),
  autoRefresh: true,
});
window.addEventListener("storage", (e) => {
  if (e.key === null || e.key === "aos.session") session.syncFromStorage();
});
const api = new ApiClient(session);

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <ServicesContext.Provider value={{ session, api }}>
      <App />
    </ServicesContext.Provider>
  </StrictMode>,
);
