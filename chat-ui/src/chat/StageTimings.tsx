// Where an answer's time went (classify, retrieve, tools, first token, total)
// and the tokens it used, for the curious.

import { milliseconds } from "../format";
import type { Timings, Usage } from "./protocol";

const STAGES: { key: keyof Timings; label: string }[] = [
  { key: "classify", label: "Classify" },
  { key: "retrieve", label: "Retrieve" },
  { key: "tools", label: "Tools" },
  { key: "first_token", label: "First token" },
];

export function StageTimings({ timings, usage }: { timings: Timings | null; usage: Usage | null }) {
  if (!timings && !usage) return null;
  const total = timings?.total ?? null;
  return (
    <details className="timings" data-testid="stage-timings">
      <summary>
        {total != null ? milliseconds(total) : "Timings"}
        {usage && ` · ${usage.prompt_tokens + usage.completion_tokens} tokens`}
      </summary>
      {timings && (
        <dl className="timings__list">
          {STAGES.map(({ key, label }) => {
            const ms = timings[key];
            if (ms == null) return null;
            const width = total ? Math.max(2, Math.min(100, (ms / total) * 100)) : 0;
            return (
              <div key={key} className="timings__row">
                <dt>{label}</dt>
                <dd>
                  <span className="timings__bar" style={{ width: `${width}%` }} aria-hidden="true" />
                  {milliseconds(ms)}
                </dd>
              </div>
            );
          })}
          <div className="timings__row">
            <dt>Total</dt>
            <dd>{milliseconds(total)}</dd>
          </div>
        </dl>
      )}
      {usage && (
        <p className="muted small">
          {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens
        </p>
      )}
    </details>
  );
}
