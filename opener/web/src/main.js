// main.js is the page: one form, a list of opened files, previews. All
// text reaches the DOM through textContent, never innerHTML: names and
// contents come from the archive. The password is read from its field at
// the moment of opening and is never logged, stored or put in a URL.

import { openArchive, OpenError } from "./open.js";
import { pasteCandidates } from "./paste.js";
import { TEXTS, fill, humanSize } from "./i18n.js";

const $ = (id) => document.getElementById(id);
const form = $("form");
const fileInput = $("file");
const pw = $("password");
const showpw = $("showpw");
const keyText = $("key");
const keyFile = $("keyfile");
const openBtn = $("open");
const statusEl = $("status");
const progressEl = $("progress");
const errorEl = $("error");
const results = $("results");
const list = $("entries");
const drop = $("drop");
const chosenEl = $("chosen");

let lang = "sv";
let chosen = null; // the File to open
let message = null; // {key, params} of the error shown, re-rendered on a language switch
let done = null; // {n} when files are shown
let urls = []; // blob: URLs to revoke when the next file is opened
let opened = []; // the files shown
let busy = false;

const T = () => TEXTS[lang];

// ---- language ---------------------------------------------------------------

function applyLang() {
  const t = T();
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t[el.dataset.i18n];
  }
  const other = lang === "sv" ? "en" : "sv";
  const toggle = $("lang");
  toggle.textContent = t.langToggle;
  toggle.lang = other;
  toggle.setAttribute("aria-label", t.langToggleLabel);
  document.title = t.title + (lang === "sv" ? " / Open encrypted attachment" : " / Öppna krypterad bilaga");
  renderChosen();
  renderError();
  if (busy) statusEl.textContent = t.busy;
  else if (done) statusEl.textContent = fill(t.filesDone, { n: done.n, files: done.n === 1 ? t.file1 : t.fileN });
  renderEntries();
}

$("lang").addEventListener("click", () => {
  lang = lang === "sv" ? "en" : "sv";
  applyLang();
});

// ---- choosing the file --------------------------------------------------------

function choose(file) {
  chosen = file || null;
  clearError();
  renderChosen();
}

function renderChosen() {
  chosenEl.textContent = chosen ? fill(T().chosen, { name: displayName(chosen.name), size: humanSize(chosen.size, lang) }) : "";
}

fileInput.addEventListener("change", () => choose(fileInput.files[0]));
keyFile.addEventListener("change", () => {
  $("keychosen").textContent = keyFile.files[0] ? displayName(keyFile.files[0].name) : "";
});

// Dropping a file anywhere must not make the browser navigate to it.
for (const ev of ["dragover", "drop"]) {
  window.addEventListener(ev, (e) => e.preventDefault());
}
drop.addEventListener("dragenter", () => drop.classList.add("dragging"));
drop.addEventListener("dragleave", (e) => {
  if (!drop.contains(e.relatedTarget)) drop.classList.remove("dragging");
});
window.addEventListener("drop", (e) => {
  drop.classList.remove("dragging");
  const files = e.dataTransfer && e.dataTransfer.files;
  if (files && files.length) {
    try {
      fileInput.files = files;
    } catch {
      /* older browsers: keep our own reference */
    }
    choose(files[0]);
    pw.focus();
  }
});

showpw.addEventListener("change", () => {
  pw.type = showpw.checked ? "text" : "password";
});

// ---- messages ------------------------------------------------------------------

function showError(key, params = {}) {
  message = { key, params };
  renderError();
}

function clearError() {
  message = null;
  renderError();
}

function renderError() {
  if (!message) {
    errorEl.hidden = true;
    errorEl.textContent = "";
    return;
  }
  const t = T();
  let text = t.err[message.key] || t.err.internal;
  if (message.key === "unsafe") {
    const p = { ...message.params };
    if (typeof p.max === "number" && p.max >= 1 << 20) p.max = humanSize(p.max, lang);
    text = fill(text, { detail: fill(t.unsafe[message.detail] || "", p) });
  }
  errorEl.textContent = text;
  errorEl.hidden = false;
}

// ---- opening ---------------------------------------------------------------------

async function readIdentities() {
  const ids = [];
  const add = (text) => {
    for (const line of text.split(/\r?\n/)) {
      const l = line.trim();
      if (l !== "" && !l.startsWith("#")) ids.push(l);
    }
  };
  add(keyText.value);
  if (keyFile.files[0]) {
    if (keyFile.files[0].size > 64 << 10) throw new OpenError("badkey");
    add(await keyFile.files[0].text());
  }
  return ids;
}

