// Copy the build-time npm packages bolo serves into bolo/web/static/vendor (committed there,
// so a Python install needs no npm and no internet). Run: npm ci && node build.mjs
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
