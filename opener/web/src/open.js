// open.js opens an encrypted attachment entirely in the page: AES zips
// (kuvert's, 7-Zip's, WinZip's) through zip.js and age files through
// age-encryption. It mirrors `kuvert decrypt` (crypt/open.go): the same
// limits, the same refusals, and no byte of an entry handed out before its
// authentication was checked. It never touches the DOM or the network.

import { configure, ZipReader, BlobReader } from "@zip.js/zip.js/index-native.js";
import { Decrypter, armor } from "age-encryption";
import { safeName } from "./names.js";

// No workers: they would need a worker-src in the Content-Security-Policy,
// and one entry is decrypted on one thread anyway.
configure({ useWebWorkers: false, useCompressionStream: true });

/** The CLI's limits (crypt.DefaultLimits), with the total capped for a
 * browser tab: everything opened is held in memory. */
export const LIMITS = Object.freeze({
  maxEntries: 10000,
  maxTotal: 1 << 30, // the CLI allows 16 GiB; a phone's tab will not hold that
  maxRatio: 1000, // uncompressed/compressed, for entries over 1 MiB
  ratioFrom: 1 << 20,
  maxScryptLogN: 20, // age passphrase work factor (kuvert writes 18)
});

export const HIDDEN_NAMES_ENTRY = "bilagor.zip";
const HIDDEN_NAMES_COMMENT = "kuvert-hidden-names/1";
const BUNDLE_COMMENT = "kuvert-bundle/1";
const AGE_MAGIC = "age-encryption.org/v1\n";
const ARMOR_HEADER = "-----BEGIN AGE ENCRYPTED FILE-----";

/**
 * OpenError is every refusal, with a kind the page turns into a message:
 * "password" (wrong password or key), "damaged", "unsafe", "unsupported",
 * "notarchive", "notencrypted", "needpassword", "needkey", "badkey".
 * detail and params say more for "unsafe".
 */
export class OpenError extends Error {
  constructor(kind, detail = "", params = {}) {
    super(kind + (detail ? ": " + detail : ""));
    this.kind = kind;
    this.detail = detail;
    this.params = params;
  }
}

/**
 * @typedef {{path: string, name: string, size: number, modified?: Date, data: Blob}} OpenedFile
 */

/**
 * openArchive opens file with a password and/or age identities and returns
 * every file in it, all authenticated, or throws an OpenError.
 * @param {Blob} file
 * @param {{password?: string, identities?: string[], name?: string}} cred
 * @param {(done: number, total: number) => void} [progress]
 * @returns {Promise<{kind: string, files: OpenedFile[]}>}
 */
export async function openArchive(file, cred, progress) {
  if (file.size > LIMITS.maxTotal) {
    throw new OpenError("unsafe", "total", { max: LIMITS.maxTotal });
  }
  const head = new Uint8Array(await file.slice(0, 64).arrayBuffer());
  const text = latin1(head);
  if (text.startsWith("PK\x03\x04") || text.startsWith("PK\x05\x06")) {
    return { kind: "zip", files: await openZip(file, cred.password || "", progress) };
  }
  if (text.startsWith(AGE_MAGIC)) {
    return { kind: "age", files: await openAge(file, false, cred, progress) };
  }
  if (text.trimStart().startsWith(ARMOR_HEADER)) {
    return { kind: "age-armor", files: await openAge(file, true, cred, progress) };
  }
  throw new OpenError("notarchive");
}

