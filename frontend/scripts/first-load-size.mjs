// The bytes a first visit downloads, from the build output: index.html and
// every same-origin script, stylesheet, preload and icon it references, each
// counted as the web component sends it (its .br sibling, else .gz, else
// the file). Bodies only: headers are measured by the e2e run in Chromium.
//
// usage: node scripts/first-load-size.mjs dist [--max BYTES]

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const root = process.argv[2] ?? "dist";
const maxAt = process.argv.indexOf("--max");
const max = maxAt > 0 ? Number(process.argv[maxAt + 1]) : undefined;

const html = readFileSync(join(root, "index.html"), "utf8");
const refs = new Set(["/index.html"]);
for (const match of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
  const ref = match[1];
  if (/^[a-z]+:|^\/\//i.test(ref)) {
    console.error(`index.html references another origin: ${ref}`);
    process.exit(1);
  }
  refs.add(ref.startsWith("/") ? ref : `/${ref}`);
}

const sizeOf = (path) => (existsSync(path) ? statSync(path).size : undefined);
let br = 0;
let gz = 0;
let raw = 0;
for (const ref of refs) {
  const path = join(root, ref);
  const plain = sizeOf(path);
  if (plain === undefined) {
    console.error(`index.html references ${ref}, which is not in ${root}`);
    process.exit(1);
  }
  const brSize = sizeOf(`${path}.br`) ?? plain;
  const gzSize = sizeOf(`${path}.gz`) ?? plain;
  console.log(`${ref.padEnd(40)} ${String(plain).padStart(8)} raw ${String(gzSize).padStart(8)} gzip ${String(brSize).padStart(8)} br`);
  raw += plain;
  gz += gzSize;
  br += brSize;
}
console.log(`${"first load (bodies)".padEnd(40)} ${String(raw).padStart(8)} raw ${String(gz).padStart(8)} gzip ${String(br).padStart(8)} br`);
if (max !== undefined && Math.max(br, gz) > max) {
  console.error(`first load is over budget: ${Math.max(br, gz)} > ${max} bytes`);
  process.exit(1);
}
