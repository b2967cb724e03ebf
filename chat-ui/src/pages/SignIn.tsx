// Sign-in: a page when signed out, a dialog over the current screen when the
// session expired (so the open conversation stays where it was).

import { type FormEvent, useEffect, useRef, useState } from "react";
import { describeError } from "../api/errors";
import { useServices } from "../app/context";
import { usePageTitle } from "../app/usePageTitle";

/** The sign-in fields; with `email` set, only the password is asked (the session's own user). */
export function SignInForm({ email: presetEmail }: { email?: string }) {
  const { session } = useServices();
  const [email, setEmail] = useState(presetEmail ?? "");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    (presetEmail ? passwordRef : emailRef).current?.focus();
  }, [presetEmail]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await session.signIn(email.trim(), password);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  }

  return (
    <form
      className="signin__form"
      onSubmit={submit}
      data-testid="signin-form"
      aria-describedby={error ? "signin-error" : undefined}
    >
      <label className="field">
        <span>Email</span>
        <input
          ref={emailRef}
          className="input"
          type="email"
          name="email"
          autoComplete="username"
          required
          readOnly={presetEmail !== undefined}
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          data-testid="signin-email"
        />
      </label>
      <label className="field">
        <span>Password</span>
        <input
          ref={passwordRef}
          className="input"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="signin-password"
        />
      </label>
      {error && (
        <p id="signin-error" className="error-note" role="alert" data-testid="signin-error">
          {error}
        </p>
      )}
      <button
        type="submit"
        className="button button--primary button--wide"
        disabled={busy}
        data-testid="signin-submit"
      >
        {busy ? "Signing in…" : "Sign in"}
      </button>
    </form>
  );
}

export function SignInPage() {
  usePageTitle("Sign in");
  return (
    <main className="signin" id="main">
      <div className="signin__card">
        <div className="brand brand--large" aria-hidden="true">
          <span className="brand__mark">A</span>
        </div>
        <h1>AutonomOS Control Center</h1>
        <p className="muted">Sign in to ask about your business.</p>
        <SignInForm />
      </div>
    </main>
  );
}

/** Shown over the app when the session ran out. */
export function SessionExpiredDialog({ email }: { email: string }) {
  const { session } = useServices();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal?.();
  }, []);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby="expired-title"
      data-testid="session-expired"
      onCancel={(e) => e.preventDefault()}
    >
      <h2 id="expired-title">Your session ended</h2>
      <p className="muted">Sign in again to carry on; your conversation is kept.</p>
      <SignInForm email={email} />
      <p className="small">
        <button type="button" className="link-button" onClick={() => void session.signOut()}>
          Sign in as someone else
        </button>
      </p>
    </dialog>
  );
}
