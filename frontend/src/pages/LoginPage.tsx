import { useState } from "react";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { LoginCodeForm } from "../components/LoginCodeForm";
import { Page } from "../components/Page";
import { useFormSubmit } from "../components/useFormSubmit";
import { Link, navigate, useLocation } from "../router";

/** Only local paths: a `next` parameter must not send anyone to another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/uploads";
}

export function LoginPage() {
  const auth = useAuth();
  const { query } = useLocation();
  const [email, setEmail] = useState(query.get("email") ?? "");
  const [password, setPassword] = useState("");
  // With two-factor sign-in on, the password step's challenge (memory only).
  const [challenge, setChallenge] = useState<string | null>(null);
  // Why the person is back at the password step (a spent or expired challenge).
  const [restarted, setRestarted] = useState<string | null>(null);
  const registered = query.get("registered") === "1";
  const reset = query.get("reset") === "1";
  const done = () => navigate(safeNext(query.get("next")), { replace: true });

  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      setRestarted(null);
      const result = await auth.login(email, password);
      setPassword("");
      if (result.status === "codeNeeded") setChallenge(result.challenge);
      else done();
    },
    () => setPassword(""),
  );

  if (challenge !== null) {
    return (
      <Page title="Log in">
        <LoginCodeForm
          challenge={challenge}
          onSignedIn={done}
          onRestart={(reason) => {
            setChallenge(null);
            setRestarted(reason);
          }}
        />
      </Page>
    );
  }

  return (
    <Page title="Log in">
      {restarted && !error && <Alert focus>{restarted}</Alert>}
      {registered && !error && !restarted && (
        <Alert kind="success">Your account is ready: we sent you a link to confirm your address. Log in to continue.</Alert>
      )}
      {reset && !error && !restarted && <Alert kind="success">Your password is changed. Log in with the new one.</Alert>}
      {auth.restoreError && !error && <Alert>{auth.restoreError}</Alert>}
      {error != null && (
        <Alert focus>
          {messageFor(error)}
        </Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy}>
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          errors={fieldErrors("email")}
          onChange={(e) => setEmail(e.target.value)}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="current-password"
          required
          value={password}
          errors={fieldErrors("password")}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? "Logging in…" : "Log in"}
        </button>
      </form>
      <p>
        <Link href="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        No account yet? <Link href="/register">Create one</Link>.
      </p>
    </Page>
  );
}
