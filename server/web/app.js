// The registrar's page of `kuvert server`: search, export and verify the
// central log. Plain JavaScript, no build step, nothing loaded from
// elsewhere (the page's CSP allows only this origin).
//
// Rules this file keeps:
//   - the token lives in sessionStorage only (this tab, until it closes or
//     the registrar logs out); it goes in the Authorization header, never
//     in a URL, never in localStorage;
//   - every text from the log (case numbers, file names, notes: chosen by
//     the people who sealed) is inserted with textContent, never as HTML;
//   - errors are plain words, Swedish first, English beside.
'use strict';

(() => {
  const TOKEN_KEY = 'kuvert.registrar.token';
  const $ = (id) => document.getElementById(id);

  // ---- small DOM helpers -------------------------------------------------

  // el makes an element; children are nodes or strings (as text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === undefined || c === null || c === '') continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }

  // bi is Swedish text with its English beside it.
  function bi(sv, en) {
    const f = document.createDocumentFragment();
    f.append(document.createTextNode(sv));
    if (en) f.append(' ', el('span', { lang: 'en', class: 'en' }, '/ ' + en));
    return f;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function show(node, on) {
    node.hidden = !on;
  }

  // when formats an RFC 3339 time as local "2026-11-23 14:05".
  function when(t, seconds) {
    if (!t) return '';
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return t;
    const p = (n) => String(n).padStart(2, '0');
    let s = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
    if (seconds) s += ':' + p(d.getSeconds());
    return s;
  }

  function today() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  }

  // ---- the log's vocabulary (auditlog.Action.Swedish, Status.Swedish) ----

  const ACTIONS = {
    'seal': ['krypterad', 'sealed'],
    'seal-failed': ['krypterad, sedan borttagen', 'sealed, then removed'],
    'sms': ['sms', 'SMS'],
    'mail': ['e-post', 'mail'],
    'sms-status': ['sms-status', 'SMS status'],
    'prune': ['gallring', 'pruning'],
    'repair': ['reparation', 'repair'],
    'superseded': ['ersatt', 'superseded'],
  };
  const action = (a) => (ACTIONS[a] || [a])[0];
  // A delivery's state is worded by the server (auditlog's one wording,
  // the row's state): a demo text is never called sent.

  // tone says how a sealing's state should look: ok (the phone has the
  // password), bad (it will not arrive, or the archive was removed) or
  // neutral.
  function tone(s, e) {
    const st = e && e.delivery ? e.delivery.status : '';
    if (s.superseded_by) return 'neutral';
    if (s.removed || st === 'failed' || st === 'undelivered') return 'bad';
    if (st === 'delivered') return 'ok';
    return 'neutral';
  }

  // ---- the API -------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || 'HTTP ' + status);
      this.status = status;
      this.code = code;
    }
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  async function call(path, tok) {
    let res;
    try {
      res = await fetch(path, {
        headers: { 'Authorization': 'Bearer ' + (tok || token()) },
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new ApiError(0, 'network', '');
    }
    if (!res.ok) {
      let body = {};
      try { body = await res.json(); } catch (e) { /* not JSON: a proxy's page */ }
      throw new ApiError(res.status, body.code || '', body.message || '');
    }
    return res;
  }

  // explain turns an error into plain words: [Swedish, English].
  function explain(err) {
    if (!(err instanceof ApiError)) {
      return ['Något gick fel på sidan. Ladda om sidan och försök igen.', 'Something went wrong on the page. Reload it and try again.'];
    }
    switch (err.status) {
      case 0:
        return ['Servern kunde inte nås. Kontrollera nätverket och försök igen.', 'The server could not be reached. Check the network and try again.'];
      case 401:
        return ['Token är okänd eller återkallad. Kontrollera att du klistrat in hela token, eller be administratören om en ny.',
          'The token is unknown or has been revoked. Check that you pasted all of it, or ask the administrator for a new one.'];
      case 403:
        return ['Den här token får inte läsa loggen: det är en enhets-token (för en dator eller batchvärd). Logga in med en registrator-token.',
          'This token may not read the log: it is a device token (for a computer or batch host). Sign in with a registrar token.'];
      case 400:
        return ['Sökningen kunde inte tolkas. Kontrollera datumen och mottagarens siffror.',
          'The search could not be read' + (err.message ? ': ' + err.message : '.')];
      case 503:
        return ['Databasen svarar inte just nu. Försök igen om en stund; kvarstår felet, kontakta driften.',
          'The database does not answer right now. Try again in a moment; if it persists, contact IT operations.'];
      default:
        return [`Servern svarade med ett fel (${err.status}). Försök igen; kvarstår felet, kontakta driften.`,
          `The server answered with an error (${err.status}). Try again; if it persists, contact IT operations.`];
    }
  }

  function showProblem(node, err) {
    const [sv, en] = Array.isArray(err) ? err : explain(err);
    clear(node);
    node.append(bi(sv, en));
    show(node, true);
  }

  // A token the server refuses ends the session: back to the sign-in
  // form with the reason.
  function refused(err) {
    return err instanceof ApiError && (err.status === 401 || err.status === 403);
  }

  // ---- signing in and out ------------------------------------------------

  function showLogin(err) {
    sessionStorage.removeItem(TOKEN_KEY);
    clearResults();
    clear($('verify-result'));
    show($('app'), false);
    show($('logout'), false);
    show($('login'), true);
    $('token').value = '';
    if (err) showProblem($('login-error'), err);
    else show($('login-error'), false);
    $('token').focus();
  }

  function showApp() {
    show($('login'), false);
    show($('login-error'), false);
    show($('app'), true);
    show($('logout'), true);
  }

  async function signIn(ev) {
    ev.preventDefault();
    const tok = $('token').value.trim();
    if (!tok) {
      showProblem($('login-error'), ['Klistra in din token.', 'Paste your token.']);
      $('token').focus();
      return;
    }
    const btn = $('login-btn');
    btn.disabled = true;
    try {
      // The first search is the check: it needs a token that may read
      // the log (a device token gets 403 here).
      const res = await call('/api/v1/log/entries?' + query(readForm()).toString(), tok);
      const data = await res.json();
      sessionStorage.setItem(TOKEN_KEY, tok);
      $('token').value = '';
      showApp();
      render(data, readForm());
      verify();
      $('search-h').focus();
    } catch (err) {
      $('token').value = '';
      showProblem($('login-error'), err);
      $('token').focus();
    } finally {
      btn.disabled = false;
    }
  }

  // ---- searching -----------------------------------------------------

  function readForm() {
    const v = (id) => $(id).value.trim();
    return { from: v('f-from'), to: v('f-to'), case: v('f-case'), ref: v('f-ref'), sender: v('f-sender'), recipient: v('f-recipient') };
  }

  // check finds what the server would refuse, in plain words.
  function check(f) {
    if (f.recipient && !/[0-9]/.test(f.recipient)) {
      return ['Ange mottagarens nummer med siffror, till exempel de sista två: 67.', 'Give the recipient\'s number in digits, e.g. the last two: 67.'];
    }
    if (f.from && f.to && f.from > f.to) {
      return ['Från-datumet ligger efter till-datumet.', 'The from date is after the to date.'];
    }
    return null;
  }

  function query(f) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    return q;
  }

  let busy = false;

  // validForm reads the search form, or shows what is wrong with it and
  // returns null.
  function validForm() {
    const f = readForm();
    const bad = check(f);
    if (bad) {
      showProblem($('search-error'), bad);
      return null;
    }
    show($('search-error'), false);
    return f;
  }

  async function search(ev) {
    if (ev) ev.preventDefault();
    if (busy) return;
    const f = validForm();
    if (!f) return;
    setBusy(true, ['Söker …', 'Searching …']);
    try {
      const res = await call('/api/v1/log/entries?' + query(f).toString());
      render(await res.json(), f);
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  function setBusy(on, words) {
    busy = on;
    for (const b of document.querySelectorAll('#search-form button')) b.disabled = on;
    $('search').setAttribute('aria-busy', on ? 'true' : 'false');
    if (on && words) {
      clear($('search-status'));
      $('search-status').append(bi(words[0], words[1]));
    }
  }

  function fail(err) {
    if (refused(err)) {
      showLogin(err);
      return;
    }
    clear($('search-status'));
    showProblem($('search-error'), err);
  }

  function clearResults() {
    clear($('sealings').tBodies[0]);
    clear($('others').tBodies[0]);
    clear($('search-status'));
    show($('search-error'), false);
    show($('results'), false);
  }

  const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

  // render shows a search answer: each entry once in data.entries (the
  // log's fold: one row per SMS, each sealing with its current
  // delivery), the sealings' states by id in data.sealings.
  function render(data, f) {
    const entries = data.entries || [];
    const byID = new Map(entries.map((e) => [e.id, e]));
    const sealings = (data.sealings || []).filter((s) => byID.has(s.id));
    const others = entries.filter((e) => e.action !== 'seal');
    const sb = $('sealings').tBodies[0];
    const ob = $('others').tBodies[0];
    clear(sb);
    clear(ob);
    // Newest first: what a registrar looks for is usually recent.
    for (const s of sealings.slice().reverse()) sb.append(sealingRow(s, byID.get(s.id)));
    for (const e of others.slice().reverse()) ob.append(otherRow(e, byID));
    show($('sealings'), sealings.length > 0);
    show($('sealings-empty'), sealings.length === 0);
    show($('others'), others.length > 0);
    show($('others-empty'), others.length === 0);
    show($('results'), true);

    const st = $('search-status');
    clear(st);
    const filtered = Object.values(f).some((v) => v);
    st.append(bi(
      `${filtered ? 'Hittade' : 'Senaste posterna:'} ${plural(sealings.length, 'krypterad försändelse', 'krypterade försändelser')} och ${plural(others.length, 'övrig post', 'övriga poster')}.`,
      `${filtered ? 'Found' : 'Latest entries:'} ${plural(sealings.length, 'sealing', 'sealings')} and ${plural(others.length, 'other entry', 'other entries')}.`));
    if (data.truncated) {
      st.append(el('br'), el('strong', {}, bi('Fler poster matchade än som visas; begränsa sökningen eller exportera (högst 10 000).',
        'More entries matched than are shown; narrow the search or export (up to 10,000).')));
    }
    const bad = data.unverified || [];
    if (bad.length > 0) {
      // Entries whose stored text no longer matches the signed log: left
      // out of the results, never shown as if they were true.
      st.append(el('br'), el('strong', { class: 'bad', id: 'unverified' }, bi(
        `${plural(bad.length, 'post', 'poster')} stämmer inte med den signerade loggen och visas inte (plats ${bad.join(', ')}). Kontrollera loggen nedan och kontakta serverns administratör.`,
        `${plural(bad.length, 'entry does', 'entries do')} not match the signed log and ${bad.length === 1 ? 'is' : 'are'} not shown (place ${bad.join(', ')}). Verify the log below and tell the server's administrator.`)));
    }
  }

  function td(label, ...children) {
    // One wrapper, so that on a phone the cell is two columns: its
    // name (CSS, from data-label) and this.
    return el('td', { 'data-label': label }, el('div', { class: 'cell' }, ...children));
  }

  function sender(e) {
    const who = e.operator_name ? `${e.operator_name} (${e.operator})` : (e.operator || '');
    const where = [e.device, e.host && e.host !== e.device ? e.host : ''].filter(Boolean).join(' · ');
    return [el('span', { class: 'who' }, who), where ? el('span', { class: 'small' }, where) : null];
  }

  function files(e) {
    const out = [];
    if (e.archive) out.push(el('span', { class: 'archive' }, e.archive.name));
    const names = (e.files || []).map((f) => f.name);
    const total = e.file_count || names.length;
    if (names.length) {
      const shown = names.slice(0, 3);
      let txt = shown.join(', ');
      if (total > shown.length) txt += ` + ${total - shown.length} till / more`;
      out.push(el('span', { class: 'small' }, txt));
    }
    return out;
  }

  function sealingRow(s, e) {
    const d = e.delivery;
    const stateCell = td('Status / State', el('span', { class: 'state ' + tone(s, e), 'data-testid': 'state' }, s.state));
    if (d && d.error) stateCell.firstChild.append(el('span', { class: 'small' }, d.error));
    if (s.superseded_by) stateCell.firstChild.append(el('span', { class: 'small' }, 'av / by ' + s.superseded_by));
    return el('tr', { 'data-testid': 'sealing', 'data-id': e.id },
      td('Tid / Time', el('time', { datetime: e.time }, when(e.time))),
      td('Diarienummer / Case', el('span', { class: 'case' }, e.case || '–')),
      td('Filer / Files', ...files(e)),
      td('Avsändare / Sender', ...sender(e)),
      td('Mottagare / Recipient', el('span', { class: 'nowrap' }, d && d.to ? d.to : '–')),
      td('Referens / Reference', el('span', { class: 'mono' }, d && d.ref ? d.ref : '–')),
      stateCell);
  }

  function otherRow(e, byID) {
    const details = [];
    const d = e.delivery;
    if (d) {
      // Status, number and reference each kept whole on a narrow screen.
      const parts = [e.state || d.status || '', d.to, d.ref ? 'ref ' + d.ref : ''].filter(Boolean);
      if (parts.length) {
        const line = el('span', { class: 'parts' });
        parts.forEach((p, i) => line.append(i ? ' · ' : '', el('span', { class: 'nowrap' }, p)));
        details.push(line);
      }
      if (d.error) details.push(el('span', { class: 'small' }, d.error));
    }
    if (e.refers) {
      const s = byID.get(e.refers);
      const what = s ? [s.case, s.archive ? s.archive.name : ''].filter(Boolean).join(' · ') : '';
      details.push(el('span', { class: 'small' }, 'Gäller / Refers to: ' + (what || e.refers)));
    }
    if (e.details) details.push(el('span', { class: 'small' }, e.details));
    if (e.note) details.push(el('span', { class: 'small' }, e.note));
    let caseNo = e.case;
    if (!caseNo && e.refers && byID.has(e.refers)) caseNo = byID.get(e.refers).case;
    return el('tr', { 'data-testid': 'entry', 'data-id': e.id },
      td('Nr / No.', String(e.seq)),
      td('Tid / Time', el('time', { datetime: e.time }, when(e.time))),
      td('Åtgärd / Action', action(e.action)),
      td('Diarienummer / Case', caseNo || '–'),
      td('Avsändare / Sender', ...sender(e)),
      td('Uppgifter / Details', ...(details.length ? details : ['–'])));
  }

  // ---- export ------------------------------------------------------------

  async function exportCSV() {
    if (busy) return;
    const f = validForm();
    if (!f) return;
    setBusy(true, ['Exporterar …', 'Exporting …']);
    try {
      const res = await call('/api/v1/log/export.csv?' + query(f).toString());
      const blob = await res.blob();
      const name = `kuvert-logg-${today()}.csv`;
      const url = URL.createObjectURL(new Blob([blob], { type: 'text/csv;charset=utf-8' }));
      const a = el('a', { href: url, download: name, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      clear($('search-status'));
      $('search-status').append(bi(`Exporten är nedladdad: ${name} (${Math.max(1, Math.round(blob.size / 1024))} kB). Den öppnas i Excel med dubbelklick.`,
        `The export is downloaded: ${name}. It opens in Excel with a double-click.`));
      if (res.headers.get('X-Kuvert-Truncated') === 'true') {
        $('search-status').append(el('br'), el('strong', {}, bi('Fler än 10 000 poster matchade: exporten har de senaste 10 000. Begränsa sökningen (datum) och exportera resten för sig.',
          'More than 10,000 entries matched: the export holds the newest 10,000. Narrow the search (dates) and export the rest separately.')));
      }
    } catch (err) {
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  // ---- verification ------------------------------------------------------

  let verifying = false;

  async function verify() {
    if (verifying) return;
    verifying = true;
    const box = $('verify-result');
    $('verify').setAttribute('aria-busy', 'true');
    $('verify-btn').disabled = true;
    clear(box);
    box.append(el('p', { class: 'muted' }, bi('Kontrollerar hela loggen …', 'Checking the whole log …')));
    try {
      const res = await call('/api/v1/log/verify?fresh=1');
      const v = await res.json();
      clear(box);
      box.append(verdict(v));
    } catch (err) {
      if (refused(err)) {
        showLogin(err);
        return;
      }
      clear(box);
      const [sv, en] = explain(err);
      box.append(el('p', { class: 'problem' }, bi('Loggen kunde inte kontrolleras. ' + sv, 'The log could not be checked. ' + en)));
    } finally {
      verifying = false;
      $('verify').setAttribute('aria-busy', 'false');
      $('verify-btn').disabled = false;
    }
  }

  function verdict(v) {
    const f = document.createDocumentFragment();
    const h = v.head || {};
    if (v.ok) {
      f.append(el('p', { class: 'verdict ok', 'data-testid': 'verdict' },
        el('span', { class: 'mark', 'aria-hidden': 'true' }, '✓'),
        el('strong', {}, 'Loggen verifierar.'), ' ',
        el('span', { lang: 'en', class: 'en' }, '/ The log verifies.')));
      f.append(el('p', {}, bi(
        `Alla ${h.size} poster stämmer med det signerade trädhuvudet: ingen post är ändrad, borttagen eller omflyttad.`,
        `All ${h.size} entries match the signed tree head: none was changed, removed or reordered.`)));
    } else {
      f.append(el('p', { class: 'verdict bad', 'data-testid': 'verdict' },
        el('span', { class: 'mark', 'aria-hidden': 'true' }, '✗'),
        el('strong', {}, 'Loggen verifierar INTE.'), ' ',
        el('span', { lang: 'en', class: 'en' }, '/ The log does NOT verify.')));
      const p = el('div', { class: 'problem', 'data-testid': 'problem' },
        el('p', {}, bi('Loggen stämmer inte med sin signatur: någon post kan ha ändrats eller tagits bort. Kontakta systemförvaltaren och spara den här uppgiften.',
          'The log does not match its signature: an entry may have been changed or removed. Contact the system administrator and keep this information.')),
        el('p', {}, el('strong', {}, 'Felet / Problem: '), v.problem || ''));
      if (v.first_bad) p.append(el('p', {}, `Första post som inte stämmer / First entry that does not match: nr ${v.first_bad}`));
      f.append(p);
    }
    const dl = el('dl', { class: 'facts' });
    const fact = (sv, en, ...val) => dl.append(el('dt', {}, bi(sv, en)), el('dd', {}, ...val));
    fact('Storlek', 'Size', el('span', { 'data-testid': 'size' }, String(h.size ?? '')), ' ', el('span', { class: 'small inline' }, 'poster / entries'));
    fact('Rot', 'Root', el('code', { class: 'wrap' }, h.root || ''));
    fact('Signerat', 'Signed', el('time', { datetime: h.time || '' }, when(h.time, true)));
    fact('Verifieringsnyckel', 'Verifier key', el('code', { class: 'wrap', 'data-testid': 'key' }, v.key || ''));
    if (v.pruned) fact('Gallrade', 'Pruned', String(v.pruned));
    fact('Kontrollerad', 'Checked', el('time', { datetime: v.checked || '' }, when(v.checked, true)));
    f.append(dl);
    if (h.note) {
      f.append(el('details', {}, el('summary', {}, bi('Signerat trädhuvud', 'Signed tree head')), el('pre', { class: 'wrap' }, h.note)));
    }
    return f;
  }

  // ---- start -------------------------------------------------------------

  function logout() {
    $('search-form').reset();
    showLogin(null);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', signIn);
    $('search-form').addEventListener('submit', search);
    $('search-form').addEventListener('reset', () => show($('search-error'), false));
    $('export-btn').addEventListener('click', exportCSV);
    $('verify-btn').addEventListener('click', verify);
    $('logout').addEventListener('click', logout);
    if (token()) {
      // A reload within the tab: still signed in.
      showApp();
      search();
      verify();
    } else {
      show($('login'), true);
      $('token').focus();
    }
  });
})();
