import { useState } from "react";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
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
  const registered = query.get("registered") === "1";
  const reset = query.get("reset") === "1";

  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(
    async () => {
      await auth.login(email, password);
      navigate(safeNext(query.get("next")), { replace: true });
    },
    () => setPassword(""),
  );

  return (
    <Page title="Log in">
      {registered && !error && (
        <Alert kind="success">Your account is ready: we sent you a link to confirm your address. Log in to continue.</Alert>
      )}
      {reset && !error && <Alert kind="success">Your password is changed. Log in with the new one.</Alert>}
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