function reset() {
  for (const u of urls) URL.revokeObjectURL(u);
  urls = [];
  opened = [];
  done = null;
  list.replaceChildren();
  results.hidden = true;
  statusEl.textContent = "";
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (busy) return;
  reset();
  clearError();
  const file = chosen || fileInput.files[0];
  if (!file) {
    showError("nofile");
    fileInput.focus();
    return;
  }
  busy = true;
  openBtn.disabled = true;
  openBtn.setAttribute("aria-busy", "true");
  statusEl.textContent = T().busy;
  progressEl.hidden = false;
  progressEl.value = 0;
  let lastTick = 0;
  const progress = (n, total) => {
    const now = performance.now();
    if (now - lastTick < 100) return;
    lastTick = now;
    progressEl.value = total > 0 ? Math.min(n / total, 1) : 0;
  };
  try {
    const identities = await readIdentities();
    // A password pasted from the SMS: as typed first, then the generated
    // password it holds (paste.js).
    let res;
    for (const password of pasteCandidates(pw.value)) {
      try {
        res = await openArchive(file, { password, identities, name: file.name }, progress);
        break;
      } catch (e) {
        if (!(e instanceof OpenError) || e.kind !== "password") throw e;
        res = e;
      }
    }
    if (res instanceof OpenError) throw res;
    opened = res.files;
    for (const f of opened) f.pdf = await isPDF(f);
    done = { n: opened.length };
    // The password did its work: clear it, so it is not left on screen.
    pw.value = "";
    showpw.checked = false;
    pw.type = "password";
    statusEl.textContent = fill(T().filesDone, { n: done.n, files: done.n === 1 ? T().file1 : T().fileN });
    renderEntries();
    results.hidden = false;
    // The files are what the recipient came for: bring them to the top of
    // the screen (on a phone they are below the form), and the focus with
    // them for a screen reader.
    $("filesheading").focus({ preventScroll: true });
    results.scrollIntoView({ block: "start" });
  } catch (err) {
    if (err instanceof OpenError) {
      let key = err.kind;
      if (key === "password" && keyText.value.trim() === "" && !keyFile.files[0] && pw.value === "") key = "needpassword";
      else if (key === "password" && (keyText.value.trim() !== "" || keyFile.files[0]) && pw.value === "") key = "key";
      message = { key, params: err.params, detail: err.detail };
      renderError();
      if (key === "needkey" || key === "badkey") {
        $("keybox").open = true;
        keyText.focus();
      }
      errorEl.scrollIntoView({ block: "nearest" });
    } else {
      showError("internal");
      errorEl.scrollIntoView({ block: "nearest" });
    }
    statusEl.textContent = "";
  } finally {
    busy = false;
    openBtn.disabled = false;
    openBtn.removeAttribute("aria-busy");
    progressEl.hidden = true;
  }
});

// ---- the opened files ----------------------------------------------------------

/** displayName shows a name without the characters that could disguise it. */
function displayName(s) {
  // eslint-disable-next-line no-control-regex
  return String(s).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, "");
}

// What the page previews itself. Never a PDF: a PDF shown by the
// browser's own viewer runs the PDF's scripts (app.mailMsg opens the mail
// program with a recipient and text the PDF chose, app.launchURL opens a
// site), and the page's CSP does not reach into that viewer. PDFs are
// offered for saving only (see isPDF).
const TYPES = {
  png: ["image", "image/png"],
  jpg: ["image", "image/jpeg"],
  jpeg: ["image", "image/jpeg"],
  gif: ["image", "image/gif"],
  webp: ["image", "image/webp"],
  bmp: ["image", "image/bmp"],
  csv: ["csv", "text/plain"],
  tsv: ["csv", "text/plain"],
  txt: ["text", "text/plain"],
  log: ["text", "text/plain"],
  md: ["text", "text/plain"],
  json: ["text", "text/plain"],
  xml: ["text", "text/plain"],
};

