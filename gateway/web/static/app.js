// Guard pages: the small helpers every page shares. No framework, no build step.
"use strict";
const boot = JSON.parse(document.getElementById("boot").textContent);
const T = (key) => boot.texts[key] || key;
// "{name}" in a text, filled in (a function, so that a "$&" typed into a value stays as typed).
// The pages need no more than Chrome/WebView 61 and Safari 15.4 (docs/guard-app.md): ES2018 syntax
// (tests/ui/test_old_tablet_js.py parses it so), and no call newer than those (Object.hasOwn is
// Chrome 93, replaceChildren 86, requestSubmit Safari 16).
const owns = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (owns(values, k) ? values[k] : m));

// A page answered to a search sent by POST (查询: a resident's phone number is never put in the
// address, docs/guard-app.md). Its history entry is made a plain GET of its address at once: the
// browser keeps no form data, and a reload by the guard asks nothing and draws the page afresh.
// The page's own reloads (a card blocked, the language switched) send the search again instead.
const searchAgain = document.querySelector("form[data-search-again]");
if (searchAgain) history.replaceState(history.state, "", location.href);
function reloadPage() {
  if (!searchAgain) { location.reload(); return; }
  searchAgain.elements.csrf.value = boot.csrf;  // the session's now: it may have been taken anew (freshCsrf)
  searchAgain.submit();
}

// A building and unit as the guard reads them, kept apart: the central server sends a resident's
// as bare numbers (docs/mqtt.md: "3", "2"), and run together building 3 unit 12 and building 31
// unit 2 both read 312. A resident's bare number is named (3栋2单元, Bldg 3 Unit 2); one stored with
// its word (3栋, A座) is left as it is, and where letters or digits would still meet (A1 and 2) a
// space parts them. A pass's host (`kind` visitor or contractor) was typed at the booth into a
// 单元/房号 field, a unit or a room: shown as typed, a space between (3 1201, as the pass page),
// never named a unit 1201 that does not exist.
const address = (kind, building, unit) => {
  const typed = [(building || "").trim(), (unit || "").trim()];
  if (kind !== "resident") return typed.filter(Boolean).join(" ");
  const named = (key, v) => (/^[0-9０-９]+$/.test(v) ? fill(T(key), { n: v }) : v);
  const b = named("holder.building", typed[0]), u = named("holder.unit", typed[1]);
  if (!b || !u) return b || u;
  if (/[0-9A-Za-z]$/.test(b) && /^[0-9A-Za-z]/.test(u)) return `${b} ${u}`;
  return fill(T("holder.address"), { building: b, unit: u });
};

class ApiFailure extends Error {
  constructor(error, status) {
    super(error.message);
    this.fix = error.fix || ""; this.code = error.code; this.fields = error.fields || []; this.status = status;
    this.data = error;  // the answer's error whole: what it holds besides (its tickets, when a car left)
  }
}

// An answer not come whole within ANSWER_WAIT_MS is no answer (`network`): the Wi-Fi dropped
// after the request went out leaves fetch waiting minutes (no FIN, no RST), the button greyed and
// nothing said, and the guard's way out, a reload, lost what he typed and the form's key (typed
// again, a second pass). Longer than the gateway's longest wait before it answers (a parking
// change waits PARKING_WRITE_S, 30 s, for the worker: api/parking.py; a test keeps it so). With no
// AbortController (Chrome 66, Safari 12.1; the pages need Chrome 61) there is no limit, as before.
const ANSWER_WAIT_MS = 45000;
async function answerInTime(url, init) {
  const stop = typeof AbortController === "function" ? new AbortController() : null;
  const timer = stop ? setTimeout(() => stop.abort(), ANSWER_WAIT_MS) : 0;
  try {
    const res = await fetch(url, stop ? { ...init, signal: stop.signal } : init);
    return { res, text: await res.text() };  // the body too: a 200 cut off is no answer either
  } finally {
    clearTimeout(timer);
  }
}

// An error answer that is not the gateway's JSON (Starlette's plain-text 500, a 502 or 504 of
// something in between): a 5xx may come after the change was made, as the gateway's own fault
// does (internal_error: look before doing it again), never its English status text alone.
const notOurs = (res) => ({ code: res.status >= 500 ? "internal_error" : "", message: res.statusText });

