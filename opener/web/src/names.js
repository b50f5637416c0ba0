// Safe file names for saving: what an archive calls a file is chosen by
// whoever made the archive, so before a name reaches the download
// attribute or the screen it loses path separators, control and bidi
// characters (which can make "gpj.exe" read as "exe.jpg") and what Windows
// reserves.

// Windows reserves these device names with any extension, and compares
// the part before the first dot with its trailing spaces removed, so
// "CON .txt" is CON as much as "CON.txt" is (RtlIsDosDeviceName_U).
const RESERVED = /^(con|prn|aux|nul|conin\$|conout\$|clock\$|com[0-9¹²³]|lpt[0-9¹²³]) *(\..*)?$/i;
// C0 and C1 controls, DEL, bidi marks, embeddings, overrides and isolates,
// zero-width characters, the line and paragraph separators, BOM.
// eslint-disable-next-line no-control-regex
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;
const WINDOWS_FORBIDDEN = /[<>:"/\\|?*]/g;

/**
 * safeName turns an archive entry's path into one file name that is safe
 * to offer for saving: folders are kept in the name, joined with "_".
 * @param {string} path
 * @returns {string}
 */
export function safeName(path) {
  const parts = String(path).normalize("NFC").split(/[/\\]+/).filter((p) => p !== "" && p !== "." && p !== "..");
  let name = parts.map(cleanPart).filter((p) => p !== "").join("_");
  if (name.length > 180) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 12 ? name.slice(dot) : "";
    name = name.slice(0, 180 - ext.length) + ext;
  }
  name = name.replace(/[. ]+$/, ""); // a cut can leave one; Windows drops it
  if (name === "") name = "fil";
  if (RESERVED.test(name)) name = "_" + name;
  return name;
}

function cleanPart(p) {
  let s = p.replace(INVISIBLE, "").replace(WINDOWS_FORBIDDEN, "_");
  s = s.replace(/[. ]+$/, ""); // Windows drops trailing dots and spaces
  s = s.replace(/^\.+/, (m) => "_".repeat(m.length)); // no hidden files
  return s;
}
