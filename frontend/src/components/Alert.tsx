import { type ReactNode, useEffect, useRef } from "react";

/** An error or notice. Errors are announced (role=alert) and take focus when `focus` is set. */
export function Alert({
  kind = "error",
  children,
  focus = false,
}: {
  kind?: "error" | "success" | "info";
  children: ReactNode;
  focus?: boolean;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focus) ref.current?.focus();
  }, [focus, children]);
  return (
    <div
      ref={ref}
      className={`alert alert-${kind}`}
      role={kind === "error" ? "alert" : "status"}
      tabIndex={focus ? -1 : undefined}
    >
      {children}
    </div>
  );
}