// `headers`: more request headers. A 401 (the session ended) keeps what was typed and goes to the
// login, which comes back here; a 403 "csrf" (logged in again, on another tab) takes the new
// session's token and tries once more, if that session is the same guard's (freshCsrf).
// `what`: a change as the guard knows it (car-in · 开闸): cut off by the session's end, nothing of
// it was done, and the login and the page he comes back to say so (keepNotDone); or, for a lane
// by hand, {name, key}: its Idempotency-Key kept too, and an earlier try of it that went
// unanswered (key.lost) said as perhaps done, not as not done.
async function api(method, url, body, headers = {}, what = "", retried = false) {
  let res, text;
  try {
    ({ res, text } = await answerInTime(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": boot.csrf, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    }));
  } catch (err) {  // no answer at all, or none in time: "Failed to fetch" is for developers
    throw new ApiFailure({ code: "network", message: err.message }, 0);
  }
  if (res.status === 401) {
    keepForms();
    const change = method !== "GET";
    if (change) keepNotDone(what || T("form.not_done.unnamed"));
    const undone = change && !(what && what.key && what.key.lost);
    location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search) +
      `&error=${undone ? "ended_undone" : "ended"}`;
    return new Promise(() => {});  // the page is leaving: nothing to show, nothing to re-enable
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = JSON.parse(text); } catch (err) { /* not JSON: notOurs */ }
  const error = (data && data.error) || notOurs(res);
  if (res.status === 403 && error.code === "csrf" && !retried && await freshCsrf()) {
    return api(method, url, body, headers, what, true);
  }
  if (!res.ok) throw new ApiFailure(error, res.status);
  return data;
}

// The new session is another guard's (a shift handover on a shared tablet): the page still shows
// the last one's name, and the audit must not name the next one for what this page sends. Nothing
// is sent; what was typed is kept for its own guard, as at a login, and the page must be reloaded.
async function freshCsrf() {
  let me;
  try { me = await api("GET", "/api/me", undefined, {}, "", true); } catch (err) { return false; }
  if (!me || !me.csrf || me.csrf === boot.csrf) return false;
  if (me.username !== boot.user) {
    keepForms();
    throw new ApiFailure({ code: "other_user", message: `logged in as ${me.username} since the page was drawn` }, 403);
  }
  boot.csrf = me.csrf;
  return true;
}

// What was typed, kept in this tab's sessionStorage while the guard logs in again. Phone and ID
// numbers are left out: the gateway keeps them only masked or hashed, and a page should not leave
// them in clear in the browser either; the guard types them again (the toast says so).
const KEPT = "egw-form:";
const NOT_KEPT = /(^|_)(id_number|phone|password|token|csrf)$/;
const OCCUPANTS = "occupants";  // a kept form's rows of people in the vehicle, as formBody sends them
// The forms kept: those app.js sends (data-api) and those a page's own script sends (data-keep:
// 交班). Each by a key that names it on any page drawn: its id, else where it is sent (a car's 续期
// names the car). Never by its place among the forms: a search's results add forms before 禁用,
// and a kept 禁用 would come back in 解除禁用. A key two forms share names neither: not kept.
const KEPT_FORMS = "form[data-api], form[data-keep]";
function formsByKey() {
  const byKey = new Map();
  for (const form of document.querySelectorAll(KEPT_FORMS)) {
    const key = form.id || `${form.dataset.method || "POST"} ${form.dataset.api}`;
    byKey.set(key, byKey.has(key) ? null : form);
  }
  return byKey;
}
// What a form kept but not filled in again is called in the toast: its button's words (续期).
function formName(form) {
  const button = form.querySelector("button[type=submit], button:not([type])");
  return button ? button.textContent.trim() : "";
}
function keepForms() {
  const forms = {};
  formsByKey().forEach((form, key) => {
    if (!form) return;
    const values = {};
    for (const el of form.elements) {
      if (!el.name || NOT_KEPT.test(el.name) || ["password", "hidden", "file"].includes(el.type)) continue;
      if (el.type === "checkbox") { if (el.checked !== el.defaultChecked) values[el.name] = el.checked; }
      else if (el.value.trim() && el.value !== el.defaultValue) values[el.name] = el.value;
    }
    // The people in the vehicle have no names (occupantsOf): kept as rows, by the same rule.
    const rows = Array.from(form.querySelectorAll("[data-occupant-row]"), (row) => {
      const person = {};
      for (const el of row.querySelectorAll("[data-field]")) {
        if (!NOT_KEPT.test(el.dataset.field) && el.value.trim()) person[el.dataset.field] = el.value;
      }
      return person;
    });
    if (rows.length) values[OCCUPANTS] = rows;
    if (Object.keys(values).length) forms[key] = { name: formName(form), values };
  });
  try {
    // Whose, and when: only the same guard gets it back, and only soon after (a shared tablet).
    const kept = { user: boot.user, at: Date.now(), forms };
    if (Object.keys(forms).length) sessionStorage.setItem(KEPT + location.pathname + location.search, JSON.stringify(kept));
  } catch (err) { /* storage full or off: the login still comes back here */ }
}
const KEPT_FOR_MS = 15 * 60 * 1000;

function forgetForms() {
  try {
    for (const key of Object.keys(sessionStorage)) {
      if (key.startsWith(KEPT) || key === NOT_DONE) sessionStorage.removeItem(key);
    }
  } catch (err) { /* storage off: nothing was kept */ }
}

// The changes a session's end cut off (a 401: nothing of them was done), named on the page drawn
// after the login: a guard who tapped 开闸 as his hours ran out believed the barrier rose, and the
// driver waited at a shut one. For the same guard, and soon after, as the forms kept. A lane by
// hand keeps its Idempotency-Key (`what.key`, live.js handKey), sent by the first tap of it after
// the login: one tried before and unanswered (网关没有回应) may have been done, and is named so
// (form.maybe_done), not "do it again"; tapped again all the same, a done one is answered `again`
// rather than the barrier raised a second time (a key lost with the reload was a new opening).
const NOT_DONE = "egw-not-done";
function keepNotDone(what) {
  const { name, key } = typeof what === "string" ? { name: what, key: null } : what;
  try {
    const kept = JSON.parse(sessionStorage.getItem(NOT_DONE) || "null");
    const mine = kept && kept.user === boot.user ? kept : {};
    const cut = { what: mine.what || [], maybe: mine.maybe || [], keys: mine.keys || {} };
    const list = key && key.lost ? cut.maybe : cut.what;
    if (!list.includes(name)) list.push(name);
    if (key) cut.keys[key.what] = { key: key.key, lost: key.lost, until: key.until };
    sessionStorage.setItem(NOT_DONE, JSON.stringify({ user: boot.user, at: Date.now(), ...cut }));
  } catch (err) { /* storage off: the login page still says something was not done */ }
}
// The lane keys kept when the login ran out (what -> {key, until, lost}), for live.js: until the
// time a live page keeps them, RETRY_MS from the tap (kept for KEPT_FOR_MS, the next car's 开闸
// minutes after the login was answered as the opening the guard had seen in the list, and none made).
let keptKeys = {};
function notDoneWords() {
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(NOT_DONE) || "null"); sessionStorage.removeItem(NOT_DONE); } catch (err) { return ""; }
  if (!kept || kept.user !== boot.user || !(Date.now() - kept.at < KEPT_FOR_MS)) return "";
  for (const [what, key] of Object.entries(kept.keys || {})) {
    if (Date.now() < key.until) keptKeys[what] = { key: key.key, lost: key.lost, until: key.until };
  }
  const join = (names) => names.join(boot.lang === "zh" ? "；" : "; ");
  const said = [];
  if ((kept.what || []).length) said.push(fill(T("form.not_done"), { what: join(kept.what) }));
  if ((kept.maybe || []).length) said.push(fill(T("form.maybe_done"), { what: join(kept.maybe) }));
  return said.join(" ");
}

// After a login: what was cut off, said first, and the forms kept. Shown longer than a toast.
const SAID_AFTER_LOGIN_MS = 20000;
function sayAfterLogin() {
  const notDone = notDoneWords();
  const forms = restoreForms();
  const said = [notDone, ...forms.said].filter(Boolean);
  if (said.length) toast(said.join(" "), Boolean(notDone) || forms.bad, notDone ? SAID_AFTER_LOGIN_MS : 0);
}

