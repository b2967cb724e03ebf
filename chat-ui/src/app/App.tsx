// Which screen to show: sign-in when signed out, otherwise the routed page
// inside the layout, with a sign-in dialog on top if the session expired.

import { useEffect, useRef, useState } from "react";
import { ChatPage } from "../chat/ChatPage";
import { ChatProvider } from "../chat/ChatProvider";
import { ApprovalsPage } from "../pages/ApprovalsPage";
import { KnowledgePage } from "../pages/knowledge/KnowledgePage";
import { NotFoundPage } from "../pages/NotFoundPage";
import { PlatformPage } from "../pages/PlatformPage";
import { SessionExpiredDialog, SignInPage } from "../pages/SignIn";
import { UsagePage } from "../pages/UsagePage";
import { useSessionState } from "./context";
import { Layout, ThemeToggle } from "./Layout";
import { type Route, parseRoute, usePathname } from "./router";
import { useTheme } from "./theme";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "chat":
      return <ChatPage conversationId={route.conversationId} />;
    case "approvals":
      return <ApprovalsPage />;
    case "knowledge":
      return <KnowledgePage />;
    case "usage":
      return <UsagePage />;
    case "platform":
      return <PlatformPage />;
    case "not-found":
      return <NotFoundPage path={route.path} />;
  }
}

/** Counts sign-ins after an expiry, so pages that failed meanwhile load again. */
function useSignInEpoch(kind: string): number {
  const previous = useRef(kind);
  const [epoch, setEpoch] = useState(0);
  useEffect(() => {
    if (previous.current === "expired" && kind === "signed-in") setEpoch((e) => e + 1);
    previous.current = kind;
  }, [kind]);
  return epoch;
}

export function App() {
  const session = useSessionState();
  const epoch = useSignInEpoch(session.kind);
  const [theme, toggleTheme] = useTheme();
  const route = parseRoute(usePathname());

  if (session.kind === "signed-out") {
    return (
      <>
        <div className="floating-toggle">
          <ThemeToggle theme={theme} onToggle={toggleTheme} />
        </div>
        <SignInPage />
      </>
    );
  }
  return (
    <ChatProvider>
      <Layout key={epoch} page={route.page} theme={theme} onToggleTheme={toggleTheme}>
        <Page route={route} />
      </Layout>
      {session.kind === "expired" && <SessionExpiredDialog email={session.user.email} />}
    </ChatProvider>
  );
}
