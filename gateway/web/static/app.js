// Guard pages: the small helpers every page shares. No framework, no build step.
"use strict";
const boot = JSON.parse(document.getElementById("boot").textContent);
const T = (key) => boot.texts[key] || key;

class ApiFailure extends Error {
  constructor(error, status) { super(error.message); this.fix = error.fix || ""; this.code = error.code; this.status = status; }
}

async function api(method, url, body) {
  const res = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": boot.csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiFailure((data && data.error) || { message: res.statusText }, res.status);
  return data;
}

let toastTimer = 0;
function toast(text, bad) {
  const el = document.getElementById("toast");
  el.textContent = text; el.className = bad ? "bad" : ""; el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, bad ? 6000 : 2500);
}
function failed(err) { toast(T("common.error") + ": " + err.message + (err.fix ? " — " + err.fix : ""), true); }

// A form's fields as JSON: empty fields are left out (the server's defaults apply), numbers are
// numbers, data-list fields are lists, a date as an end is the end of that day.
function formBody(form) {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    let v = el.type === "checkbox" ? el.checked : el.value.trim();
    if (v === "") continue;
    if (el.type === "number") v = Number(v);
    else if (el.type === "date") v += el.name.endsWith("_to") || el.name.endsWith("_until") ? "T23:59:59" : "T00:00:00";
    else if ("list" in el.dataset) v = v.split(/[\s,，]+/).filter(Boolean);
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
  const row = document.getElementById("occupant-row").content.firstElementChild.cloneNode(true);
  if (add.dataset.occupantAdd === "visitor") {  // the visitor is in the vehicle: copy what was typed
    const form = box.closest("form");
    for (const field of ["name", "id_number", "phone"]) {
      row.querySelector(`[data-field="${field}"]`).value = form.elements[field].value.trim();
    }
  }
  box.querySelector("#occupant-rows").append(row);
  renumberOccupants(box);
  row.querySelector('[data-field="name"]').focus();
});

const thens = {
  reload: () => location.reload(),
  saved: (data, form) => { toast(T("common.saved") + (data && data.id ? " #" + data.id : "")); form.reset(); },
  pass: (data) => { location.href = "/passes/" + data.id; },
  relogin: () => { location.href = "/login"; },
  token: (data) => {
    const el = document.getElementById("token-once");
    el.textContent = T("admin.token_once") + " " + data.token; el.hidden = false;
  },
  "pass-state": (data) => {
    const el = document.getElementById("pass-state");
    el.textContent = `#${data.id} ${data.name} ${data.host_building}${data.host_unit} ${data.plate || ""} → ${data.state}`;
    el.className = "result pill " + (data.state === "active" ? "ok" : "bad"); el.hidden = false;
  },
};

document.addEventListener("submit", async (e) => {
  const form = e.target;
  if (!form.dataset || !form.dataset.api) return;
  e.preventDefault();
  const button = form.querySelector("[type=submit]");
  if (button) button.disabled = true;
  try {
    const data = await api(form.dataset.method || "POST", form.dataset.api, formBody(form));
    (thens[form.dataset.then] || thens.saved)(data, form);
  } catch (err) { failed(err); } finally { if (button) button.disabled = false; }
});

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
  dialog.showModal();
  input.focus();
  return new Promise((resolve) => {
    const done = (answer) => { dialog.close(); cleanup(); resolve(answer); };
    const onSubmit = (e) => {
      e.preventDefault();
      if (optional || input.value.trim()) {
        done({ text: input.value.trim(), choice: (e.submitter && e.submitter.value) || "" });
      }
    };
    const onTap = (e) => onClick(e, input);
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
// carries the guard's choice).
function askPlate({ title, reading, value, decide, vehicleClass }) {
  document.getElementById("plate-title").textContent = title;
  document.getElementById("plate-read-line").hidden = !reading;
  document.getElementById("plate-read").textContent = reading || "";
  document.getElementById("plate-decide").hidden = !decide;
  const kind = document.getElementById("plate-class");
  document.getElementById("plate-class-line").hidden = !vehicleClass;
  kind.value = vehicleClass || "car";
  return askText("plate-dialog", value, (e, input) => {
    if (!("province" in e.target.dataset)) return;
    input.value = e.target.textContent + input.value.trim().replace(/^[^A-Za-z0-9]/, "");
    input.focus();
  }).then((answer) => answer && (vehicleClass ? { ...answer, vehicleClass: kind.value } : answer));
}

// The reason dialog: quick reasons for the common cases, or the guard's own words.
function askReason(title) {
  document.getElementById("reason-title").textContent = title;
  return askText("reason-dialog", "", (e, input) => {
    if ("quick" in e.target.dataset) input.value = e.target.textContent;
  }).then((answer) => answer && answer.text);
}

document.addEventListener("click", async (e) => {
  const el = e.target.closest("[data-post],[data-print],[data-lang],[data-find]");
  if (!el) return;
  if ("print" in el.dataset) { window.print(); return; }
  if (el.dataset.lang) {
    try { await api("POST", "/api/me/language", { language: el.dataset.lang }); location.reload(); } catch (err) { failed(err); }
    return;
  }
  if (el.dataset.find) { findReturning(el.dataset.find); return; }
  let body = el.dataset.body ? JSON.parse(el.dataset.body) : {};
  if ("confirm" in el.dataset && !confirm(el.textContent.trim() + "?")) return;
  if (el.dataset.ask) {
    const answer = await askReason(el.dataset.ask);
    if (answer === null) return;
    body[el.dataset.askField || "reason"] = answer;
  }
  el.disabled = true;
  try {
    await api(el.dataset.method || "POST", el.dataset.post, el.dataset.method === "DELETE" ? undefined : body);
    location.reload();
  } catch (err) { failed(err); el.disabled = false; }
});

async function findReturning(field) {
  const form = document.getElementById("visitor-form");
  const value = form.elements[field].value.trim();
  if (!value) return;
  try {
    const found = await api("POST", "/api/visitors/find", { [field]: value });
    if (!found.found) { toast(T("visitor.not_found")); return; }
    for (const name of ["host_building", "host_unit", "destination", "plate"]) {
      if (found[name] && !form.elements[name].value) form.elements[name].value = found[name];
    }
    // A guard gets the name masked (李*): shown as a hint, the guard asks and types it.
    const name = form.elements.name;
    if (found.name_masked) name.placeholder = found.name;
    else if (found.name && !name.value) name.value = found.name;
    toast(T("visitor.found"));
  } catch (err) { failed(err); }
}