// Each kept form is filled in again where the page drawn after the login has it; one it has not
// (a search's 续期: the login comes back to the page without the search) is named: the words to say.
function restoreForms() {
  const key = KEPT + location.pathname + location.search;
  const none = { said: [], bad: false };
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || "null"); sessionStorage.removeItem(key); } catch (err) { return none; }
  if (!kept || kept.user !== boot.user || !(Date.now() - kept.at < KEPT_FOR_MS)) return none;
  const byKey = formsByKey();
  const lost = [];
  let restored = false;
  for (const [formKey, { name, values }] of Object.entries(kept.forms || {})) {
    const form = byKey.get(formKey);
    if (!form) { if (name && !lost.includes(name)) lost.push(name); continue; }
    restored = true;
    for (const [field, value] of Object.entries(values || {})) {
      if (field === OCCUPANTS) {
        const box = form.querySelector("[data-occupants]");
        if (box) for (const person of value) addOccupant(box, person);
        continue;
      }
      const el = form.elements[field];
      if (!el || !("value" in el)) continue;
      if (el.type === "checkbox") el.checked = value; else el.value = value;
    }
  }
  const said = restored ? [T("form.restored")] : [];
  if (lost.length) said.push(fill(T("form.not_restored"), { forms: lost.join(" · ") }));
  return { said, bad: lost.length > 0 };
}

let toastTimer = 0;
// `ms`: how long it stays, where longer than the usual.
function toast(text, bad, ms = 0) {
  const el = document.getElementById("toast");
  el.textContent = text; el.className = bad ? "bad" : ""; el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, Math.max(ms, bad ? 6000 : 2500));
}

// An error in the page's language: the words for its code, and the fields it names as the form
// labels them. Where the page has no words of its own, or only a heading (a rule refused it: which
// rule only the gateway says), the API's English message and fix, which say what to do: better
// than a "try again" that may take a fee twice.
//
// A field typed wrong that the guard cannot put right from its name alone (a plate copied from
// the car as 苏E8888O, the letter O for a 0): what such a field holds is said too, as the plate
// dialog says it (err.invalid_plate: no I or O), not only "check the plate".
//
// What the error holds besides (docs/guard-app.md) is said in the page's words too: a time filled
// into them as the site's clock reads it ({left_at}: 2025-03-10 07:00), and the tickets of the cars
// with no plate inside said after them, for the guard to find the one the driver holds.
// Codes whose words head the gateway's own message rather than replace it (which rule refused it).
const HEADINGS = new Set(["refused"]);
const SITE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
const shown = (value) =>
  (typeof value === "string" && SITE_TIME.test(value) ? value.slice(0, 16).replace("T", " ") : value);
function ticketsInside(tickets) {
  if (!Array.isArray(tickets)) return [];
  if (!tickets.length) return [T("ticket.none")];
  return [fill(T("ticket.inside_now"), { tickets: tickets.join(boot.lang === "zh" ? "、" : ", ") })];
}
// A credential's kind the error names (card, plate, qr) in the page's word for it (卡, 车牌, 二维码).
const kindWord = (key, value) => (key === "kind" && boot.texts["kind." + value]) || shown(value);
// The monitoring centre in the page's words (the gateway's `by` has it in Chinese): its operator
// in brackets, or the centre alone where its command named none.
const centreName = (operator) => (operator ? fill(T("actor.centre.named"), { operator }) : T("actor.centre"));
// Who did or holds something: the centre (its operator, `centre`) in the page's words, anyone else
// by the name the gateway gives (a guard's display name).
const actorName = (centre, name) => (typeof centre === "string" ? centreName(centre) : name);
// An answer that may have been lost on the Wi-Fi (or a fault of the gateway's): the change may be done.
const unknownAnswer = (err) => err.code === "network" || err.code === "internal_error";
function ownWords(words, data) {
  const values = {};
  for (const [key, value] of Object.entries(data || {})) values[key] = kindWord(key, value);
  return [fill(words, values), ...ticketsInside(values.tickets)].join(boot.lang === "zh" ? "。" : ". ");
}
const FIELD_RULES = new Map([
  ["plate", "err.invalid_plate"], ["hours", "err.invalid_hours"],
  ["id_number", "err.invalid_id_number"], ["phone", "err.invalid_phone"],
]);
// A field of a person in the vehicle (occupants.2.id_number, the third row's ID number): named by
// his row as the form heads it (乘车人 3 证件号码), checked by the rule of the visitor's own field.
// An ID number not from a resident ID card (the error's id_kinds: a passport, a permit) is said
// what that document's number looks like, not an ID card's 18 characters.
const OCCUPANT_FIELD = /^occupants\.(\d+)\.(\w+)$/;
function fieldRule(field, err) {
  const rule = FIELD_RULES.get(field.replace(OCCUPANT_FIELD, "$2"));
  const kind = err.data && err.data.id_kinds && err.data.id_kinds[field];
  return kind && kind !== "resident_id" ? `${rule}.${kind}` : rule;
}
// A field's rule in words, said with what the error holds where the rule has words for that
// (`<rule>.data`, each blank filled): a green plate typed without its province on the visitor or
// contractor form (the error's plate and army) is told as the lane tells it, not "no I or O".
function ruleWords(words, field, err) {
  const rule = fieldRule(field, err);
  const named = words[`${rule}.data`];
  return named && err.data && blanks(named).every((key) => owns(err.data, key)) ? fill(named, err.data) : words[rule];
}
// Where a field's label is found: the visitor and pass forms', then the admin forms' (a new
// resident's 楼栋 and 单元; its 姓名 is the visitor form's word).
const LABELS = ["visitor.", "pass.", "admin."];
function fieldLabel(words, field) {
  const person = OCCUPANT_FIELD.exec(field);
  if (!person) return LABELS.map((form) => words[form + field]).find(Boolean) || field;
  const row = Number(person[1]);
  return `${words[row === 0 ? "visitor.driver" : "visitor.occupant"]} ${row + 1} ${fieldLabel(words, person[2])}`;
}
// The inputs an error names are marked (aria-invalid, outlined red) until typed into again; a
// person's in the vehicle is found in his row.
function markFields(form, err) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const rows = form.querySelectorAll("[data-occupant-row]");
  for (const field of (err && err.fields) || []) {
    const person = OCCUPANT_FIELD.exec(field);
    const row = person && rows[Number(person[1])];
    const el = person ? row && row.querySelector(`[data-field="${person[2]}"]`) : form.elements[field];
    if (el && el.setAttribute) el.setAttribute("aria-invalid", "true");
  }
}
document.addEventListener("input", (e) => {
  if (e.target.removeAttribute) e.target.removeAttribute("aria-invalid");
});
// A code the gateway narrows by what the thing is now (its `state`: already_done's not_held,
// blocked, unblocked) has words for each, true whoever made it so: a lane never held open, a card
// this guard blocked and typed again, were not done by another tablet. One that says what was asked
// (its `action`: card_ambiguous's block or unblock) has words for that too, `err.<code>.<state>.<action>`
// or `err.<code>.<action>`: an admin lifting a block was told to block the card (Review 66 R3).
const stateWords = (words, err) => {
  const data = err.data || {};
  const text = (v) => (typeof v === "string" ? v : "");
  const state = text(data.state);
  const asked = text(data.action);
  const keys = [state && asked ? `${state}.${asked}` : "", state, state ? "" : asked];
  const key = keys.find((k) => k && words[`err.${err.code}.${k}`]);
  return key ? words[`err.${err.code}.${key}`] : "";
};
// A code whose data only some of its errors carry (already_paid's receipt and time: a payment found,
// not a car let out) has words for those, `err.<code>.data`, said where the data fills each of their
// blanks; the others are said in `err.<code>`, never with a blank left showing.
const blanks = (words) => (words.match(/\{\w+\}/g) || []).map((blank) => blank.slice(1, -1));
const dataWords = (words, err) => {
  const named = words[`err.${err.code}.data`];
  return named && err.data && blanks(named).every((key) => owns(err.data, key)) ? named : "";
};
function errorText(err) {
  const words = boot.texts;
  const fields = err.fields.map((f) => fieldLabel(words, f));
  if (fields.length && words[`err.${err.code}.fields`]) {
    const zh = boot.lang === "zh";
    const named = words[`err.${err.code}.fields`] + " " + fields.join(zh ? "、" : ", ");
    // Only for fields typed wrong: closed management's refusal names fields still to fill in.
    const rules = err.code !== "invalid_pass" ? [] :
      err.fields.map((f) => ruleWords(words, f, err)).filter(Boolean);
    return [named, ...new Set(rules)].join(zh ? "。" : ". ");
  }
  const own = stateWords(words, err) || dataWords(words, err) || words["err." + err.code];
  const said = err.message ? err.message + (err.fix ? " — " + err.fix : "") : "";
  if (own && !(HEADINGS.has(err.code) && said)) return ownWords(own, err.data);
  if (said) return own ? `${own}: ${said}` : said;
  return T("err.other") + (err.code ? ` (${err.code})` : "");
}
function failed(err) {
  if (!(err instanceof ApiFailure)) err = new ApiFailure({ message: String(err) }, 0);
  toast(T("common.error") + ": " + errorText(err), true);
}

