// Errors shared by the REST client, the session and the chat socket.

/** The session is over (signed out, or the server refused the refresh token). */
export class SessionEndedError extends Error {
  constructor(message = "the session has ended") {
    super(message);
    this.name = "SessionEndedError";
  }
}

/** A non-2xx answer, with the server's `{error_type, message}` when it sent one. */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = "HttpStatusError";
  }

  static async from(res: Response): Promise<HttpStatusError> {
    let errorType = `http_${res.status}`;
    let message = res.statusText || `request failed with status ${res.status}`;
    try {
      const body = (await res.json()) as { error_type?: unknown; message?: unknown };
      if (typeof body.error_type === "string") errorType = body.error_type;
      if (typeof body.message === "string") message = body.message;
    } catch {
      // Not JSON (a proxy error page): keep the status text.
    }
    return new HttpStatusError(res.status, errorType, message);
  }
}

/** A message for people from any error. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
