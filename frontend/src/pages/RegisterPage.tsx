import { useState } from "react";
import { ApiError, messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Field } from "../components/Field";
import { Page } from "../components/Page";
import { useFormSubmit } from "../components/useFormSubmit";
import { Link, navigate } from "../router";

export function RegisterPage() {
  const { session } = useAuth();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(async () => {
    const user = await session.register({ email, password, name });
    navigate(`/login?registered=1&email=${encodeURIComponent(user.email)}`);
  });

  const conflict = error instanceof ApiError && error.status === 409;
  return (
    <Page title="Create an account">
      {error != null && (
        <Alert focus>
          {conflict ? (
            <>
              {messageFor(error)} <Link href={`/login?email=${encodeURIComponent(email)}`}>Log in instead</Link>.
            </>
          ) : (
            messageFor(error)
          )}
        </Alert>
      )}
      <form className="form" onSubmit={onSubmit} noValidate aria-busy={busy}>
        <Field
          label="Name"
          name="name"
          autoComplete="name"
          required
          maxLength={100}
          value={name}
          errors={fieldErrors("name")}
          onChange={(e) => setName(e.target.value)}
        />
        <Field
          label="Email"
          type="email"
          name="email"
          autoComplete="email"
          required
          value={email}
          errors={fieldErrors("email")}
          onChange={(e) => setEmail(e.target.value)}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={8}
          maxLength={128}
          hint="8 to 128 characters."
          value={password}
          errors={fieldErrors("password")}
          onChange={(e) => setPassword(e.target.value)}
        />
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Already registered? <Link href="/login">Log in</Link>.
      </p>
    </Page>
  );
}