// How a data-list field's text is split into its items. Hours windows may have spaces round the
// dash (08:00 - 18:00, as the API and an import take them), so they are split on ; and , only
// (08:00-12:00;14:00-18:00, as an import writes them); other lists (plates) on spaces too. Each
// also as a Chinese keyboard types it: ；，and the enumeration comma 、 Chinese lists are written with.
const LIST_SEPARATORS = { hours: /[;；,，、\n]+/, "": /[\s;；,，、]+/ };

// A form's fields as JSON: empty fields are left out (the server's defaults apply), numbers are
// numbers, data-list fields are lists, a date as an end is the end of that day.
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    // A password goes as typed: a space at its start or end is part of it, as the login and
    // `gateway user add` keep it (cut off here, the person could not log in with what he was given).
    let v = el.type === "checkbox" ? el.checked : el.type === "password" ? el.value : el.value.trim();
    if (v === "") continue;
    if (el.type === "number") v = Number(v);
    // A last day the API takes whole (data-whole-day: stored as the next day's 00:00) goes bare;
    // other end dates end at the day's last second, start dates at its first.
    else if (el.type === "date" && "wholeDay" in el.dataset) { /* the bare date */ }
    else if (el.type === "date") v += el.name.endsWith("_to") || el.name.endsWith("_until") ? "T23:59:59" : "T00:00:00";
    else if ("list" in el.dataset) {
      v = v.split(LIST_SEPARATORS[el.dataset.list] || LIST_SEPARATORS[""]).map((s) => s.trim()).filter(Boolean);
    }
    body[el.name] = v;
  }
  if (form.querySelector("[data-occupants]")) body.occupants = occupantsOf(form);
  return body;
}

// The people in a visitor's vehicle (visitors.html): a row each, the driver first. Their inputs
// have no name (formBody would take them for the visitor's own): they are sent as `occupants`.
function occupantsOf(form) {
  return Array.from(form.querySelectorAll("[data-occupant-row]"), (row) => {
    const person = {};
    for (const el of row.querySelectorAll("[data-field]")) {
      if (el.value.trim()) person[el.dataset.field] = el.value.trim();
    }
    return person;
  });
}

// After a row is added or removed: the first is the driver, and the head count follows the list.
function renumberOccupants(box) {
  const rows = box.querySelectorAll("[data-occupant-row]");
  rows.forEach((row, i) => {
    row.querySelector(".occupant-role").textContent =
      (i === 0 ? box.dataset.driver : box.dataset.passenger) + " " + (i + 1);
  });
  const count = box.closest("form").elements.passengers;
  if (count && rows.length) count.value = rows.length;
}

document.addEventListener("click", (e) => {
  const add = e.target.closest("[data-occupant-add]");
  const remove = e.target.closest("[data-occupant-remove]");
  if (!add && !remove) return;
  const box = (add || remove).closest("[data-occupants]");
  if (remove) {
    remove.closest("[data-occupant-row]").remove();
    renumberOccupants(box);
    return;
  }
  const person = {};
  if (add.dataset.occupantAdd === "visitor") {  // the visitor is in the vehicle: copy what was typed
    const form = box.closest("form");
    for (const field of ["name", "id_kind", "id_number", "phone"]) person[field] = form.elements[field].value.trim();
  }
  addOccupant(box, person).querySelector('[data-field="name"]').focus();
});

