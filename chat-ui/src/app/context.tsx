// App-wide services (session, REST client) and the hooks that read them.

import { createContext, useContext, useSyncExternalStore } from "react";
import type { ApiClient } from "../api/client";
import type { SessionManager, SessionState } from "../api/session";
import { roleAtLeast } from "../api/types";

export interface Services {
  session: SessionManager;
  api: ApiClient;
}

export const ServicesContext = createContext<Services | null>(null);

export function useServices(): Services {
  const services = useContext(ServicesContext);
  if (!services) throw new Error("useServices outside ServicesContext");
  return services;
}

export function useApi(): ApiClient {
  return useServices().api;
}

export function useSessionState(): SessionState {
  const { session } = useServices();
  return useSyncExternalStore(
    (onChange) => session.subscribe(onChange),
    () => session.current,
  );
}

/** The signed-in user's role, or null. */
export function useRole(): string | null {
  const state = useSessionState();
  return state.kind === "signed-in"
    ? state.session.user.role
    : state.kind === "expired"
      ? state.user.role
      : null;
}

export function useCanDecide(decideRole: string | null | undefined): boolean {
  const role = useRole();
  return roleAtLeast(role, decideRole ?? "approver");
}
