// What a phone does to a pasted password, undone: the same rule as
// kuvert's crypt.PasteCandidates (crypt/paste.go), so the page and
// `kuvert decrypt` open the same pastes.
//
// The exact input comes first. Only where the input holds the shape of a
// password kuvert generates (17 to 83 characters of its alphabet, in any
// case, with dashes, spaces or nothing between groups) is that password
// tried as kuvert wrote it: groups of five joined by dashes. A password
// the user chose is never altered.

const ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz";
const MAX_LENGTH = 83;
const MIN_LENGTH = 17;
const GROUP = 5;
export const MAX_CANDIDATES = 4;

const SEPARATORS = new Set(["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"]);

function isSeparator(ch) {
  return SEPARATORS.has(ch) || /\s/u.test(ch);
}

function fits(n) {
  return n >= MIN_LENGTH && n <= MAX_LENGTH;
}

// passwordIn picks the password out of a run's tokens: one token of the
// right length, or the longest stretch of five-letter groups (the last
// may be shorter).
function passwordIn(tokens) {
  if (tokens.length === 1) return fits(tokens[0].length) ? tokens[0] : "";
  let best = "";
  for (let i = 0; i < tokens.length; i++) {
    let joined = "";
    for (let j = i; j < tokens.length; j++) {
      const t = tokens[j];
      if (t.length > GROUP || (j > i && tokens[j - 1].length !== GROUP)) break;
      joined += t;
      if (fits(joined.length) && joined.length > best.length) best = joined;
    }
  }
  return best;
}

function runs(s) {
  const out = [];
  let tokens = [];
  let cur = "";
  const endToken = () => {
    if (cur !== "") {
      tokens.push(cur);
      cur = "";
    }
  };
  const endRun = () => {
    endToken();
    const p = passwordIn(tokens);
    if (p !== "") out.push(p);
    tokens = [];
  };
  for (const ch of s) {
    const lc = ch.toLowerCase();
    if (lc.length === 1 && lc.charCodeAt(0) < 128 && ALPHABET.includes(lc)) cur += lc;
    else if (isSeparator(ch)) endToken();
    else endRun();
  }
  endRun();
  return out;
}

function regroup(run) {
  const groups = [];
  for (let i = 0; i < run.length; i += GROUP) groups.push(run.slice(i, i + GROUP));
  return groups.join("-");
}

/**
 * pasteCandidates returns the passwords to try, in order.
 * @param {string} input
 * @returns {string[]}
 */
export function pasteCandidates(input) {
  const out = [input];
  for (const r of runs(input)) {
    const c = regroup(r);
    if (!out.includes(c) && out.length < MAX_CANDIDATES) out.push(c);
  }
  return out;
}
