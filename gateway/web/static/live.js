// Live lanes: each decision pushed over server-sent events and shown as it happens.
"use strict";
(() => {
  const lanes = new Map();
  for (const info of boot.lanes) {
    const el = document.getElementById("lane-" + info.id);
    lanes.set(info.id, {
      el, info, latest: el.querySelector("[data-latest]"), recent: el.querySelector("[data-recent]"),
      status: el.querySelector("[data-status]"), newest: "",
    });
  }
  // event id -> Date.now() when it was put on screen; `gateway bench ui` and the tests read it.
  window.__shown = {};
  const seen = new Set();
  const RECENT = 8;

  const node = (tag, cls, text) => {
    const el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined) el.textContent = text;
    return el;
  };
  const time = (iso) => (iso ? iso.slice(11, 19) : "");
  const credential = (ev) => (ev.kind === "plate" ? ev.plate || ev.value : `${T("ev." + ev.kind)} ${ev.value}`);
  const holder = (ev) => (ev.holder_kind
    ? `${T("holder." + ev.holder_kind)} ${ev.name} ${ev.building}${ev.unit}`.trim()
    : T("ev.unknown_holder"));
  const verdict = (ev) => `${T(ev.admitted ? "ev.admitted" : "ev.refused")} · ${T("why." + ev.reason)}`;

  function showLatest(lane, ev) {
    const box = lane.latest;
    box.replaceChildren();
    box.className = "latest " + (ev.admitted ? "admitted" : "refused");
    box.dataset.event = ev.event_id;
    if (ev.snapshot) {
      const img = node("img");
      img.src = ev.snapshot; img.alt = ev.plate || ""; img.loading = "lazy";
      box.append(img);
    }
    box.append(node("div", ev.kind === "plate" ? "plate" : "plate card-no", credential(ev)));
    box.append(node("div", "verdict", verdict(ev)));
    if (ev.holder_kind) box.append(node("div", "who-line", holder(ev)));
    const flags = ev.flags.map((f) => T("flag." + f)).join(" · ");
    box.append(node("div", "time", time(ev.at) + (flags ? " · " + flags : "")));
  }

  function addRow(lane, li) {
    lane.recent.prepend(li);
    while (lane.recent.children.length > RECENT) lane.recent.lastElementChild.remove();
  }

  function show(ev, live) {
    const lane = lanes.get(ev.lane);
    if (!lane || seen.has(ev.event_id)) return;
    seen.add(ev.event_id);
    if (ev.event_id > lane.newest) {  // UUIDv7: text order is time order
      lane.newest = ev.event_id;
      showLatest(lane, ev);
    }
    const li = node("li", ev.admitted ? "" : "refused");
    li.dataset.event = ev.event_id;
    li.append(node("span", "t", time(ev.at)), node("span", "v", `${credential(ev)} ${holder(ev)}`),
      node("span", "r", verdict(ev)));
    addRow(lane, li);
    if (live) window.__shown[ev.event_id] = Date.now();
  }

  function showStatus(status) {
    for (const [id, s] of Object.entries(status.lanes || {})) {
      const lane = lanes.get(id);
      if (!lane) continue;
      const offline = s.devices.filter((d) => !d.online).map((d) => d.device);
      if (s.held_by) { lane.status.className = "pill warn"; lane.status.textContent = `${T("lane.held")} · ${s.held_by}`; }
      else if (offline.length) { lane.status.className = "pill bad"; lane.status.textContent = `${T("lane.offline")}: ${offline.join(", ")}`; }
      else { lane.status.className = "pill ok"; lane.status.textContent = T("lane.online"); }
    }
    if ("alarms" in status) {
      const badge = document.getElementById("alarm-count");
      badge.textContent = status.alarms; badge.hidden = !status.alarms;
    }
  }

  function showAction(a) {
    const lane = lanes.get(a.lane);
    if (!lane) return;
    const li = node("li", "manual");
    li.append(node("span", "t", time(a.at)), node("span", "v", `${T("action.opened_by")}: ${T("lane." + a.action)} · ${a.by}`),
      node("span", "r", a.reason));
    addRow(lane, li);
  }

  for (const [lane, events] of Object.entries(boot.events)) {
    for (const ev of events.slice().reverse()) show(ev, false);
    if (!events.length) lanes.get(lane).latest.className = "latest";
  }
  showStatus(boot.status);

  async function catchUp() {
    try {
      const events = await api("GET", "/api/live/recent?limit=100");
      for (const ev of events.reverse()) show(ev, true);
    } catch (err) { failed(err); }
  }

  let source = null;
  function connect() {
    source = new EventSource("/api/live/stream");
    const banner = document.getElementById("reconnecting");
    source.addEventListener("open", () => { banner.hidden = true; });
    source.addEventListener("access", (e) => show(JSON.parse(e.data), true));
    source.addEventListener("status", (e) => showStatus(JSON.parse(e.data)));
    source.addEventListener("action", (e) => showAction(JSON.parse(e.data)));
    source.addEventListener("resync", catchUp);
    source.addEventListener("error", () => {
      banner.hidden = false;
      if (source.readyState === EventSource.CLOSED) {
        // Not a dropped line but a refusal (logged out?): ask, then try again.
        api("GET", "/api/me").then(() => setTimeout(connect, 2000), () => setTimeout(connect, 5000));
      }
    });
  }
  connect();

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-lane-action]");
    if (!button) return;
    const laneId = button.closest("[data-lane]").dataset.lane;
    const reason = await askReason(button.dataset.title);
    if (reason === null) return;
    button.disabled = true;
    try {
      const done = await api("POST", `/api/lanes/${laneId}/${button.dataset.laneAction}`, { reason });
      toast(done.relays ? T("action.done") : T("lane.no_relay"), !done.relays);
    } catch (err) { failed(err); } finally { button.disabled = false; }
  });
})();