// A row of the #occupant-row template, filled with `person` ({field: value}), at the end of the list.
function addOccupant(box, person) {
  const row = document.getElementById("occupant-row").content.firstElementChild.cloneNode(true);
  for (const [field, value] of Object.entries(person)) {
    const el = row.querySelector(`[data-field="${field}"]`);
    if (el) el.value = value;
  }
  box.querySelector("#occupant-rows").append(row);
  renumberOccupants(box);
  return row;
}

const thens = {
  reload: () => reloadPage(),
  // A car recorded inside: one with no plate is shown found by the ticket it was given, for the
  // admin to write on its paper ticket (reloaded, the list may show it below the fold).
  inside: (data) => {
    if (data && data.no_plate) location.href = "/occupancy?plate=" + encodeURIComponent(data.plate);
    else reloadPage();
  },
  // A card taken with the API's `warning` (10 digits only, at a site whose EM4100 readers all read
  // them as a hex id: the printed number opens nothing) is said, not "saved" alone (Review 66 I1).
  saved: (data, form) => {
    const saved = T("common.saved") + (data && data.id ? " #" + data.id : "");
    if (data && data.warning) toast(`${saved}. ${T("admin.card_read_as_hex")}`, true, 20000);
    else toast(saved);
    form.reset();
  },
  pass: (data) => { location.href = "/passes/" + data.id; },
  relogin: () => { location.href = "/login"; },
  token: (data) => {
    const el = document.getElementById("token-once");
    el.textContent = T("admin.token_once") + " " + data.token; el.hidden = false;
  },
  "pass-state": (data) => {
    const el = document.getElementById("pass-state");
    // A pass over or not begun whose car is blocked says both: its state, and that the car stays out.
    const car = data.vehicle_blocked && data.state !== "vehicle_blocked" ? ` · ${T("pass.car_blocked")}` : "";
    // A pass for several people (a crew, a family) lets that many in on its one QR: the guard is told.
    const people = data.passengers > 1 ? ` · ${fill(T("pass.people"), { n: data.passengers })}` : "";
    el.textContent = `#${data.id} ${data.name}${people} ${data.host_building} ${data.host_unit} ${data.plate || ""} → ${T("state." + data.state)}${car}`;
    el.className = "result pill " + (data.state === "active" ? "ok" : "bad"); el.hidden = false;
  },
};
// When a pass is checked, the last one's answer goes (a check that fails must not leave the last
// visitor shown 有效 under the code typed) and the code is selected at once, so the next scan (a
// scanner types its code and Enter) replaces it rather than joining it, even while this answer is
// still on a slow Wi-Fi. Not again when the answer comes: a scan being typed then would be cut.
const befores = {
  "pass-state": (form) => {
    document.getElementById("pass-state").hidden = true;
    if (form.elements.token) form.elements.token.select();
  },
};
// Forms that only ask (a check changes nothing): their button stays on while one is out, since a
// browser drops Enter in a form whose button is off, and a scan meanwhile must send its own check;
// only the newest one's answer is shown, so a late answer never shows under a code it was not for.
const ASKS = new Set(["pass-state"]);
const asksSent = new WeakMap();  // form -> the number of its newest ask
function nextAsk(form) {
  const sent = (asksSent.get(form) || 0) + 1;
  asksSent.set(form, sent);
  return sent;
}

document.addEventListener("submit", async (e) => {
  const form = e.target;
  if (!form.dataset || !form.dataset.api) return;
  e.preventDefault();
  const asks = ASKS.has(form.dataset.then);
  const button = asks ? null : form.querySelector("[type=submit]");
  if (button) button.disabled = true;
  const sent = asks ? nextAsk(form) : 0;
  const outdated = () => asks && asksSent.get(form) !== sent;
  if (befores[form.dataset.then]) befores[form.dataset.then](form);
  try {
    const body = formBody(form);
    const data = await api(form.dataset.method || "POST", form.dataset.api, body,
      { "Idempotency-Key": keyFor(form, body) }, formName(form));
    sentKeys.delete(form);
    if (outdated()) return;
    (thens[form.dataset.then] || thens.saved)(data, form);
    // A page that is being left keeps its button off: a tap while it loads would send it again.
    if (button && !LEAVES.has(form.dataset.then)) button.disabled = false;
  } catch (err) {
    if (!outdated()) { markFields(form, err); failed(err); }
    if (button) button.disabled = false;
  }
});
const LEAVES = new Set(["pass", "reload", "relogin", "inside"]);
// One key per registration, kept until it is made: a repeat (a retry after no answer) gets the
// pass already made rather than a second one. A form changed after a try is another registration
// and gets a key of its own, however it changed: typed into, or by its own buttons (a row of
// people added or removed, a returning visitor filled in), which fire no input event.
const sentKeys = new WeakMap();  // form -> {key, body: the form's body as last sent with it}
function keyFor(form, body) {
  const sent = JSON.stringify(body);
  const last = sentKeys.get(form);
  if (last && last.body === sent) return last.key;
  const key = Date.now().toString(36) + Math.random().toString(36).slice(2);
  sentKeys.set(form, { key, body: sent });
  return key;
}
// Logging out leaves nothing typed behind for the next guard on this tablet.
const logout = document.getElementById("logout");
if (logout) logout.addEventListener("click", forgetForms);

// Safari before 15.4 has no <dialog> (an iPad on iOS 15.3 or older): the page says the browser is
// too old (below), and a dialog is still shown, opened as a plain box (app.css), not modal.
const DIALOGS = typeof HTMLDialogElement === "function" && "showModal" in HTMLDialogElement.prototype;
if (!DIALOGS) document.documentElement.classList.add("no-dialog");
const openDialog = (dialog) => { if (DIALOGS) dialog.showModal(); else dialog.setAttribute("open", ""); };
const closeDialog = (dialog) => { if (dialog.close) dialog.close(); else dialog.removeAttribute("open"); };

