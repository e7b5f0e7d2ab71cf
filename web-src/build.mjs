// Copy the build-time npm packages bolo serves into bolo/web/static/vendor (committed there,
// so a Python install needs no npm and no internet), and the test-only axe-core into
// tests/e2e/vendor. Run: npm ci && node build.mjs
import { cpSync, mkdirSync, rmSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "bolo", "web", "static", "vendor");
const leaflet = join(here, "node_modules", "leaflet");
const version = JSON.parse(readFileSync(join(leaflet, "package.json"), "utf8")).version;

rmSync(join(vendor, "leaflet"), { recursive: true, force: true });
mkdirSync(join(vendor, "leaflet"), { recursive: true });
for (const name of ["leaflet.js", "leaflet.css"]) {
  cpSync(join(leaflet, "dist", name), join(vendor, "leaflet", name));
}
cpSync(join(leaflet, "dist", "images"), join(vendor, "leaflet", "images"), { recursive: true });
cpSync(join(leaflet, "LICENSE"), join(vendor, "leaflet", "LICENSE"));
writeFileSync(join(vendor, "leaflet", "VERSION"), `leaflet ${version} (npm)\n`);
console.log(`vendored leaflet ${version} into ${vendor}/leaflet`);

// axe-core (MPL-2.0) is for the browser tests only: it checks the pages' accessibility.
const axe = join(here, "node_modules", "axe-core");
const axeVersion = JSON.parse(readFileSync(join(axe, "package.json"), "utf8")).version;
const testVendor = join(here, "..", "tests", "e2e", "vendor", "axe-core");
rmSync(testVendor, { recursive: true, force: true });
mkdirSync(testVendor, { recursive: true });
cpSync(join(axe, "axe.min.js"), join(testVendor, "axe.min.js"));
cpSync(join(axe, "LICENSE"), join(testVendor, "LICENSE"));
writeFileSync(join(testVendor, "VERSION"), `axe-core ${axeVersion} (npm)\n`);
console.log(`vendored axe-core ${axeVersion} into ${testVendor}`);
