import { useEffect, useState } from "react";
import { unwrap } from "../api/client";
import { ApiError, messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { EmailChangeForm } from "../components/EmailChangeForm";
import { CurrentPasswordField, Field } from "../components/Field";
import { Page } from "../components/Page";
import { TwoFactorSettings } from "../components/TwoFactorSettings";
import { useFormSubmit } from "../components/useFormSubmit";

function NameForm() {
  const { api, user, setUser } = useAuth();
  const [name, setName] = useState(user?.name ?? "");
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (user) setName(user.name);
  }, [user]);

  const { busy, error, fieldErrors, onSubmit } = useFormSubmit(async () => {
    setSaved(false);
    const updated = unwrap(await api.PATCH("/api/users/me", { body: { name } }));
    // Without `email` in the body the answer is 200 with the account (202 is an email change's).
    if ("id" in updated) setUser(updated);
    setSaved(true);
  });
  return (
    <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="name-heading">
      <h2 id="name-heading">Name</h2>
      {error != null && <Alert>{messageFor(error)}</Alert>}
      {saved && <Alert kind="success">Your name was saved.</Alert>}
      <Field
        label="Display name"
        name="name"
        autoComplete="name"
        required
        maxLength={100}
        value={name}
        errors={fieldErrors("name")}
        onChange={(e) => setName(e.target.value)}
      />
      <button type="submit" className="button-primary" disabled={busy}>
        Save name
      </button>
    </form>
  );
}

function PasswordForm() {
  const { api, setUser } = useAuth();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [saved, setSaved] = useState(false);

  const mismatch = confirm !== "" && confirm !== next;
  const { busy, error, fieldErrors: field, onSubmit } = useFormSubmit(async () => {
    setSaved(false);
    if (next !== confirm) {
      throw new ApiError({ status: 422, detail: "The new passwords do not match.", fieldErrors: { confirm: ["Type the same new password twice."] } });
    }
    const updated = unwrap(await api.PATCH("/api/users/me", { body: { password: next, current_password: current } }));
    // Without `email` in the body the answer is 200 with the account (202 is an email change's).
    if ("id" in updated) setUser(updated);
    setSaved(true);
    setCurrent("");
    setNext("");
    setConfirm("");
  });
  return (
    <form className="form card" onSubmit={onSubmit} noValidate aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      {error != null && <Alert>{messageFor(error)}</Alert>}
      {saved && <Alert kind="success">Your password was changed.</Alert>}
      <CurrentPasswordField
        value={current}
        errors={field("current_password")}
        onChange={(e) => setCurrent(e.target.value)}
      />
      <Field
        label="New password"
        type="password"
        name="password"
        autoComplete="new-password"
        required
        minLength={8}
        maxLength={128}
        hint="8 to 128 characters."
        value={next}
        errors={field("password")}
        onChange={(e) => setNext(e.target.value)}
      />
      <Field
        label="New password, again"
        type="password"
        name="confirm"
        autoComplete="new-password"
        required
        value={confirm}
        errors={mismatch ? ["Type the same new password twice."] : field("confirm")}
        onChange={(e) => setConfirm(e.target.value)}
      />
      <button type="submit" className="button-primary" disabled={busy}>
        Change password
      </button>
    </form>
  );
}

export function ProfilePage() {
  // A failure to read the account is shown by the app's layout.
  const { user } = useAuth();
  return (
    <Page title="Profile">
      {user && (
        <dl className="facts">
          <dt>Email</dt>
          <dd>{user.email}</dd>
          <dt>Role</dt>
          <dd>{user.role}</dd>
        </dl>
      )}
      <div className="cards">
        <NameForm />
        <EmailChangeForm />
        <PasswordForm />
        <TwoFactorSettings />
      </div>
    </Page>
  );
}
