// The dark and light modules of a QR code, from qrcode-generator. Only
// QrCode.tsx imports this, and only with import(): the library stays out
// of the first load (the 200 KB budget) and is fetched when a QR code is
// actually shown.

import qrcode from "qrcode-generator";

/** Rows of modules, true for dark, without the quiet zone. */
export function qrMatrix(text: string): boolean[][] {
  // The library's byte mode takes one char per byte (it keeps the low 8
  // bits); UTF-8 first, so that any text survives.
  const bytes = new TextEncoder().encode(text);
  const latin1 = Array.from(bytes, (b) => String.fromCharCode(b)).join("");
  // Type 0 picks the smallest version that fits; M recovers ~15% damage,
  // enough for a screen, and keeps the modules big.
  const code = qrcode(0, "M");
  code.addData(latin1, "Byte");
  code.make();
  const size = code.getModuleCount();
  return Array.from({ length: size }, (_, row) => Array.from({ length: size }, (_, col) => code.isDark(row, col)));
}
