// Past conversations, newest first, and a button for a new one.

import { useEffect } from "react";
import type { ConversationSummary } from "../api/types";
import { useApi } from "../app/context";
import { onLinkClick } from "../app/router";
import { ErrorNote } from "../components/ErrorNote";
import { PlusIcon } from "../components/icons";
import { useAsync } from "../components/useAsync";
import { personaLabel, relativeTime } from "../format";

interface Props {
  currentId: string | null;
  version: number;
  onNew: () => void;
  onPick: () => void;
}

export function ConversationList({ currentId, version, onNew, onPick }: Props) {
  const api = useApi();
  const list = useAsync(() => api.conversations(), []);
  const { reload } = list;

  useEffect(() => {
    if (version === 0) return;
    // Titles and order change when a message starts or ends; coalesce bursts.
    const t = setTimeout(reload, 400);
    return () => clearTimeout(t);
  }, [version, reload]);

  const conversations: ConversationSummary[] = list.data?.conversations ?? [];
  return (
    <nav className="conversations" aria-label="Conversations">
      <button
        type="button"
        className="button button--primary conversations__new"
        onClick={onNew}
        data-testid="new-chat"
      >
        <PlusIcon /> New chat
      </button>
      <ErrorNote error={list.error} prefix="Could not load conversations" />
      {!list.loading && !list.error && conversations.length === 0 && (
        <p className="muted small">No conversations yet.</p>
      )}
      <ul className="conversations__list" data-testid="conversation-list">
        {conversations.map((c) => (
          <li key={c.id}>
            <a
              href={`/chat/${encodeURIComponent(c.id)}`}
              className="conversations__item"
              aria-current={c.id === currentId ? "page" : undefined}
              data-testid="conversation-item"
              onClick={(e) => {
                onLinkClick(e, `/chat/${encodeURIComponent(c.id)}`);
                onPick();
              }}
            >
              <span className="conversations__title">{c.title || "Untitled"}</span>
              <span className="muted small">
                {c.persona ? `${personaLabel(c.persona)} · ` : ""}
                {relativeTime(c.updated_at)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
