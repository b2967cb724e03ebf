// Owns the chat connection and the open conversation for the whole app, so
// a stream keeps going while the user looks at another page, and a session
// refresh (or a sign-in after the session expired) does not lose it.

import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useReducer,
  useRef,
  useState,
} from "react";
import type { Approval } from "../api/types";
import { useServices, useSessionState } from "../app/context";
import { type ChatState, initialChatState } from "./model";
import { PERSONAS, type Persona } from "./protocol";
import { chatReducer, resumeCommands, sendCommand } from "./reducer";
import { ChatSocket, type ConnectionStatus, type StatusInfo, chatSocketUrl } from "./socket";

export type PersonaChoice = Persona | "auto";

interface ChatContextValue {
  state: ChatState;
  connection: { status: ConnectionStatus; info: StatusInfo };
  persona: PersonaChoice;
  setPersona(choice: PersonaChoice): void;
  send(text: string): void;
  cancel(key: string): void;
  newConversation(): void;
  loadConversation(id: string): Promise<void>;
  approvalChanged(approval: Approval): void;
  dismissNotice(): void;
  /** Bumped when a conversation gains a message, so lists can refresh. */
  conversationsVersion: number;
}

const ChatContext = createContext<ChatContextValue | null>(null);

export function useChat(): ChatContextValue {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error("useChat outside ChatProvider");
  return chat;
}

const PERSONA_KEY = "aos.persona";

function storedPersona(): PersonaChoice {
  try {
    const v = localStorage.getItem(PERSONA_KEY);
    return v && (PERSONAS as readonly string[]).includes(v) ? (v as Persona) : "auto";
  } catch {
    return "auto";
  }
}

function newClientMsgId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function ChatProvider({ children }: { children: ReactNode }) {
  const { session, api } = useServices();
  const sessionState = useSessionState();
  const [state, dispatch] = useReducer(chatReducer, initialChatState);
  const [connection, setConnection] = useState<ChatContextValue["connection"]>({
    status: "idle",
    info: { attempt: 0 },
  });
  const [persona, setPersonaState] = useState<PersonaChoice>(storedPersona);
  const [conversationsVersion, setConversationsVersion] = useState(0);
  const stateRef = useRef(state);
  stateRef.current = state;
  const sentCancels = useRef(new Set<string>());

  const socket = useMemo(() => {
    let lastToken: string | null = null;
    return new ChatSocket({
      url: async ({ authFailed }) => {
        lastToken =
          authFailed && lastToken ? await session.replaceRejected(lastToken) : await session.accessToken();
        return chatSocketUrl(lastToken, window.location);
      },
      onEvent: (event) => {
        dispatch({ type: "event", event });
        if (event.type === "message.start" || event.type === "message.end") {
          setConversationsVersion((v) => v + 1);
        }
      },
      onOpen: () => {
        sentCancels.current.clear();
        return resumeCommands(stateRef.current);
      },
      onStatus: (status, info) => setConnection({ status, info }),
    });
  }, [session]);

  const signedIn = sessionState.kind === "signed-in";
  useEffect(() => {
    if (!signedIn) return;
    socket.start();
    return () => socket.stop();
  }, [socket, signedIn]);

  useEffect(() => {
    const online = () => socket.reconnectNow();
    window.addEventListener("online", online);
    return () => window.removeEventListener("online", online);
  }, [socket]);

  // A stop pressed before the server named the message is sent once it does.
  useEffect(() => {
    for (const m of state.messages) {
      if (m.role !== "assistant" || !m.cancelRequested || m.id === null) continue;
      if (sentCancels.current.has(m.id)) continue;
      if (socket.send({ type: "chat.cancel", message_id: m.id })) sentCancels.current.add(m.id);
    }
  }, [state.messages, socket]);

  const send = useCallback(
    (text: string) => {
      const clientMsgId = newClientMsgId();
      const pinned = persona === "auto" ? null : persona;
      dispatch({ type: "send", clientMsgId, text, persona: pinned });
      // If the socket is down this is sent on reconnect (resumeCommands).
      socket.send(
        sendCommand({
          client_msg_id: clientMsgId,
          text,
          persona: pinned,
          conversation_id: stateRef.current.conversationId,
        }),
      );
    },
    [persona, socket],
  );

  const loadConversation = useCallback(
    async (id: string) => {
      const conversation = await api.conversation(id);
      const action = { type: "history", conversation } as const;
      dispatch(action);
      // Resume anything still streaming in it.
      for (const command of resumeCommands(chatReducer(initialChatState, action))) socket.send(command);
    },
    [api, socket],
  );

  const value = useMemo<ChatContextValue>(
    () => ({
      state,
      connection,
      persona,
      conversationsVersion,
      setPersona(choice) {
        setPersonaState(choice);
        try {
          if (choice === "auto") localStorage.removeItem(PERSONA_KEY);
          else localStorage.setItem(PERSONA_KEY, choice);
        } catch {
          // Private mode: the choice lasts for this page.
        }
      },
      send,
      cancel(key) {
        dispatch({ type: "cancel", key });
      },
      newConversation() {
        dispatch({ type: "new-conversation" });
      },
      loadConversation,
      approvalChanged(approval) {
        dispatch({ type: "approval", approval });
      },
      dismissNotice() {
        dispatch({ type: "dismiss-notice" });
      },
    }),
    [state, connection, persona, conversationsVersion, send, loadConversation],
  );

  return <ChatContext.Provider value={value}>{children}</ChatContext.Provider>;
}
