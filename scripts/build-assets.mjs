// Build failwell's front-end assets from the pinned npm packages into static/.
//
// Run by `make assets` after `npm ci`. The output is committed, so neither the
// app nor its tests need Node.js; rebuild after changing package.json or
// static/src/failwell.scss. What it writes:
//   static/css/failwell.css                 static/src/failwell.scss, compiled
//   static/vendor/govuk-frontend/...        GOV.UK Frontend's ES module, and where it came from
//   static/vendor/moj-frontend/...          MOJ Frontend's ES module, its origin, and
//                                           the images the stylesheet refers to
//   tests/browser/vendor/axe.min.js         axe-core, injected by the browser tests
//                                           (kept out of static/ so it is never served)
// It stops with an error if the stylesheet refers to the crown, the crest, the
// GOV.UK logotype or the GDS Transport font, or to an image it cannot copy.

import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const govukDir = join(modules, "govuk-frontend");
const mojDir = join(modules, "@ministryofjustice", "frontend");
const axeDir = join(modules, "axe-core");

const version = (dir) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;

function fail(message) {
  console.error(`build-assets: ${message}`);
  process.exit(1);
}

function write(path, content) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

// The vendor bundles end with a source map comment; the maps are not copied,
// and Django's manifest storage refuses a reference to a missing file.
function withoutSourceMap(code) {
  return code.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, "\n");
}

function copyModule(source, destination) {
  write(destination, withoutSourceMap(readFileSync(source, "utf8")));
}

// Outputs are removed first so that nothing stale survives a rebuild.
for (const dir of ["static/css", "static/vendor", "tests/browser/vendor"]) {
  rmSync(join(root, dir), { recursive: true, force: true });
}

// 1. The stylesheet.
let css;
try {
  css = sass.compile(join(root, "static/src/failwell.scss"), {
    style: "compressed",
    importers: [new sass.NodePackageImporter(root)],
    // MOJ Frontend's Sass refers to GOV.UK Frontend as "node_modules/govuk-frontend/...".
    loadPaths: [root],
    // Warnings raised inside the two packages (MOJ Frontend calling GOV.UK
    // Frontend's deprecated mixins) are theirs to fix; ours are shown.
    quietDeps: true,
    logger: {
      warn(message, { stack }) {
        // The stack's first line is where the warning was raised.
        if (stack?.split("\n")[0].startsWith("node_modules/")) return;
        console.warn(`WARNING: ${message}\n${stack ?? ""}`);
      },
    },
  }).css;
} catch (error) {
  fail(`static/src/failwell.scss does not compile:\n${error.message}`);
}

const forbidden = [
  [/@font-face/i, "an @font-face rule"],
  [/GDS Transport/i, "the GDS Transport font"],
  [/crest/i, "the Royal Arms crest"],
  [/crown/i, "the crown"],
  [/logotype/i, "the GOV.UK logotype"],
];
for (const [pattern, what] of forbidden) {
  if (pattern.test(css)) fail(`the compiled stylesheet refers to ${what}; see static/src/failwell.scss`);
}

const banner =
  `/*! failwell.css: govuk-frontend ${version(govukDir)}, ` +
  `@ministryofjustice/frontend ${version(mojDir)}; built by scripts/build-assets.mjs */\n`;
// Sass starts compressed output that has non-ASCII characters with a byte order
// mark, which must stay the file's first character: after the banner it would
// become part of the first selector and silently drop that rule.
const bom = css.startsWith("\uFEFF") ? "\uFEFF" : "";
write(join(root, "static/css/failwell.css"), bom + banner + css.slice(bom.length) + "\n");

// 2. The images the stylesheet refers to, and only those.
const imagePrefix = "../vendor/moj-frontend/images/";
const images = new Set();
for (const match of css.matchAll(/url\(\s*["']?([^"')]+)["']?\s*\)/g)) {
  const url = match[1];
  if (url.startsWith("data:")) continue;
  if (!url.startsWith(imagePrefix)) fail(`the stylesheet refers to ${url}, outside ${imagePrefix}`);
  images.add(url.slice(imagePrefix.length));
}
for (const image of images) {
  const source = join(mojDir, "moj/assets/images", image);
  mkdirSync(join(root, "static/vendor/moj-frontend/images"), { recursive: true });
  try {
    copyFileSync(source, join(root, "static/vendor/moj-frontend/images", image));
  } catch (error) {
    fail(`cannot copy ${image} from MOJ Frontend: ${error.message}`);
  }
}

// 3. The JavaScript: each package's self-contained ES module build.
copyModule(
  join(govukDir, "dist/govuk/govuk-frontend.min.js"),
  join(root, "static/vendor/govuk-frontend/govuk-frontend.min.js"),
);
copyModule(
  join(mojDir, "moj/moj-frontend.min.js"),
  join(root, "static/vendor/moj-frontend/moj-frontend.min.js"),
);
// The npm packages ship no licence file, so record where each copy came from.
for (const [dir, name] of [
  [govukDir, "govuk-frontend"],
  [mojDir, "moj-frontend"],
]) {
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  write(
    join(root, "static/vendor", name, "SOURCE.txt"),
    `Copied from the npm package ${pkg.name} ${pkg.version} (licence: ${pkg.license}, ` +
      `author: ${pkg.author.name ?? pkg.author}) by scripts/build-assets.mjs.\n`,
  );
}

// 4. axe-core for the browser tests (MPL-2.0; its licence header is in the file).
write(join(root, "tests/browser/vendor/axe.min.js"), readFileSync(join(axeDir, "axe.min.js")));

console.log(
  `build-assets: failwell.css ${Math.round(css.length / 1024)} KiB, ` +
    `${images.size} images, govuk-frontend ${version(govukDir)}, ` +
    `@ministryofjustice/frontend ${version(mojDir)}, axe-core ${version(axeDir)}`,
);
