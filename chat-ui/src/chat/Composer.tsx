// The send box: persona chip, text, Send (or Stop while an answer streams).

import { type FormEvent, useRef, useState } from "react";
import { SendIcon, StopIcon } from "../components/icons";
import { useChat } from "./ChatProvider";
import { PersonaMenu } from "./PersonaMenu";
import { activeAssistant } from "./reducer";

const MAX_CHARS = 8000;

export function Composer() {
  const chat = useChat();
  const [text, setText] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const active = activeAssistant(chat.state);
  const latest = [...chat.state.messages].reverse().find((m) => m.role === "assistant" && m.persona !== null);
  const detected =
    latest && latest.role === "assistant" && latest.persona
      ? { persona: latest.persona, confidence: latest.confidence }
      : null;

  function submit(event?: FormEvent) {
    event?.preventDefault();
    const trimmed = text.trim();
    if (!trimmed || active) return;
    chat.send(trimmed);
    setText("");
    input.current?.focus();
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Ask a question">
      <PersonaMenu value={chat.persona} onChange={chat.setPersona} detected={detected} />
      <div className="composer__row">
        <label htmlFor="chat-input" className="visually-hidden">
          Message
        </label>
        <textarea
          id="chat-input"
          ref={input}
          className="composer__input"
          data-testid="chat-input"
          placeholder="Ask about spend, pipeline, connectors, policies…"
          rows={1}
          value={text}
          maxLength={MAX_CHARS}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              submit();
            }
          }}
        />
        {active ? (
          <button
            type="button"
            className="button button--danger composer__button"
            data-testid="stop-button"
            aria-label="Stop the answer"
            disabled={active.cancelRequested}
            onClick={() => chat.cancel(active.key)}
          >
            <StopIcon /> <span className="composer__button-text">Stop</span>
          </button>
        ) : (
          <button
            type="submit"
            className="button button--primary composer__button"
            data-testid="send-button"
            aria-label="Send"
            disabled={!text.trim()}
          >
            <SendIcon /> <span className="composer__button-text">Send</span>
          </button>
        )}
      </div>
    </form>
  );
}
