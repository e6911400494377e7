// A QR code drawn as inline SVG. Not an <img> of a data: URL: the CSP
// (`default-src 'self'`) does not allow data: images. The encoder is
// loaded on first use (see qrMatrix.ts).

import { useEffect, useState } from "react";

/** The blank border scanners need around the code, in modules (the standard's 4). */
const QUIET_ZONE = 4;

type Drawn = { text: string; modules: boolean[][] } | { text: string; failed: true };

/** One SVG path of unit squares, one per dark module. */
function pathOf(modules: boolean[][]): string {
  let d = "";
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) d += `M${x + QUIET_ZONE} ${y + QUIET_ZONE}h1v1h-1z`;
    }),
  );
  return d;
}

export function QrCode({ text, label }: { text: string; label: string }) {
  const [drawn, setDrawn] = useState<Drawn | null>(null);
  useEffect(() => {
    let live = true;
    // A failure to fetch the chunk (offline) or to encode lands in the same place.
    import("./qrMatrix")
      .then(({ qrMatrix }) => qrMatrix(text))
      .then(
        (modules) => live && setDrawn({ text, modules }),
        () => live && setDrawn({ text, failed: true }),
      );
    return () => {
      live = false;
    };
  }, [text]);

  if (drawn === null || drawn.text !== text) {
    return (
      <p className="qr-code qr-code-pending muted" role="status">
        Drawing the QR code…
      </p>
    );
  }
  if ("failed" in drawn) {
    return <p className="muted">The QR code could not be drawn: type the key into your app instead.</p>;
  }
  const size = drawn.modules.length + 2 * QUIET_ZONE;
  // Black on white in either colour scheme: scanners need that contrast.
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${size} ${size}`}
      shapeRendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg"
    >
      <rect width={size} height={size} fill="#fff" />
      <path d={pathOf(drawn.modules)} fill="#000" />
    </svg>
  );
}