// A dialog that asks for one line of text (its form's input, filled with `value`; it may be left
// empty only when `optional`): resolves with {text, choice} (choice: the value of the submit button
// pressed, "" for one without), or null when cancelled. `onClick(event, input)` handles taps
// inside it (quick picks).
function askText(dialogId, value, onClick, optional = false) {
  const dialog = document.getElementById(dialogId);
  const form = dialog.querySelector("form");
  const input = form.querySelector("input");
  const cancel = form.querySelector("[data-cancel]");
  input.value = value;
  openDialog(dialog);
  input.focus();
  return new Promise((resolve) => {
    const done = (answer) => { closeDialog(dialog); cleanup(); resolve(answer); };
    // Which submit button sent the form: SubmitEvent.submitter is Chrome 81 and Safari 15.4, so
    // the button tapped is kept too (Enter in the field "clicks" the first one, as a tap would).
    // A button the dialog does not show is no choice of the guard's: Enter "clicks" the first
    // submit button even where it is hidden (纠正并重新判断 for a car already let in).
    let pressed = null;
    const onSubmit = (e) => {
      e.preventDefault();
      const by = "submitter" in e ? e.submitter : pressed;
      const choice = by && !by.closest("[hidden]") ? by.value : "";
      // A dialog whose buttons are the answer (收费放行: cash or QR) waits for a tap.
      if (!choice && form.hasAttribute("data-choice-needed")) return;
      const enough = input.value.trim().length >= Math.max(1, input.minLength);  // -1: no minlength
      if (optional || enough) done({ text: input.value.trim(), choice });
    };
    const onTap = (e) => {
      const button = e.target.closest("button");
      if (button && button.type === "submit") pressed = button;
      onClick(e, input);
    };
    const onCancel = () => done(null);
    function cleanup() {
      form.removeEventListener("submit", onSubmit); form.removeEventListener("click", onTap);
      cancel.removeEventListener("click", onCancel); dialog.removeEventListener("cancel", onCancel);
    }
    form.addEventListener("submit", onSubmit); form.addEventListener("click", onTap);
    cancel.addEventListener("click", onCancel); dialog.addEventListener("cancel", onCancel);
  });
}

// The plate dialog (_plate_dialog.html), with a province keyboard for the first character: a
// correction (the reading filled in; for a refused car, "correct and decide again" too), or a
// plate the camera missed, with what kind of vehicle it is (`vehicleClass`, preselected; the answer
// carries the guard's choice). `noPlate`, at a car lane, offers 无牌车 No plate: "entrance" answers
// at once with `noPlate: true` (the gateway gives the car a ticket); at an exit it is a function
// that gives the tickets inside, listed to pick one as the plate.
const NO_PLATE_TEXT = "无牌车";  // what the gateway takes for a car with no plate, typed or tapped
function askPlate({ title, reading, value, decide, vehicleClass, noPlate }) {
  document.getElementById("plate-title").textContent = title;
  document.getElementById("plate-read-line").hidden = !reading;
  document.getElementById("plate-read").textContent = reading || "";
  document.getElementById("plate-decide").hidden = !decide;
  const kind = document.getElementById("plate-class");
  document.getElementById("plate-class-line").hidden = !vehicleClass;
  kind.value = vehicleClass || "car";
  document.getElementById("plate-none-line").hidden = !noPlate;
  const tickets = document.getElementById("plate-tickets");
  tickets.textContent = "";
  let tapped = false;
  return askText("plate-dialog", value, (e, input) => {
    if (e.target.id === "plate-none") {
      if (noPlate === "entrance") {
        tapped = true; input.value = NO_PLATE_TEXT;
        document.getElementById("plate-ok").click();  // form.requestSubmit is Safari 16
      } else listTickets(noPlate, tickets);
      return;
    }
    if ("ticket" in e.target.dataset) { input.value = e.target.dataset.ticket; input.focus(); return; }
    if (!("province" in e.target.dataset)) return;
    // Only a province (or 使) already typed is replaced: a guard typing full-width (全角) starts
    // with Ｅ５..., which are not ASCII but are the office letter and serial, kept behind the tap.
    const keys = [...e.target.parentElement.querySelectorAll("[data-province]")].map((k) => k.textContent);
    const typed = input.value.trim();
    const province = e.target.textContent;
    // An armed-police plate has its province third, WJ京12345 (docs/plates.md): in front, 京WJ12345
    // would be another valid plate (a green new-energy one), so after a typed WJ (wj, ＷＪ too) the
    // tap goes after it, replacing a province there.
    if (typed.slice(0, 2).normalize("NFKC").toUpperCase() === "WJ") {
      const rest = typed.slice(2);
      input.value = typed.slice(0, 2) + province + (keys.includes(rest.charAt(0)) ? rest.slice(1) : rest);
    } else {
      const first = typed.charAt(0);
      input.value = province + (first === "使" || keys.includes(first) ? typed.slice(1) : typed);
    }
    input.focus();
  }).then((answer) => answer && {
    ...answer, ...(vehicleClass ? { vehicleClass: kind.value } : {}),
    ...(tapped && answer.text === NO_PLATE_TEXT ? { noPlate: true } : {}),
  });
}

// The tickets of the cars with no plate inside, newest first, as chips that fill the plate field.
async function listTickets(load, box) {
  let inside;
  try { inside = await load(); } catch (err) { failed(err); return; }
  box.textContent = "";
  if (!inside.length) { box.append(T("ticket.none")); return; }
  box.append(...inside.map((t) => {
    const chip = document.createElement("button");
    chip.type = "button"; chip.className = "chip plate-text"; chip.dataset.ticket = t.ticket;
    chip.textContent = t.ticket;
    chip.title = (t.entered_at || "").slice(0, 16).replace("T", " ");
    return chip;
  }));
}

// The reason dialog: quick reasons for the common cases, or the guard's own words, of at least
// `least` characters where the gateway asks for more than one (已离场: 2). The quick reasons are a
// lane's (访客已登记...): `quick` false leaves them out where they mean nothing (a payment's method).
function askReason(title, least = 0, quick = true) {
  document.getElementById("reason-title").textContent = title;
  document.querySelector("#reason-dialog .quick").hidden = !quick;
  const input = document.getElementById("reason-input");
  if (least > 1) input.minLength = least; else input.removeAttribute("minlength");
  return askText("reason-dialog", "", (e, input) => {
    // A quick reason picked (tapped, or Enter on it) leaves the field focused: Enter then confirms.
    if ("quick" in e.target.dataset) { input.value = e.target.textContent; input.focus(); }
  }).then((answer) => answer && answer.text);
}

