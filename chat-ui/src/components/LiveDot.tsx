// Says whether what a section shows is live backend data or nothing.

export type LiveState = "loading" | "live" | "empty" | "offline";

const TEXT: Record<LiveState, string> = {
  loading: "Loading…",
  live: "Live data",
  empty: "No live data",
  offline: "Unavailable",
};

export function LiveDot({ state, detail }: { state: LiveState; detail?: string | undefined }) {
  return (
    <span className="live-dot" data-state={state} data-testid="live-status" title={detail ?? TEXT[state]}>
      <span className="live-dot__dot" aria-hidden="true" />
      <span className="live-dot__text">{TEXT[state]}</span>
    </span>
  );
}

/** The dot for a fetch: live when it returned something, empty when nothing, offline on error. */
export function liveStateOf(loading: boolean, error: unknown, hasData: boolean): LiveState {
  if (loading) return "loading";
  if (error) return "offline";
  return hasData ? "live" : "empty";
}