function latin1(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

// ---- zip ------------------------------------------------------------------

const ZIP_OPTIONS = {
  useWebWorkers: false,
  strictness: "strict", // refuse anything another tool could read differently
  filenameValidation: "balanced", // refuse "..", absolute paths, drive letters
};

/** A zip.js error message mapped to our kinds. */
function zipError(e) {
  if (e instanceof OpenError) return e;
  const m = String((e && e.message) || e);
  if (m === "Invalid password") return new OpenError("password");
  if (m.startsWith("Overlapping entry")) return new OpenError("unsafe", "overlap");
  if (m.startsWith("Unsafe filename")) return new OpenError("unsafe", "names", { name: String(e.filename || "") });
  if (m.includes("not supported") || m.startsWith("Split zip")) return new OpenError("unsupported");
  if (m.includes("out of memory") || (e && e.name === "RangeError")) return new OpenError("unsafe", "total", { max: LIMITS.maxTotal });
  // "Invalid authentication code", "Invalid uncompressed size", "Invalid
  // compressed data", a failed inflate, a broken directory: all damage.
  return new OpenError("damaged", m.slice(0, 120));
}

/**
 * checkEntries refuses what `kuvert decrypt` refuses, before any
 * decryption: too many entries, too much data, bombs, legacy ZipCrypto,
 * unknown methods, links, duplicate names and (outside age or the
 * hidden-names layer, where the outer layer authenticates everything)
 * entries that are not encrypted.
 */
function checkEntries(entries, plainOK) {
  if (entries.length > LIMITS.maxEntries) {
    throw new OpenError("unsafe", "entries", { n: entries.length, max: LIMITS.maxEntries });
  }
  let total = 0;
  const seen = new Set();
  let encrypted = 0;
  for (const e of entries) {
    const name = e.filename;
    if (e.symlink) throw new OpenError("unsafe", "link", { name });
    if (name.includes("\0")) throw new OpenError("unsafe", "names", { name });
    const key = name.normalize("NFC").toLowerCase().replace(/\\/g, "/");
    if (seen.has(key)) throw new OpenError("unsafe", "names", { name });
    seen.add(key);
    if (e.directory) continue;
    const size = e.uncompressedSize;
    const csize = e.compressedSize;
    if (!(size >= 0) || !(csize >= 0)) throw new OpenError("damaged", "impossible size");
    if (e.encrypted) {
      encrypted++;
      if (e.zipCrypto || !e.extraFieldAES) throw new OpenError("unsupported", "zipcrypto");
      const m = e.extraFieldAES.compressionMethod; // the real method under AES (99)
      if (m !== 0 && m !== 8) throw new OpenError("unsupported", "method " + m);
    } else if (size !== 0 || csize !== 0) {
      if (!plainOK) throw new OpenError("damaged", "unencrypted entry in an encrypted archive");
      if (e.compressionMethod !== 0 && e.compressionMethod !== 8) throw new OpenError("unsupported", "method");
    }
    if (size > LIMITS.maxTotal - total) throw new OpenError("unsafe", "total", { max: LIMITS.maxTotal });
    total += size;
    if (size > LIMITS.ratioFrom && size / Math.max(csize, 1) > LIMITS.maxRatio) {
      throw new OpenError("unsafe", "ratio", { name, max: LIMITS.maxRatio });
    }
  }
  return { total, encrypted };
}

/**
 * Collector is the writable end an entry is decrypted into. It holds the
 * bytes out of reach of the page until getData has resolved, i.e. until
 * zip.js checked the entry's HMAC (AES) or CRC (plain), and refuses to grow
 * past the entry's declared size.
 */
class Collector {
  constructor(declared) {
    this.declared = declared;
    this.chunks = [];
    this.n = 0;
    const self = this;
    this.writable = new WritableStream({
      write(chunk) {
        self.n += chunk.length;
        if (self.n > self.declared) throw new OpenError("damaged", "entry larger than declared");
        self.chunks.push(chunk);
      },
    });
  }
  blob() {
    if (this.n !== this.declared) throw new OpenError("damaged", "entry shorter than declared");
    return new Blob(this.chunks, { type: "application/octet-stream" });
  }
}

function decodeComment(bytes) {
  if (!bytes || !bytes.length) return "";
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return "";
  }
}