// 重设密码's dialog (admin.html), never the reason dialog: its field shows what is typed, and its
// quick reasons (8 characters or more in English) would pass for a password when tapped. The new
// password is typed twice, masked; two that differ are refused here, in the page's words, and
// nothing is sent. Resolves with it as typed (spaces kept, as the login keeps them), or null when
// cancelled (Escape, or 取消); nothing typed stays in the page after.
function askNewPassword(title) {
  const dialog = document.getElementById("password-dialog");
  const form = dialog.querySelector("form");
  const [password, again] = form.querySelectorAll("input[type=password]");
  const differ = document.getElementById("password-differ");
  const cancel = form.querySelector("[data-cancel]");
  document.getElementById("password-title").textContent = title;
  form.reset();
  differ.hidden = true;
  openDialog(dialog);
  password.focus();
  return new Promise((resolve) => {
    const done = (answer) => { closeDialog(dialog); form.reset(); cleanup(); resolve(answer); };
    const onSubmit = (e) => {
      e.preventDefault();
      differ.hidden = password.value === again.value;
      if (differ.hidden) done(password.value);
      else { again.focus(); again.select(); }
    };
    const onInput = () => { differ.hidden = true; };
    const onCancel = () => done(null);
    function cleanup() {
      form.removeEventListener("submit", onSubmit); form.removeEventListener("input", onInput);
      cancel.removeEventListener("click", onCancel); dialog.removeEventListener("cancel", onCancel);
    }
    form.addEventListener("submit", onSubmit); form.addEventListener("input", onInput);
    cancel.addEventListener("click", onCancel); dialog.addEventListener("cancel", onCancel);
  });
}

document.addEventListener("click", async (e) => {
  const el = e.target.closest("[data-post],[data-print],[data-lang],[data-find]");
  if (!el) return;
  if ("print" in el.dataset) { window.print(); return; }
  if (el.dataset.lang) {
    try { await api("POST", "/api/me/language", { language: el.dataset.lang }); reloadPage(); } catch (err) { failed(err); }
    return;
  }
  if (el.dataset.find) { findReturning(el.dataset.find); return; }
  let body = el.dataset.body ? JSON.parse(el.dataset.body) : {};
  if ("confirm" in el.dataset && !confirm(el.textContent.trim() + "?")) return;
  if (el.dataset.ask) {
    const answer = await askReason(el.dataset.ask, Number(el.dataset.askMin || 0));
    if (answer === null) return;
    body.reason = answer;
  }
  if (el.dataset.askPassword) {
    const password = await askNewPassword(el.dataset.askPassword);
    if (password === null) return;
    body.password = password;
  }
  el.disabled = true;
  const method = el.dataset.method || "POST";
  const tap = `${method} ${el.dataset.post}`;
  try {
    await api(method, el.dataset.post, method === "DELETE" ? undefined : body, {}, el.dataset.ask || el.textContent.trim());
    unanswered(tap, false);
    reloadPage();
  } catch (err) {
    const ours = unanswered(tap, unknownAnswer(err));
    // Done meanwhile (an alarm acknowledged, a pass checked out, a card blocked on its row): the
    // button was drawn from what was stored, so the change since is another's, said so
    // (err.already_done, not the state's words errorText gives a number typed in), and the page
    // shows what is stored now. Where the gateway names who and when (its `by`), that is said.
    if (err.code === "already_done") reloadSaying(doneWords(err, ours));
    else { failed(err); el.disabled = false; }
  }
});

// A tap whose answer never came (网关没有回应) or was the gateway's fault may have been done: kept in
// the tab's sessionStorage (a reload keeps it) by its method and address. An already_done by this
// account (`same_account`) is his own lost answer only where this tablet's tap went so: the same
// account logged in on another booth tablet may have done it, and he tapped once.
const UNANSWERED = "egw-unanswered:";
function unanswered(tap, lost) {
  try {
    const was = sessionStorage.getItem(UNANSWERED + tap) !== null;
    if (lost) sessionStorage.setItem(UNANSWERED + tap, "1");
    else sessionStorage.removeItem(UNANSWERED + tap);
    return was;
  } catch (err) { return false; }  // storage off: never told he did it, the account named instead
}
function doneWords(err, ours) {
  if (!err.data.by) return T("err.already_done");
  err.data.by = actorName(err.data.by_centre, err.data.by);
  const his = ours && err.data.state === "same_account";
  return his ? ownWords(T("err.already_done.yours"), err.data) : errorText(err);
}

const SAID = "egw-said";
function reloadSaying(text) {
  try { sessionStorage.setItem(SAID, text); } catch (err) { /* storage off: the page still shows what is stored */ }
  reloadPage();
}
function sayWhatWasSaid() {
  let text = null;
  try { text = sessionStorage.getItem(SAID); sessionStorage.removeItem(SAID); } catch (err) { return; }
  if (text) toast(text);
}

async function findReturning(field) {
  const form = document.getElementById("visitor-form");
  const value = form.elements[field].value.trim();
  if (!value) return;
  try {
    // An ID number is looked for among those of its kind of document (a passport's, an ID card's).
    const kind = field === "id_number" ? { id_kind: form.elements.id_kind.value } : {};
    const found = await api("POST", "/api/visitors/find", { [field]: value, ...kind });
    if (!found.found) { toast(T("visitor.not_found")); return; }
    // The plate comes with its class: left at 汽车, a returning motorcyclist is counted and billed as a car.
    const platesClass = found.plate && !form.elements.plate.value ? found.vehicle_class : null;
    for (const name of ["host_building", "host_unit", "destination", "plate"]) {
      if (found[name] && !form.elements[name].value) form.elements[name].value = found[name];
    }
    if (platesClass) form.elements.vehicle_class.value = platesClass;
    // A guard gets the name masked (李*): shown as a hint, the guard asks and types it.
    const name = form.elements.name;
    if (found.name_masked) name.placeholder = found.name;
    else if (found.name && !name.value) name.value = found.name;
    toast(T("visitor.found"));
  } catch (err) { failed(err); }
}

