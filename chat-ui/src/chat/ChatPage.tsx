// The chat screen: conversations, the thread, the send box and the sources panel.

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { navigate } from "../app/router";
import { usePageTitle } from "../app/usePageTitle";
import { ErrorNote } from "../components/ErrorNote";
import { ListIcon } from "../components/icons";
import { useChat } from "./ChatProvider";
import { Composer } from "./Composer";
import { ConversationList } from "./ConversationList";
import { MessageView } from "./MessageView";
import type { AssistantMessage } from "./model";
import { activeAssistant } from "./reducer";
import type { ConnectionStatus, StatusInfo } from "./socket";
import { SourcesPanel } from "./SourcesPanel";

const SUGGESTIONS = [
  "How is our cloud spend tracking against budget?",
  "Which connectors are failing or drifting?",
  "Show pending schema mappings to review",
  "What is our refund policy?",
];

export function ChatPage({ conversationId }: { conversationId: string | null }) {
  usePageTitle("Chat");
  const chat = useChat();
  const { state } = chat;
  const [loadError, setLoadError] = useState<unknown>(null);
  const [sources, setSources] = useState<{ key: string; focus: number | null } | null>(null);
  const [listOpen, setListOpen] = useState(false);
  const thread = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);

  // The route picks the conversation: open it unless it is already on screen.
  const shownId = useRef(state.conversationId);
  shownId.current = state.conversationId;
  const loadConversation = chat.loadConversation;
  useEffect(() => {
    if (!conversationId || conversationId === shownId.current) return;
    setLoadError(null);
    setSources(null);
    loadConversation(conversationId).catch(setLoadError);
  }, [conversationId, loadConversation]);

  // A conversation started here (or kept from before) gets its own URL.
  useEffect(() => {
    if (!conversationId && state.conversationId) {
      navigate(`/chat/${encodeURIComponent(state.conversationId)}`, { replace: true });
    }
  }, [conversationId, state.conversationId]);

  // Follow the stream while the reader is at the bottom.
  useLayoutEffect(() => {
    const el = thread.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [state.messages]);

  const sourceMessage = sources
    ? (state.messages.find((m) => m.role === "assistant" && m.key === sources.key) as
        AssistantMessage | undefined)
    : undefined;
  const active = activeAssistant(state);

  function newChat() {
    chat.newConversation();
    setSources(null);
    setListOpen(false);
    navigate("/chat");
  }

  return (
    <div className={`chat${sourceMessage ? " chat--sources" : ""}${listOpen ? " chat--list-open" : ""}`}>
      <div className="chat__list" id="conversation-drawer">
        <ConversationList
          currentId={state.conversationId}
          version={chat.conversationsVersion}
          onNew={newChat}
          onPick={() => setListOpen(false)}
        />
      </div>
      <section className="chat__main" aria-labelledby="chat-title">
        <header className="chat__head">
          <button
            type="button"
            className="icon-button chat__list-toggle"
            aria-expanded={listOpen}
            aria-controls="conversation-drawer"
            aria-label="Conversations"
            onClick={() => setListOpen((o) => !o)}
          >
            <ListIcon />
          </button>
          <h1 id="chat-title" className="chat__title">
            Chat
          </h1>
          <ConnectionBadge status={chat.connection.status} info={chat.connection.info} />
        </header>
        <div
          className="chat__thread"
          ref={thread}
          onScroll={(e) => {
            const el = e.currentTarget;
            stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          }}
        >
          <ErrorNote error={loadError} prefix="Could not open this conversation" />
          {state.notice && (
            <div className="notice" role="alert" data-testid="chat-notice">
              <span>{state.notice.message}</span>
              <button type="button" className="link-button" onClick={chat.dismissNotice}>
                Dismiss
              </button>
            </div>
          )}
          {state.messages.length === 0 && !loadError ? (
            <div className="chat__empty">
              <h2>What would you like to know?</h2>
              <p className="muted">Answers come from your documents and live platform data, with sources.</p>
              <ul className="suggestions">
                {SUGGESTIONS.map((s) => (
                  <li key={s}>
                    <button type="button" className="suggestion" onClick={() => chat.send(s)}>
                      {s}
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            <ol className="messages" aria-label="Messages">
              {state.messages.map((m) => (
                <MessageView
                  key={m.key}
                  message={m}
                  onOpenSources={(message, n) => setSources({ key: message.key, focus: n })}
                  onApprovalDecided={chat.approvalChanged}
                />
              ))}
            </ol>
          )}
        </div>
        <div className="visually-hidden" role="status" aria-live="polite">
          {active ? "Answering…" : state.messages.length > 0 ? "Answer complete." : ""}
        </div>
        <Composer />
      </section>
      {sourceMessage && (
        <div className="chat__sources">
          <SourcesPanel
            citations={sourceMessage.citations}
            focus={sources?.focus ?? null}
            onClose={() => setSources(null)}
          />
        </div>
      )}
    </div>
  );
}

const CONNECTION_TEXT: Record<ConnectionStatus, string> = {
  idle: "Offline",
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

function ConnectionBadge({ status, info }: { status: ConnectionStatus; info: StatusInfo }) {
  const retry =
    status === "reconnecting" && info.retryInMs ? ` (retry in ${Math.ceil(info.retryInMs / 1000)} s)` : "";
  return (
    <span
      className="live-dot"
      data-state={status === "open" ? "live" : status === "closed" ? "offline" : "loading"}
      data-testid="connection-status"
      data-status={status}
    >
      <span className="live-dot__dot" aria-hidden="true" />
      <span className="live-dot__text">
        {CONNECTION_TEXT[status]}
        {retry}
      </span>
    </span>
  );
}
