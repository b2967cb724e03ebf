import { onLinkClick } from "../app/router";
import { usePageTitle } from "../app/usePageTitle";

export function NotFoundPage({ path }: { path: string }) {
  usePageTitle("Not found");
  return (
    <div className="page">
      <h1>Not found</h1>
      <p className="muted">
        Nothing lives at <code>{path}</code>.{" "}
        <a href="/chat" onClick={(e) => onLinkClick(e, "/chat")}>
          Back to chat
        </a>
      </p>
    </div>
  );
}
