import { type InputHTMLAttributes, useId } from "react";

interface FieldProps extends InputHTMLAttributes<HTMLInputElement> {
  label: string;
  /** Reasons from the API's `errors` for this field. */
  errors?: string[];
  hint?: string;
}

/** A labelled input whose errors are announced with it (aria-describedby). */
export function Field({ label, errors = [], hint, id, ...input }: FieldProps) {
  const generated = useId();
  const inputId = id ?? generated;
  const errorId = `${inputId}-error`;
  const hintId = `${inputId}-hint`;
  const describedBy = [hint ? hintId : null, errors.length ? errorId : null].filter(Boolean).join(" ");
  return (
    <div className={errors.length ? "field field-invalid" : "field"}>
      <label htmlFor={inputId}>{label}</label>
      {hint && (
        <p className="field-hint" id={hintId}>
          {hint}
        </p>
      )}
      <input
        id={inputId}
        aria-invalid={errors.length ? true : undefined}
        aria-describedby={describedBy || undefined}
        {...input}
      />
      {errors.length > 0 && (
        <ul className="field-errors" id={errorId}>
          {errors.map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The password the user has now, asked before a change to the account. */
export function CurrentPasswordField({
  label = "Current password",
  name = "current_password",
  ...rest
}: Omit<FieldProps, "label" | "type" | "autoComplete" | "required"> & { label?: string }) {
  return <Field label={label} name={name} type="password" autoComplete="current-password" required {...rest} />;
}
