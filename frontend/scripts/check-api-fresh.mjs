// Fails when src/api/schema.d.ts is not what `npm run gen:api` would write
// from ../openapi.yaml now (the contract changed and the types were not
// regenerated).

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const temp = mkdtempSync(join(tmpdir(), "schema-"));
try {
  const fresh = join(temp, "schema.d.ts");
  execFileSync(join(here, "node_modules/.bin/openapi-typescript"), [join(here, "../openapi.yaml"), "-o", fresh], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const committed = readFileSync(join(here, "src/api/schema.d.ts"), "utf8");
  if (readFileSync(fresh, "utf8") !== committed) {
    console.error("src/api/schema.d.ts is stale: run `npm --prefix frontend run gen:api` and commit the result.");
    process.exit(1);
  }
  console.log("src/api/schema.d.ts matches openapi.yaml");
} finally {
  rmSync(temp, { recursive: true, force: true });
}
