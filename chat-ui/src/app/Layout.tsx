// The frame around every page: brand, navigation, theme toggle, who is signed in.

import type { ReactNode } from "react";
import { useApi, useServices, useSessionState } from "./context";
import { onLinkClick } from "./router";
import { useAsync } from "../components/useAsync";
import { useChat } from "../chat/ChatProvider";
import { MoonIcon, SunIcon } from "../components/icons";
import type { Theme } from "./theme";

const NAV = [
  { path: "/chat", page: "chat", label: "Chat" },
  { path: "/approvals", page: "approvals", label: "Approvals" },
  { path: "/knowledge", page: "knowledge", label: "Knowledge" },
  { path: "/usage", page: "usage", label: "Usage" },
  { path: "/platform", page: "platform", label: "Platform" },
] as const;

interface Props {
  page: string;
  theme: Theme;
  onToggleTheme: () => void;
  children: ReactNode;
}

export function Layout({ page, theme, onToggleTheme, children }: Props) {
  const api = useApi();
  const { session } = useServices();
  const state = useSessionState();
  const user = state.kind === "signed-in" ? state.session.user : state.kind === "expired" ? state.user : null;
  const decided = Object.keys(useChat().state.decisions).length;
  const pending = useAsync(() => api.approvals("pending"), [page, decided]);
  const pendingCount = pending.data?.approvals.length ?? 0;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a href="/chat" className="brand" onClick={(e) => onLinkClick(e, "/chat")} aria-label="AOS home">
          <span className="brand__mark" aria-hidden="true">
            A
          </span>
          <span className="brand__name">AOS</span>
        </a>
        <nav className="nav" aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.path}>
                <a
                  href={item.path}
                  className="nav__link"
                  aria-current={page === item.page ? "page" : undefined}
                  onClick={(e) => onLinkClick(e, item.path)}
                  data-testid={`nav-${item.page}`}
                >
                  {item.label}
                  {item.page === "approvals" && pendingCount > 0 && (
                    <span className="nav__badge" aria-label={`${pendingCount} pending`}>
                      {pendingCount}
                    </span>
                  )}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar__end">
          <ThemeToggle theme={theme} onToggle={onToggleTheme} />
          {user && (
            <div className="user" data-testid="user-menu">
              <span className="user__name">{user.display_name || user.email}</span>
              <span className="user__role badge">{user.role}</span>
              <button
                type="button"
                className="button button--small"
                onClick={() => void session.signOut()}
                data-testid="sign-out"
              >
                Sign out
              </button>
            </div>
          )}
        </div>
      </header>
      <main id="main" className="app__main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function ThemeToggle({ theme, onToggle }: { theme: Theme; onToggle: () => void }) {
  const dark = theme === "dark";
  return (
    <button
      type="button"
      className="icon-button theme-toggle"
      aria-pressed={dark}
      aria-label="Dark mode"
      title={dark ? "Switch to light mode" : "Switch to dark mode"}
      onClick={onToggle}
      data-testid="theme-toggle"
    >
      {dark ? <SunIcon /> : <MoonIcon />}
    </button>
  );
}
