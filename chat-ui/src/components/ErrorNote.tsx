import { describeError } from "../api/errors";

/** An error in a sentence, announced to screen readers. */
export function ErrorNote({ error, prefix }: { error: unknown; prefix?: string }) {
  if (!error) return null;
  return (
    <p className="error-note" role="alert">
      {prefix ? `${prefix}: ` : ""}
      {describeError(error)}
    </p>
  );
}