/** readZip lists and checks a zip, then authenticates and reads every file. */
async function readZip(blob, password, plainOK, progress, base = 0, grand = 0) {
  const reader = new ZipReader(new BlobReader(blob), ZIP_OPTIONS);
  let entries;
  try {
    entries = await reader.getEntries();
  } catch (e) {
    throw zipError(e);
  }
  const { total, encrypted } = checkEntries(entries, plainOK);
  // Like `kuvert decrypt`: the whole output bounded against the archive's
  // size too, so many small entries cannot fill the tab's memory.
  if (total > LIMITS.ratioFrom && total / Math.max(blob.size, 1) > LIMITS.maxRatio) {
    throw new OpenError("unsafe", "ratio", { name: "", max: LIMITS.maxRatio });
  }
  if (!plainOK && encrypted === 0 && entries.some((e) => !e.directory)) {
    throw new OpenError("notencrypted");
  }
  if (encrypted > 0 && !password) throw new OpenError("needpassword");
  const comment = decodeComment(reader.comment);
  try {
    // Overlapping entries (a zip bomb trick, or two names for one set of
    // bytes) are refused before anything is decrypted: this reads only the
    // local headers.
    for (const e of entries) {
      if (!e.directory) await e.getData(undefined, { checkOverlappingEntryOnly: true, password: e.encrypted ? password : undefined });
    }
    const files = [];
    let done = 0;
    grand = grand || total;
    for (const e of entries) {
      if (e.directory) continue;
      const c = new Collector(e.uncompressedSize);
      const start = done;
      await e.getData(c.writable, {
        password: e.encrypted ? password : undefined,
        checkCrc32: !e.encrypted,
        checkOverlappingEntry: true,
        onprogress: progress ? (i) => progress(base + start + Math.min(i * (e.uncompressedSize / Math.max(e.compressedSize, 1)), e.uncompressedSize), grand) : undefined,
      });
      done += e.uncompressedSize;
      files.push({ path: e.filename, size: e.uncompressedSize, modified: e.lastModDate, data: c.blob() });
    }
    return { files, comment };
  } catch (e) {
    throw zipError(e);
  } finally {
    await reader.close().catch(() => {});
  }
}

async function openZip(file, password, progress) {
  const { files } = await readZip(file, password, false, progress);
  // Hidden names: kuvert's AES zip then holds bilagor.zip, an ordinary zip
  // marked by its comment; unpack it so the recipient sees the real files.
  // Only when it is the one file, as `kuvert decrypt` does.
  if (files.length === 1 && files[0].path === HIDDEN_NAMES_ENTRY) {
    const inner = await markedZip(files[0].data, HIDDEN_NAMES_COMMENT);
    if (inner) files.splice(0, 1, ...inner);
  }
  return finish(files);
}

/**
 * markedZip opens a plain zip kuvert wrote (hidden names, age bundle),
 * recognised by its comment; null if blob is not one. One that claims to be
 * (the comment matches) but fails the checks is damage.
 */
async function markedZip(blob, wantComment) {
  const head = new Uint8Array(await blob.slice(0, 4).arrayBuffer());
  if (latin1(head) !== "PK\x03\x04" && latin1(head) !== "PK\x05\x06") return null;
  let comment = "";
  try {
    const probe = new ZipReader(new BlobReader(blob), ZIP_OPTIONS);
    await probe.getEntries();
    comment = decodeComment(probe.comment);
    await probe.close();
  } catch {
    return null;
  }
  if (comment !== wantComment) return null;
  try {
    return (await readZip(blob, "", true)).files;
  } catch (e) {
    if (e instanceof OpenError && e.kind === "unsafe") throw e;
    throw new OpenError("damaged", "inner zip: " + e.message);
  }
}

/** finish gives each file a safe, unique name to save under. */
function finish(files) {
  const used = new Set();
  for (const f of files) {
    let name = safeName(f.path);
    if (used.has(name.toLowerCase())) {
      const dot = name.lastIndexOf(".");
      const stem = dot > 0 ? name.slice(0, dot) : name;
      const ext = dot > 0 ? name.slice(dot) : "";
      for (let i = 2; used.has(name.toLowerCase()); i++) name = `${stem} (${i})${ext}`;
    }
    used.add(name.toLowerCase());
    f.name = name;
  }
  return files;
}