// Web Share and the real type for sharing; the download link always
// carries a neutral type, so that no browser renders an HTML or SVG file
// from the archive as a page of this site.
const SHARE_TYPES = {
  pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif",
  webp: "image/webp", txt: "text/plain", csv: "text/csv", docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", odt: "application/vnd.oasis.opendocument.text",
  ods: "application/vnd.oasis.opendocument.spreadsheet", pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

/**
 * isPDF tells a PDF by its name or by its first bytes: readers take a
 * "%PDF-" anywhere in the first 1024 bytes, whatever the file is called.
 * @param {{name: string, data: Blob}} f
 */
async function isPDF(f) {
  if (ext(f.name) === "pdf") return true;
  const head = new Uint8Array(await f.data.slice(0, 1024).arrayBuffer());
  const pdf = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-
  outer: for (let i = 0; i + pdf.length <= head.length; i++) {
    for (let j = 0; j < pdf.length; j++) if (head[i + j] !== pdf[j]) continue outer;
    return true;
  }
  return false;
}

function ext(name) {
  const i = name.lastIndexOf(".");
  return i > 0 ? name.slice(i + 1).toLowerCase() : "";
}

function blobURL(blob) {
  const u = URL.createObjectURL(blob);
  urls.push(u);
  return u;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-") || k.startsWith("aria-") || k === "download" || k === "for") e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

function renderEntries() {
  if (!opened.length) return;
  const t = T();
  const openPreviews = new Set([...list.querySelectorAll("li[data-open]")].map((li) => li.dataset.index));
  list.replaceChildren();
  opened.forEach((f, i) => {
    if (!f.url) f.url = blobURL(f.data); // application/octet-stream
    const li = el("li", { "data-testid": "entry", "data-index": String(i) });
    const nameId = "entry-name-" + i;
    li.append(el("p", { class: "entry-name", id: nameId, text: f.name }));
    const meta = [humanSize(f.size, lang)];
    if (f.path !== f.name) meta.push(displayName(f.path));
    if (f.modified instanceof Date && !isNaN(f.modified)) meta.push(f.modified.toLocaleString(lang === "sv" ? "sv-SE" : "en-GB"));
    li.append(el("p", { class: "entry-meta", text: meta.join(" · ") }));
    const actions = el("div", { class: "actions" });
    const kind = f.pdf ? undefined : (TYPES[ext(f.name)] || [])[0];
    const preview = el("div", { class: "preview", id: "preview-" + i, hidden: true });
    if (kind) {
      const viewBtn = el("button", { type: "button", class: "button", text: t.view, "aria-expanded": "false", "aria-controls": preview.id, "aria-describedby": nameId });
      viewBtn.addEventListener("click", () => togglePreview(f, li, preview, viewBtn));
      actions.append(viewBtn);
    }
    actions.append(el("a", { class: "button", href: f.url, download: f.name, text: t.save, "aria-describedby": nameId, "data-testid": "save" }));
    const shareType = f.pdf ? "application/pdf" : SHARE_TYPES[ext(f.name)] || "application/octet-stream";
    const shareFile = typeof File === "function" ? new File([f.data], f.name, { type: shareType }) : null;
    if (shareFile && navigator.canShare && navigator.canShare({ files: [shareFile] })) {
      const shareBtn = el("button", { type: "button", class: "button", text: t.share, "aria-describedby": nameId });
      shareBtn.addEventListener("click", () => {
        navigator.share({ files: [shareFile], title: f.name }).catch(() => {});
      });
      actions.append(shareBtn);
    }
    li.append(actions);
    if (f.pdf) li.append(el("p", { class: "hint", "data-testid": "pdf-note", text: t.pdfSaveOnly }));
    li.append(preview);
    list.append(li);
    if (openPreviews.has(String(i))) actions.querySelector("button").click();
  });
}

async function togglePreview(f, li, preview, btn) {
  const t = T();
  if (!preview.hidden) {
    preview.hidden = true;
    preview.replaceChildren();
    btn.textContent = t.view;
    btn.setAttribute("aria-expanded", "false");
    delete li.dataset.open;
    return;
  }
  const [kind, type] = TYPES[ext(f.name)];
  const label = fill(t.previewOf, { name: f.name });
  if (f.pdf) return; // never reached: a PDF has no View button
  if (kind === "image") {
    preview.append(el("img", { src: blobURL(new Blob([f.data], { type })), alt: label }));
  } else {
    const text = decodeText(new Uint8Array(await f.data.slice(0, 2 << 20).arrayBuffer()));
    if (kind === "csv") preview.append(csvTable(text, label, t));
    else preview.append(el("pre", { tabIndex: 0, "aria-label": label, text }));
  }
  preview.hidden = false;
  btn.textContent = t.hide;
  btn.setAttribute("aria-expanded", "true");
  li.dataset.open = "1";
}

/** decodeText reads UTF-8, or Windows-1252 as Swedish Excel writes CSV. */
function decodeText(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    try {
      return new TextDecoder("windows-1252").decode(bytes);
    } catch {
      return new TextDecoder("utf-8").decode(bytes);
    }
  }
}

const MAX_ROWS = 500;

function csvTable(text, label, t) {
  const first = text.split("\n", 1)[0];
  const counts = [";", ",", "\t"].map((d) => first.split(d).length);
  const delim = [";", ",", "\t"][counts.indexOf(Math.max(...counts))];
  const rows = parseCSV(text.replace(/^\ufeff/, ""), delim, MAX_ROWS + 1);
  const wrap = el("div", { class: "tablewrap", tabIndex: 0, role: "region", "aria-label": label });
  const table = el("table");
  table.append(el("caption", { class: "hint", text: label }));
  const [head, ...body] = rows;
  if (head) {
    const tr = el("tr");
    for (const c of head) tr.append(el("th", { scope: "col", text: c }));
    table.append(el("thead", {}, tr));
  }
  const tbody = el("tbody");
  for (const r of body.slice(0, MAX_ROWS - 1)) {
    const tr = el("tr");
    for (const c of r) tr.append(el("td", { text: c }));
    tbody.append(tr);
  }
  table.append(tbody);
  wrap.append(table);
  const frag = document.createDocumentFragment();
  frag.append(wrap);
  if (rows.length > MAX_ROWS) frag.append(el("p", { class: "hint", text: fill(t.truncated, { n: MAX_ROWS }) }));
  return frag;
}

function parseCSV(s, d, maxRows) {
  const rows = [];
  let row = [];
  let cell = "";
  let q = false;
  for (let i = 0; i < s.length && rows.length < maxRows; i++) {
    const c = s[i];
    if (q) {
      if (c === '"') {
        if (s[i + 1] === '"') {
          cell += '"';
          i++;
        } else q = false;
      } else cell += c;
    } else if (c === '"' && cell === "") q = true;
    else if (c === d) {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && s[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if ((cell !== "" || row.length) && rows.length < maxRows) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

applyLang();
