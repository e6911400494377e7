import { useCallback, useEffect, useRef, useState } from "react";
import { type User, ensure, unwrap } from "../api/client";
import { messageFor } from "../api/problem";
import { useAuth } from "../auth/AuthContext";
import { Alert } from "../components/Alert";
import { Page } from "../components/Page";
import { ResetTwoFactor } from "../components/ResetTwoFactor";
import { formatDate } from "../format";

const PAGE_SIZE = 20;

function UserRow({
  user,
  self,
  onChanged,
  onDeleted,
  onError,
}: {
  user: User;
  self: boolean;
  onChanged: (user: User) => void;
  onDeleted: (id: string) => void;
  onError: (message: string | null) => void;
}) {
  const { api } = useAuth();
  const [role, setRole] = useState(user.role);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const deleteButton = useRef<HTMLButtonElement>(null);
  useEffect(() => setRole(user.role), [user.role]);
  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const saveRole = async () => {
    setBusy(true);
    try {
      onChanged(unwrap(await api.PATCH("/api/users/{id}", { params: { path: { id: user.id } }, body: { role } })));
      onError(null);
    } catch (e) {
      setRole(user.role);
      onError(messageFor(e));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    try {
      ensure(await api.DELETE("/api/users/{id}", { params: { path: { id: user.id } } }));
      onDeleted(user.id);
      onError(null);
    } catch (e) {
      onError(messageFor(e));
      setConfirming(false);
      setBusy(false);
      deleteButton.current?.focus();
    }
  };

  const selectId = `role-${user.id}`;
  return (
    <tr>
      <td data-label="Name">
        {user.name}
        {self && <span className="muted"> (you)</span>}
      </td>
      <td data-label="Email">{user.email}</td>
      <td data-label="Address">
        {user.email_verified_at ? (
          <span className="badge badge-ready" title={`Verified ${formatDate(user.email_verified_at)}`}>
            verified
          </span>
        ) : (
          <span className="badge">not verified</span>
        )}
      </td>
      <td data-label="2FA">
        <span className="two-factor-cell">
          {user.totp_enabled ? <span className="badge badge-on">on</span> : <span className="muted">off</span>}
          {user.totp_enabled && <ResetTwoFactor user={user} onChanged={onChanged} onError={onError} />}
        </span>
      </td>
      <td data-label="Role">
        <label htmlFor={selectId} className="visually-hidden">
          Role of {user.email}
        </label>
        <select id={selectId} value={role} disabled={busy} onChange={(e) => setRole(e.target.value as User["role"])}>
          <option value="user">user</option>
          <option value="admin">admin</option>
        </select>
        {role !== user.role && (
          <button type="button" className="button-small" disabled={busy} onClick={saveRole} aria-label={`Save role of ${user.email}`}>Save
          </button>
        )}
      </td>
      <td data-label="Created">
        <time dateTime={user.created_at}>{formatDate(user.created_at)}</time>
      </td>
      <td data-label="Actions" className="actions">
        {confirming ? (
          <span className="confirm" role="group" aria-label={`Delete ${user.email}?`}>
            <span>Delete this account and its files?</span>
            <button ref={confirmButton} type="button" className="button-danger button-small" disabled={busy} onClick={remove} aria-label={`Yes, delete ${user.email}`}>Yes, delete
            </button>
            <button
              type="button"
              className="button-small"
              onClick={() => {
                setConfirming(false);
                deleteButton.current?.focus();
              }}
            >
              Keep
            </button>
          </span>
        ) : (
          <button
            ref={deleteButton}
            type="button"
            className="button-small"
            aria-label={`Delete ${user.email}`}
            onClick={() => setConfirming(true)}
          >
            Delete
          </button>
        )}
      </td>
    </tr>
  );
}

export function AdminPage() {
  const { api, user: me } = useAuth();
  const [users, setUsers] = useState<User[]>([]);
  // Cursors of the pages before the current one (keyset pagination goes forward only).
  const [history, setHistory] = useState<(string | null)[]>([]);
  const [current, setCurrent] = useState<string | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(
    async (cursor: string | null) => {
      setLoading(true);
      try {
        const query = cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE };
        const page = unwrap(await api.GET("/api/users", { params: { query } }));
        setUsers(page.items);
        setNext(page.next_cursor);
        setCurrent(cursor);
        setError(null);
      } catch (e) {
        setError(messageFor(e));
      } finally {
        setLoading(false);
      }
    },
    [api],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const forward = () => {
    setHistory((h) => [...h, current]);
    void load(next);
  };
  const back = () => {
    const previous = history[history.length - 1] ?? null;
    setHistory((h) => h.slice(0, -1));
    void load(previous);
  };

  return (
    <Page title="Users">
      {error && <Alert>{error}</Alert>}
      <table className="table" aria-busy={loading}>
        <caption className="visually-hidden">Accounts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Address</th>
            <th scope="col">2FA</th>
            <th scope="col">Role</th>
            <th scope="col">Created</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <UserRow
              key={user.id}
              user={user}
              self={user.id === me?.id}
              onChanged={(changed) => setUsers((list) => list.map((u) => (u.id === changed.id ? changed : u)))}
              onDeleted={(id) => setUsers((list) => list.filter((u) => u.id !== id))}
              onError={setError}
            />
          ))}
        </tbody>
      </table>
      {!loading && users.length === 0 && !error && <p className="muted">No accounts on this page.</p>}
      <nav className="pager" aria-label="Pages of users">
        <button type="button" disabled={loading || history.length === 0} onClick={back}>
          Previous page
        </button>
        <span aria-live="polite">Page {history.length + 1}</span>
        <button type="button" disabled={loading || !next} onClick={forward}>
          Next page
        </button>
      </nav>
    </Page>
  );
}
