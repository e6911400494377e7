// The ten recovery codes, right after two-factor sign-in is turned on. The
// server keeps only their hashes, so this is the one time they can be read.

import { useEffect, useRef } from "react";

export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // The form that had focus is gone; the warning is what to read first.
  useEffect(() => heading.current?.focus(), []);
  return (
    <div className="recovery" role="group" aria-labelledby="recovery-heading">
      <h3 id="recovery-heading" ref={heading} tabIndex={-1}>
        Save these recovery codes now
      </h3>
      <p>
        Two-factor sign-in is on. If you lose your authenticator app, each of these codes signs you in once in place of
        a code. <strong>They are shown only this once:</strong> keep them somewhere safe, such as a password manager or
        on paper.
      </p>
      <ol className="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code>{code}</code>
          </li>
        ))}
      </ol>
      <button type="button" className="button-primary" onClick={onDone}>
        Done
      </button>
    </div>
  );
}