// ---- age ------------------------------------------------------------------

/**
 * scryptWorkFactor reads the header's scrypt stanza, if any, and returns
 * its logN (or -1 when there is none), so a file demanding more work than
 * LIMITS.maxScryptLogN is refused before any scrypt runs.
 */
export function scryptWorkFactor(header) {
  const lines = header.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i];
    if (l.startsWith("---")) break;
    if (l.startsWith("-> scrypt ")) {
      const args = l.split(" ");
      if (args.length !== 4 || !/^[1-9][0-9]?$/.test(args[3])) throw new OpenError("damaged", "invalid scrypt stanza");
      return Number(args[3]);
    }
  }
  return -1;
}

function hasX25519(header) {
  return /\n-> (X25519|mlkem768x25519) /.test(header);
}

async function openAge(file, armored, cred, progress) {
  let source;
  let size = file.size;
  if (armored) {
    try {
      source = armor.decode(await file.text());
    } catch (e) {
      throw new OpenError("damaged", "armor: " + e.message);
    }
    size = source.length;
  }
  const headBytes = armored ? source.subarray(0, 64 << 10) : new Uint8Array(await file.slice(0, 64 << 10).arrayBuffer());
  const header = latin1(headBytes);
  const logN = scryptWorkFactor(header);
  if (logN > LIMITS.maxScryptLogN) throw new OpenError("unsafe", "scrypt", { logN, max: LIMITS.maxScryptLogN });

  const d = new Decrypter();
  const ids = (cred.identities || []).filter((s) => s.trim() !== "");
  if (logN >= 0) {
    if (!cred.password) throw new OpenError("needpassword");
    d.addPassphrase(cred.password);
  } else {
    if (ids.length === 0) {
      throw new OpenError(hasX25519(header) ? "needkey" : "password");
    }
  }
  for (const id of ids) {
    try {
      d.addIdentity(id.trim());
    } catch {
      throw new OpenError("badkey");
    }
  }
  let out;
  try {
    out = await d.decrypt(armored ? new Blob([source]).stream() : file.stream());
  } catch (e) {
    const m = String((e && e.message) || e);
    if (m.startsWith("no identity matched")) throw new OpenError("password");
    if (m.includes("work factor")) throw new OpenError("unsafe", "scrypt", { logN, max: LIMITS.maxScryptLogN });
    throw new OpenError("damaged", "age: " + m.slice(0, 100));
  }
  // Read the whole payload: every STREAM chunk's tag is checked on the way,
  // and a truncated file fails at the end. Nothing is handed out before.
  const chunks = [];
  let n = 0;
  let expected = 0;
  try {
    expected = out.size(size);
  } catch {
    throw new OpenError("damaged", "age: payload size");
  }
  try {
    const r = out.getReader();
    for (;;) {
      const { value, done } = await r.read();
      if (done) break;
      n += value.length;
      if (n > LIMITS.maxTotal) throw new OpenError("unsafe", "total", { max: LIMITS.maxTotal });
      chunks.push(value);
      if (progress) progress(n, expected);
    }
  } catch (e) {
    if (e instanceof OpenError) throw e;
    throw new OpenError("damaged", "age: " + String((e && e.message) || e).slice(0, 100));
  }
  const pt = new Blob(chunks, { type: "application/octet-stream" });
  const bundle = await markedZip(pt, BUNDLE_COMMENT);
  if (bundle) return finish(bundle);
  return finish([{ path: ageStem(cred.name || ""), size: n, data: pt }]);
}

/** ageStem is the name a single-file age archive gives back (as the CLI). */
export function ageStem(base) {
  base = base.replace(/^.*[/\\]/, "");
  for (const suf of [".asc", ".age"]) if (base.endsWith(suf)) base = base.slice(0, -suf.length);
  if (base === "" || base === "." || base === "..") return "decrypted";
  return base;
}
