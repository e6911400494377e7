// Writes .br and .gz siblings of the built text files (dist/), so the web
// component serves them precompressed at maximum levels instead of the
// gateway compressing on every request. A sibling is kept only when it is
// smaller than the file. Output is deterministic (gzip mtime is 0).
//
// usage: node scripts/precompress.mjs dist

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { extname, join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".svg", ".json", ".txt", ".xml", ".webmanifest", ".map", ".wasm"]);

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

const root = process.argv[2] ?? "dist";
let written = 0;
for (const path of [...files(root)]) {
  if (path.endsWith(".br") || path.endsWith(".gz")) continue;
  if (!COMPRESSIBLE.has(extname(path).toLowerCase())) continue;
  const data = readFileSync(path);
  const variants = [
    [
      ".br",
      brotliCompressSync(data, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        },
      }),
    ],
    [".gz", gzipSync(data, { level: 9 })],
  ];
  for (const [suffix, packed] of variants) {
    const target = path + suffix;
    if (packed.length < data.length) {
      writeFileSync(target, packed);
      written += 1;
    } else {
      rmSync(target, { force: true });
    }
  }
}
const total = [...files(root)].reduce((sum, p) => sum + statSync(p).size, 0);
console.log(`precompress: ${written} compressed siblings written under ${root} (${total} bytes in all)`);
