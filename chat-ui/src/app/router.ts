// A small history-API router: the server sends index.html for any unknown
// path, so `/chat/<id>`, `/approvals` and so on can be bookmarked.

import { type MouseEvent, useSyncExternalStore } from "react";

const CHANGE = "aos:navigate";

export type Route =
  | { page: "chat"; conversationId: string | null }
  | { page: "approvals" }
  | { page: "knowledge" }
  | { page: "usage" }
  | { page: "platform" }
  | { page: "not-found"; path: string };

export function parseRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean);
  const [first, second] = parts;
  if (first === undefined) return { page: "chat", conversationId: null };
  if (first === "chat" && parts.length <= 2) {
    return { page: "chat", conversationId: second ? decodeURIComponent(second) : null };
  }
  if (
    parts.length === 1 &&
    (first === "approvals" || first === "knowledge" || first === "usage" || first === "platform")
  ) {
    return { page: first };
  }
  return { page: "not-found", path: pathname };
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(CHANGE));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(CHANGE, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(CHANGE, onChange);
  };
}

export function usePathname(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Follows a same-origin link without a page load (plain clicks only). */
export function onLinkClick(event: MouseEvent<HTMLAnchorElement>, path: string): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  ) {
    return;
  }
  event.preventDefault();
  navigate(path);
}