// The visitor form's closed-management marks (visitors.html, data-rules). The page comes marked
// for a pass starting now; a window the guard types (a visit tomorrow morning, typed in after
// tonight's closed hours) is asked about again, and the gateway answers by the rule it registers by.
// The * is in the words of each field's label (_pass_fields.html, the contractor form's too).
const CLOSED_FIELDS = ["id_number", "phone", "destination", "reason", "host_building", "host_unit", "passengers"];
let rulesAsked = 0;
async function followRules(form) {
  const typed = new URLSearchParams();
  for (const name of ["valid_from", "valid_to"]) {
    if (form.elements[name].value) typed.set(name, form.elements[name].value);
  }
  const asked = ++rulesAsked;
  let rules;
  try { rules = await api("GET", `${form.dataset.rules}?${typed}`); }
  catch (err) { return; }  // no answer: the marks stay, and registering names any field missing
  if (asked !== rulesAsked) return;  // another window was typed meanwhile: its answer counts
  const required = new Set(rules.required);
  for (const name of CLOSED_FIELDS) {
    form.elements[name].required = required.has(name);
    markRequired(form.elements[name].closest("label"), required.has(name));
  }
  const box = form.querySelector("[data-occupants]");
  if (box) {
    markRequired(box.querySelector("legend"), required.has("occupants"));
    markOccupants(box, required.has("occupants") ? required : new Set());
  }
  showNotice(document.querySelector("[data-closed-notice]"), required.size > 0, "visitor.closed_now");
  showNotice(form.querySelector("[data-occupants-notice]"), required.has("occupants"), "visitor.occupants_required");
}
// Each person in the vehicle gives the numbers the visitor gives where the people are asked for
// (Review 65 D1): marked on the rows there are and on the row template, for the rows added after.
function markOccupants(box, asked) {
  const template = document.getElementById("occupant-row").content;
  for (const row of [...box.querySelectorAll("[data-occupant-row]"), ...template.querySelectorAll("[data-occupant-row]")]) {
    for (const field of ["id_number", "phone"]) {
      const el = row.querySelector(`[data-field="${field}"]`);
      el.required = asked.has(field);
      markRequired(el.closest("label"), asked.has(field));
    }
  }
}
function markRequired(label, on) {
  const words = label.firstChild;  // the label's own words, before its input
  words.textContent = words.textContent.replace(/( \*)?(\s*)$/, (on ? " *" : "") + "$2");
}
function showNotice(el, on, key) { el.textContent = on ? T(key) : ""; el.hidden = !on; }
document.addEventListener("change", (e) => {
  const form = e.target.form;
  if (form && form.dataset.rules && ["valid_from", "valid_to"].includes(e.target.name)) followRules(form);
});

// A page that keeps itself current (an element with data-refresh: seconds) is reloaded that often,
// but not while the guard is typing into it or answering a dialog: a reload wipes what was typed.
// A box ticked (or unticked) or a choice made counts as typed: 无牌车 No plate pressed on 登记场内车辆
// is its hidden checkbox, whose value stays "on", and Safari gives a tapped button no focus: the
// 15 s refresh undid the press (Review 66 F3). Each kept form's fields (`${KEPT_FORMS} input` read
// the data-api forms themselves, none of their fields).
const refreshing = document.querySelector("[data-refresh]");
const REFRESH_S = Number((refreshing && refreshing.dataset.refresh) || 0);
const chosenFirst = (select) => Math.max(0, Array.from(select.options).findIndex((o) => o.defaultSelected));
const changed = (el) => (["checkbox", "radio"].includes(el.type) ? el.checked !== el.defaultChecked
  : el.tagName === "SELECT" ? el.selectedIndex !== chosenFirst(el) : el.value !== el.defaultValue);
const FIELDS = "input:not([type=hidden]), select:not([multiple]), textarea";
const typing = () => document.querySelector("dialog[open]") ||
  (document.activeElement && document.activeElement.closest("form")) ||
  Array.from(document.querySelectorAll(KEPT_FORMS)).some((form) => Array.from(form.elements)
    .some((el) => el.matches(FIELDS) && changed(el)));
if (REFRESH_S > 0) setInterval(() => { if (!typing()) reloadPage(); }, REFRESH_S * 1000);

// The sticky top bar's height, for app.css's scroll-padding-top: it changes with the width (a
// tablet turned) and the alarm badge. ResizeObserver is Chrome 64: before, the resize event alone.
const topBar = document.querySelector("header.top");
function followTopBar() {
  document.documentElement.style.setProperty("--top-bar", `${topBar.offsetHeight}px`);
}
if (topBar) {
  followTopBar();
  window.addEventListener("resize", followTopBar);
  if (window.ResizeObserver) new ResizeObserver(followTopBar).observe(topBar);
}

sayAfterLogin();

// 登记场内车辆 (occupancy.html): 无牌车 No plate records a car with no plate, sent as the API's
// no_plate (the gateway gives it a ticket), the plate field put aside; tapped again, the plate is
// asked for again. The hint said to type 无牌车, which an English keyboard has not (Review 66 F2).
// Drawn from the form's no_plate box: a form kept across a login comes back as it was.
function showNoPlate(form) {
  const on = form.elements.no_plate.checked;
  const plate = form.elements.plate;
  plate.disabled = on;  // not sent (formBody), nor asked for
  if (on) plate.value = "";
  plate.placeholder = on ? plate.dataset.noPlatePlaceholder : "";
  form.querySelector("[data-no-plate-toggle]").setAttribute("aria-pressed", String(on));
}
document.addEventListener("click", (e) => {
  const button = e.target.closest("[data-no-plate-toggle]");
  if (!button) return;
  button.form.elements.no_plate.checked = !button.form.elements.no_plate.checked;
  showNoPlate(button.form);
});
for (const button of document.querySelectorAll("[data-no-plate-toggle]")) showNoPlate(button.form);
// A window typed before logging in again comes back with the form: marked for it, not for now.
document.querySelectorAll("form[data-rules]").forEach((form) => {
  if (form.elements.valid_from.value || form.elements.valid_to.value) followRules(form);
});
sayWhatWasSaid();
// The page's script has run to its end: too-old.js, which runs next, leaves the words that the
// browser is too old hidden (base.html). They are shown where there is no <dialog>, which every
// question to the guard needs.
document.documentElement.setAttribute("data-app-started", "");
const tooOld = document.getElementById("old-browser");
if (tooOld) tooOld.hidden = DIALOGS;
