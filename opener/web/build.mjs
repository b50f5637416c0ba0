// build.mjs bundles the page into ONE self-contained HTML file,
// ../dist/oppna.html: the script and the style inlined and allowed by their
// SHA-256 in the Content-Security-Policy, nothing loaded from anywhere.
// The output depends only on the sources and the locked packages: the
// embedded copy is checked against a fresh build (opener/opener_test.go).
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2] || join(here, "..", "dist", "oppna.html");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));

// zip.js and age-encryption are BSD-licensed: their notices travel with
// the page (esbuild keeps only /*! … */ comments, which the noble and scure
// packages use).
const notice = ["@zip.js/zip.js", "age-encryption"]
  .map((p) => `${p}:\n` + readFileSync(join(here, "node_modules", p, "LICENSE"), "utf8").trim().replace(/\*\//g, "* /"))
  .join("\n\n");

const res = await build({
  footer: { js: `/*! Licenses of bundled libraries:\n\n${notice}\n*/` },
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  legalComments: "eof",
  charset: "utf8",
  write: false,
  logLevel: "warning",
});
let js = res.outputFiles[0].text;
// The script sits inside <script>…</script>: no "</script" or "<!--" may
// occur in it. Inside string and regexp literals "<\/" means "</".
js = js.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
const css = readFileSync(join(here, "src", "style.css"), "utf8");

const sha = (s) => "'sha256-" + createHash("sha256").update(s, "utf8").digest("base64") + "'";
const csp = [
  "default-src 'none'",
  `script-src ${sha(js)}`,
  `style-src ${sha(css)}`,
  "img-src blob: data:",
  "frame-src 'none'", // no frames: a PDF is never shown by the browser's viewer
  "object-src 'none'",
  "media-src 'none'",
  "connect-src 'none'",
  "worker-src 'none'",
  "font-src 'none'",
  "manifest-src 'none'",
  "form-action 'none'",
  "base-uri 'none'",
].join("; ");

let html = readFileSync(join(here, "src", "index.html"), "utf8");
const fills = { CSP: csp, CSS: css, JS: js, VERSION: pkg.version };
html = html.replace(/\{\{(CSP|CSS|JS|VERSION)\}\}/g, (_, k) => fills[k]);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, html);
console.log(`${out}: ${html.length} bytes, sha256 ${createHash("sha256").update(html).digest("hex")}`);
