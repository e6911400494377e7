// What every form of the app does on submit: it shows itself busy and
// clears the last error, runs the form's action, and keeps a failure to
// show (the alert, and each field's reasons from the problem document).
// What success does is the action's own.

import { type FormEvent, useState } from "react";
import { ApiError } from "../api/problem";

export interface FormSubmit {
  busy: boolean;
  /** The last failure (an ApiError, a NetworkError, ...), or null. */
  error: unknown;
  /** The server's reasons for one field, if the last failure gave any. */
  fieldErrors: (name: string) => string[];
  onSubmit: (event: FormEvent) => Promise<void>;
}

/** `onFailure` runs after a failure is kept (to clear a password field, say). */
export function useFormSubmit(action: () => Promise<void>, onFailure?: (error: unknown) => void): FormSubmit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (e) {
      setError(e);
      onFailure?.(e);
    } finally {
      setBusy(false);
    }
  };
  const fieldErrors = (name: string) => (error instanceof ApiError ? error.field(name) : []);
  return { busy, error, fieldErrors, onSubmit };
}
