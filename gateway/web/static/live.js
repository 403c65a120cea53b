// Live lanes: each decision pushed over server-sent events and shown as it happens.
"use strict";
(() => {
  const lanes = new Map();
  for (const info of boot.lanes) {
    const el = document.getElementById("lane-" + info.id);
    lanes.set(info.id, {
      el, info, latest: el.querySelector("[data-latest]"), recent: el.querySelector("[data-recent]"),
      status: el.querySelector("[data-status]"), newest: "", answered: "",
      top: 0, newestPlace: -Infinity, places: new Map(),
    });
  }

  const laneName = (id) => (lanes.has(id) ? lanes.get(id).info.name : id);

  // One gateway serves all of an estate's gates, each with its booth: a tablet shows the lanes of
  // the gate its guard chose (every gate's until he does), not the other gate's cars and refusals
  // flashing among his own. The choice is kept on the tablet, by this gateway's site id; a gate
  // no longer among the lanes (taken out of the config) is every gate again, never an empty page.
  // The other lanes are only hidden: their decisions are still drawn, current when shown again.
  const gateChoice = document.getElementById("gate-choice");
  if (gateChoice) {
    const keptAs = "egw-live-gate:" + gateChoice.dataset.site;
    const showGate = () => {
      const gate = gateChoice.value;
      let shown = 0;
      for (const lane of lanes.values()) {
        lane.el.hidden = gate !== "" && lane.info.gate !== gate;
        if (!lane.el.hidden) shown += 1;
      }
      // Said beside the choice, so that nobody takes a lane hidden for one gone.
      const only = document.getElementById("gate-only");
      only.hidden = gate === "";
      only.textContent = gate === "" ? "" : fill(T("live.only_gate"), {
        gate: gateChoice.options[gateChoice.selectedIndex].text, shown, total: lanes.size,
      });
    };
    let kept = "";
    try { kept = localStorage.getItem(keptAs) || ""; } catch (err) { /* storage off: every gate */ }
    gateChoice.value = Array.from(lanes.values()).some((lane) => lane.info.gate === kept) ? kept : "";
    showGate();
    gateChoice.addEventListener("change", () => {
      try {
        if (gateChoice.value) localStorage.setItem(keptAs, gateChoice.value);
        else localStorage.removeItem(keptAs);
      } catch (err) { /* storage off (a private window): chosen for this page only */ }
      showGate();
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
  const events = new Map();  // event id -> the event as shown, so that a correction can redraw it
  const decided = (ev) => ev.plate || ev.value;  // the plate the lane took the car for
  // What the camera read: a look-alike match keeps its own reading as a flag "read:<plate>".
  const read = (ev) => (ev.flags.find((f) => f.startsWith("read:")) || "read:" + decided(ev)).slice(5);
  const credential = (ev) => (ev.kind !== "plate" ? `${T("ev." + ev.kind)} ${ev.value}`
    : ev.corrected ? `${ev.corrected.plate} (${T("fix.read")} ${read(ev)})` : decided(ev));
  // `blocked`: the holder or this card or plate is blocked. After a correction the line names the
  // corrected plate's owner so that the guard knows whether to open by hand for a resident refused;
  // for a plate blocked as stolen it must say so, or it invites him to let the car out.
  const person = (kind, name, building, unit, blocked) => (kind
    ? [T("holder." + kind), name, address(kind, building, unit), blocked ? T("holder.blocked") : ""]
      .filter(Boolean).join(" ")
    : T("ev.unknown_holder"));
  // After a guard's correction, the corrected plate's owner; before, the one the decision found
  // (a block of its own is the verdict's reason already).
  // Nobody is known by a door's exit button: its line names no holder, not 未登记 (not registered).
  const holder = (ev) => (ev.kind === "button" ? "" : ev.corrected
    ? person(...(ev.corrected.holder
      ? ["kind", "name", "building", "unit", "blocked"].map((k) => ev.corrected.holder[k]) : []))
    : person(ev.holder_kind, ev.name, ev.building, ev.unit));
  const flagText = (f) => (f.startsWith("read:") ? `${T("fix.read")} ${f.slice(5)}` : T("flag." + f));
  // 700 -> "7元" / "7 yuan", written as gateway/parking/fees.py yuan() does (the quote's due_text
  // is in Chinese whatever the guard reads).
  const money = (fen) => {
    const cents = fen % 100;
    const amount = `${Math.floor(fen / 100)}` + (cents ? `.${String(cents).padStart(2, "0")}`.replace(/0$/, "") : "");
    return T("pay.amount").replace("{yuan}", amount);
  };
  // A decision not stored says why (its flag storage:<cause>), as an opening's toast does: only a
  // full disk sends the guard to free disk space. A cause without words (a page loaded before an
  // upgrade, its texts older than the events) gets the plain why.storage_failed, which names none.
  const notStored = (ev) => ev.flags.find((f) => f.startsWith("storage:"));
  const causeWords = (ev) => notStored(ev) && boot.texts[`why.storage_failed.${notStored(ev).slice(8)}`];
  const why = (ev) => causeWords(ev) || T("why." + ev.reason);
  // The car of the lane beside, read by this lane's camera (flag neighbour_lane): nothing was
  // refused here, and the words say whose car it was, not 拒绝 · 通道不符.
  const neighbours = (ev) => ev.flags.includes("neighbour_lane");
  const verdict = (ev) => (neighbours(ev) ? T("ev.neighbour_lane")
    : `${T(ev.admitted ? "ev.admitted" : "ev.refused")} · ${why(ev)}`);
  // Held to pay because its month ran out (its last day, the event's or the quote's): the driver's
  // display says 月租到期, and the owner says "I'm a monthly car" to the guard.
  const monthEnded = (day) => (day ? T("ev.monthly_ended").replace("{day}", day) : "");
  const noPlate = (ev) => ev.flags.includes("no_plate");  // its plate is the ticket the entrance gave
  // A car shown on its ticket: decided on one, or given one by its entry corrected to 无牌车
  // (gateway/core/tickets.py PREFIX); corrected to the plate the driver came back with, no more.
  const TICKET_PREFIX = "无牌-";
  const onTicket = (ev) => (ev.corrected ? ev.corrected.plate.startsWith(TICKET_PREFIX) : noPlate(ev));

  function showLatest(lane, ev) {
    const box = lane.latest;
    lane.owingSincePanel = false;  // the lane's quote is asked again (askHeld)
    box.textContent = "";  // not replaceChildren(): Chrome 86, Safari 14
    box.className = "latest " + (ev.admitted ? "admitted" : "refused");
    box.dataset.event = ev.event_id;
    if (ev.snapshot) {
      const img = node("img");
      img.src = ev.snapshot; img.alt = ev.plate || ""; img.loading = "lazy";
      // A JPEG a slow SD card has not finished within the server's wait: asked again twice, then
      // the picture is left out rather than shown broken.
      let tries = 0;
      img.onerror = () => {
        if (++tries > 2) { img.remove(); return; }
        setTimeout(() => { img.src = `${ev.snapshot}${ev.snapshot.includes("?") ? "&" : "?"}retry=${tries}`; }, 1500);
      };
      box.append(img);
    }
    const plate = ev.kind === "plate";
    // A car with no plate: its ticket, large, under the words that say what the number is, for
    // the guard to write on the paper ticket or read out to the driver.
    if (onTicket(ev)) box.append(node("div", "ticket-label", T("ticket.label")));
    box.append(node("div", plate ? "plate" : "plate card-no", plate && ev.corrected ? ev.corrected.plate : credential(ev)));
    if (ev.corrected) box.append(node("div", "fixed", `${T("fix.read")} ${read(ev)} · ${T("fix.by")} ${ev.corrected.by}`));
    box.append(node("div", "verdict", verdict(ev) + (ev.monthly_ended ? ` · ${monthEnded(ev.monthly_ended)}` : "")));
    if (ev.holder_kind || ev.corrected) box.append(node("div", "who-line", holder(ev)));
    // A corrected car's reading is said beside who corrected it (识别为 ... · 纠正人), not again here.
    // Nor the cause of a decision not stored, said in the verdict.
    const flags = ev.flags.filter((f) => !(ev.corrected && f.startsWith("read:")) && !f.startsWith("storage:"))
      .map(flagText).join(" · ");
    box.append(node("div", "time", time(ev.at) + (flags ? " · " + flags : "")));
    if (plate) {
      const fix = node("button", "chip fix", T("fix.button"));
      fix.type = "button"; fix.dataset.correct = ev.event_id;
      box.append(fix);
    }
    if (ev.reason === "payment_due") {
      const pay = node("button", "primary fix", T("pay.button"));
      pay.type = "button"; pay.dataset.pay = ev.lane;
      box.append(pay);
    }
    showHeldPay(lane);
  }

  // A car held at an exit to pay keeps 收费放行 on its lane after the camera decided the car behind
  // it (let through, in its free minutes): the panel then shows that car, and the button on the
  // held decision's panel went with it, the held car waiting for a fee nobody could take. The
  // lane's quote says whether a car is held there owing (the car the dialog names): asked again
  // after each decision, opening by hand or correction at the lane, one question at a time, and
  // the lane's own button shown while the panel has none. A hold ends by itself half an hour after
  // the lane last decided the car (it backed away): the quote says when (hold_ends_in_s), the page
  // asks again then, and once an answer newer than the panel's decision says no car owes there,
  // the panel's own button goes too (it stayed, tapped for 没有待收费的车, until the next car).
  const paysAt = (lane) => lane.info.direction === "exit" && lane.info.type === "vehicle";
  function heldPayButton(lane) {
    if (!lane.heldPay) {
      const pay = node("button", "action primary", T("pay.button"));
      pay.type = "button"; pay.dataset.pay = lane.info.id; pay.dataset.heldPay = ""; pay.hidden = true;
      lane.el.querySelector(".actions").append(pay);
      lane.heldPay = pay;
    }
    return lane.heldPay;
  }
  function showHeldPay(lane) {
    const panelPay = lane.latest.querySelector("[data-pay]");
    if (panelPay && lane.owingSincePanel) panelPay.hidden = !lane.owing;
    const shown = lane.owing && !panelPay;
    if (shown || lane.heldPay) heldPayButton(lane).hidden = !shown;
  }
  const HOLD_LOOK_S = 300, ASK_AGAIN_S = 15;
  function askHeldIn(lane, seconds) {
    clearTimeout(lane.holdEnds);
    lane.holdEnds = setTimeout(() => askHeld(lane), seconds * 1000);
  }
  function askHeld(lane) {
    if (!lane || !paysAt(lane)) return;
    if (lane.asking) { lane.askAgain = true; return; }
    lane.asking = true;
    // A question that fails (the Wi-Fi) leaves the button as it was, and is asked again in
    // ASK_AGAIN_S while a button is up: else one lost as the hold ended left it up all night.
    // Asked again at least every HOLD_LOOK_S: a timer longer than 2^31 ms fires at once (a hold
    // dated ahead of a clock set back a month), and a tablet asleep may fire it late.
    clearTimeout(lane.holdEnds);
    api("GET", `/api/parking/lanes/${lane.info.id}/quote`).then((quote) => {
      lane.owing = Boolean((quote.plate || quote.pass || quote.resident) && quote.due_fen);
      lane.owingSincePanel = !lane.askAgain;  // asked after the panel's decision was drawn
      if (quote.hold_ends_in_s != null) askHeldIn(lane, Math.min(quote.hold_ends_in_s + 1, HOLD_LOOK_S));
    }, () => {
      if (lane.owing || lane.latest.querySelector("[data-pay]")) askHeldIn(lane, ASK_AGAIN_S);
    }).then(() => {
      lane.asking = false;
      showHeldPay(lane);
      if (lane.askAgain) { lane.askAgain = false; askHeld(lane); }
    });
  }

  // A row of a lane's list (app.css ol.recent): the plate, or a card or code by its last four
  // (卡号 3D4E: six stars took a third of the row), never cut; whose it is; the verdict with its
  // reason. Names are masked, so a guard knows an owner by his building and unit: in Chinese the
  // row has two lines for them, in English (one line) the row names no kind (row.holder; Resident,
  // Visitor: the panel says it) and the name and address end in "…" (Review 66 F1, and O on
  // 723648f2, which cut them first). A masked name is its first character and two stars (欧**, not
  // 欧*******: the stars took the address's room). The row does not say twice what its verdict
  // says: a stranger's car let in as 临时车 or a card refused as 未登记 names no holder, a resident
  // let in as 业主 is not 业主 again. Corrected, a row names whom it is now, beside what was read.
  // Corrected, the plate and what was read (皖A12345 (识别为 渝A12345)), the reading under the plate
  // where the lane is narrow; a card's word and its four held together (a no-break space).
  const rowCredential = (ev) => (["card", "qr"].includes(ev.kind)
    ? `${T("ev." + ev.kind)}\u00a0${ev.value.slice(-4)}` : credential(ev));
  const rowName = (name) => (name || "").replace(/\*{3,}/, "**");
  function rowWho(ev) {
    if (ev.kind === "button") return "";  // nobody is known by a door's exit button
    const h = !ev.corrected ? { kind: ev.holder_kind, name: ev.name, building: ev.building, unit: ev.unit }
      : ev.corrected.holder || {};
    const stranger = !ev.corrected && ["temporary", "unknown"].includes(ev.reason);
    if (!h.kind) return stranger ? "" : T("ev.unknown_holder");
    const said = !ev.corrected && h.kind === ev.reason;  // 放行 · 业主
    const who = fill(T("row.holder"), {
      kind: said ? "" : T("holder." + h.kind), name: rowName(h.name),
      address: address(h.kind, h.building, h.unit), blocked: h.blocked ? T("holder.blocked") : "",
    });
    return who.split(" ").filter(Boolean).join(" ");
  }
  function showRowWho(li, ev) {
    li.querySelector(".c").textContent = rowCredential(ev);
    li.querySelector(".v").textContent = rowWho(ev);
  }
  // The verdict in the list, in as few words as the guard's language has: 放行 · 临时车, and in
  // English ✓ temporary vehicle, not Admitted · temporary vehicle (the panel's words).
  // The car of the lane beside in its flag's words, 邻道车辆: the panel's sentence is for a toast.
  const rowVerdict = (ev) => (neighbours(ev) ? T("flag.neighbour_lane")
    : fill(T(ev.admitted ? "row.admitted" : "row.refused"), { why: why(ev) }));

  // A plate corrected here or on another tablet: redraw the event wherever it is shown.
  function showCorrection(c) {
    const ev = events.get(c.event_id);
    if (!ev) return;
    ev.corrected = { plate: c.plate, by: c.by, holder: c.holder };
    const lane = lanes.get(ev.lane);
    if (lane && lane.latest.dataset.event === ev.event_id) showLatest(lane, ev);
    const li = lane && lane.recent.querySelector(`li[data-event="${ev.event_id}"]`);
    if (li) showRowWho(li, ev);
    askHeld(lane);
  }

  // A row's place in its lane's list is the order the gateway wrote it in, never its time: after
  // the gateway's clock was set back (NTP putting right a clock that ran ahead), each new decision
  // is dated before the rows of the fast clock, and placed by time it was left out of a full list
  // for as long as the step (an hour), the guard unable to tap a misread car's row to correct it.
  // (Nor its event id: one made after a restart on the clock set back is below those made before.)
  // What comes live (the stream, and the first load drawn oldest first) is the lane's newest and
  // goes on top; what a catch-up brings, some of it older than the rows shown, goes where its
  // neighbours in /api/live/recent's list are (placeBetween). A place by item: its event id, or
  // a lane action's key.
  const itemKey = (item) => ("action" in item ? `action ${item.key}` : item.event_id);
  const placeOf = (lane, item, place) => {
    const key = itemKey(item);
    if (!lane.places.has(key)) lane.places.set(key, place === undefined ? ++lane.top : place);
    return lane.places.get(key);
  };
  // An item a catch-up brings that this page has not shown, `below` the place of the item listed
  // just before it (older), if any: above that one and under anything shown newer than it.
  function placeBetween(lane, below) {
    let above;
    for (const place of lane.places.values()) {
      if ((below === undefined || place > below) && (above === undefined || place < above)) above = place;
    }
    if (above === undefined) return ++lane.top;
    return below === undefined ? above - 1 : (below + above) / 2;
  }

  // Newest first, each row where the gateway's order puts it: a catch-up brings each lane's newest
  // decisions, some older than those shown, and they must not push its newest ones out. One older
  // than every row of a full list is not shown.
  function addRow(lane, li, place) {
    li.dataset.place = place;
    const rows = lane.recent.children;
    const older = Array.from(rows).find((row) => Number(row.dataset.place) < place);
    if (!older && rows.length >= RECENT) return;
    lane.recent.insertBefore(li, older || null);
    while (rows.length > RECENT) lane.recent.lastElementChild.remove();
  }

  // `place`: where a catch-up puts the item in its lane's list (placeBetween); none live: the newest.
  function show(ev, live, place) {
    const lane = lanes.get(ev.lane);
    if (!lane) return;
    const placed = placeOf(lane, ev, place);
    if (seen.has(ev.event_id)) {
      // Caught up after a dropped stream or a resync: a correction made meanwhile comes with it.
      const known = events.get(ev.event_id);
      if (ev.corrected && (!known.corrected || known.corrected.plate !== ev.corrected.plate)) {
        showCorrection({ event_id: ev.event_id, ...ev.corrected });
      }
      return;
    }
    seen.add(ev.event_id);
    events.set(ev.event_id, ev);
    // The car of the lane beside is a line of the lane's list, not its panel: the panel keeps the
    // lane's own car (a refusal the guard is about to correct, a car held to pay), not red for a
    // car nobody refused.
    if (placed > lane.newestPlace && !neighbours(ev)) {
      lane.newestPlace = placed;
      lane.newest = ev.event_id;
      showLatest(lane, ev);
    }
    const li = node("li", neighbours(ev) ? "neighbour" : ev.admitted ? "" : "refused");
    li.dataset.event = ev.event_id;
    if (ev.kind === "plate") {
      li.dataset.correct = ev.event_id; li.title = T("fix.button");
      li.tabIndex = 0; li.setAttribute("role", "button");  // reached and worked by keyboard too
    }
    // Spaces between the parts: read, and copied, as one line (a flex box draws none of them).
    li.append(node("span", "t", time(ev.at)), " ", node("span", "c"), " ", node("span", "v"), " ",
      node("span", "r", rowVerdict(ev)));
    showRowWho(li, ev);
    addRow(lane, li, placed);
    askHeld(lane);
    if (live) window.__shown[ev.event_id] = Date.now();
  }

  const heldBy = (s) => actorName(s.held_by_centre, s.held_by_name || s.held_by);
  function showStatus(status) {
    for (const [id, s] of Object.entries(status.lanes || {})) {
      const lane = lanes.get(id);
      if (!lane) continue;
      const offline = s.devices.filter((d) => !d.online).map((d) => d.device);
      lane.el.querySelector('[data-lane-mode="close"]').hidden = s.closed;
      lane.el.querySelector('[data-lane-mode="reopen"]').hidden = !s.closed;
      // 恢复 only on a lane held open (here or on another tablet): on any other it could only be refused.
      const release = lane.el.querySelector('[data-lane-action="release"]');
      if (release) release.hidden = !s.held_by || s.car_under_arm;
      if (s.closed) { lane.status.className = "pill bad"; lane.status.textContent = T("lane.closed"); }
      // Released, the barrier still up over a car on the loop: it comes down once the car has left.
      else if (s.car_under_arm) { lane.status.className = "pill warn"; lane.status.textContent = T("lane.car_under_arm"); }
      // Named as the lane's rows name him (his display name), not by his login: held_by_name; the
      // centre in the page's words.
      else if (s.held_by) { lane.status.className = "pill warn"; lane.status.textContent = `${T("lane.held")} · ${heldBy(s)}`; }
      else if (offline.length) { lane.status.className = "pill bad"; lane.status.textContent = `${T("lane.offline")}: ${offline.join(", ")}`; }
      else { lane.status.className = "pill ok"; lane.status.textContent = T("lane.online"); }
    }
    if ("alarms" in status) {
      const badge = document.getElementById("alarm-count");
      badge.textContent = status.alarms; badge.hidden = !status.alarms;
    }
    // Storage takes no writes (its cause, as the last write found it): what it means at the gate.
    if ("storage" in status) {
      const banner = document.getElementById("storage-state");
      banner.textContent = status.storage ? T(`live.storage.${status.storage}`) : "";
      banner.hidden = !status.storage;
    }
  }

  // A lane worked by hand: live, and again from its audit row when the page catches up (after a
  // drop, or a reload), shown once by its key: its lane, action and record's own time, the same
  // live and once written. Not by its audit_id: one whose record waited for a full disk had none
  // live, and came again with one once written (listed twice, as if opened twice).
  const actionsShown = new Set();
  function showAction(a, place) {
    const lane = lanes.get(a.lane);
    if (!lane) return;
    const placed = placeOf(lane, a, place);
    if (actionsShown.has(a.key)) return;
    actionsShown.add(a.key);
    const li = node("li", "manual");
    li.append(node("span", "t", time(a.at)), node("span", "v", `${T("action.opened_by")}: ${T("lane." + a.action)} · ${actorName(a.by_centre, a.by)}`),
      node("span", "r", a.reason));
    addRow(lane, li, placed);
    askHeld(lane);
  }
  // One item the page cannot draw (a browser lacking a call it makes, a field it does not expect)
  // is said and left out: it must not stop the others, nor the stream that opens after the page's
  // own decisions are drawn.
  const drawn = (draw) => (item, live, place) => {
    try { draw(item, live, place); } catch (err) { console.error(err); failed(err); }
  };
  const showItem = drawn((item, live, place) => ("action" in item ? showAction(item, place) : show(item, live, place)));

  for (const [lane, events] of Object.entries(boot.events)) {
    for (const ev of events.slice().reverse()) drawn(show)(ev, false);
    if (!events.length) lanes.get(lane).latest.className = "latest";
  }
  drawn(showStatus)(boot.status);

  // Each lane's newest, as the page is loaded: the newest over all lanes together left a lane out
  // after a busy moment (a hundred swipes at the door, and the car held at the exit not shown).
  async function catchUp() {
    try {
      const items = await api("GET", `/api/live/recent?per_lane=${RECENT}&actions=true`);
      const below = new Map();  // lane -> the place of its item just drawn, oldest first
      for (const item of items.reverse()) {
        const lane = lanes.get(item.lane);
        if (!lane) continue;
        const known = lane.places.get(itemKey(item));
        const place = known === undefined ? placeBetween(lane, below.get(item.lane)) : known;
        below.set(item.lane, place);
        showItem(item, true, place);
      }
    } catch (err) { failed(err); }
  }

  // A stream opened again may be another guard's: logged in on this tablet meanwhile (a shift
  // handover, in another tab). The page is drawn again for the one logged in now, rather than
  // showing the last one's name over the next one's session.
  async function sameGuard() {
    const me = await api("GET", "/api/me").catch(() => null);
    if (!me || me.username === boot.user) return;
    source.close();
    clearTimeout(watchdog);
    reloadSaying(T("live.other_user"));
  }

  // Lost touch with the gateway: no lane can be said to be online (the `status` event that comes
  // with the next stream says again what each is).
  function showUnknown() {
    for (const lane of lanes.values()) {
      lane.status.className = "pill unknown"; lane.status.textContent = T("lane.unknown");
    }
  }

  // The gateway sends a `ping` every 15 s: a line that stays silent longer is dead even though no
  // socket closed (a Wi-Fi drop sends no FIN), and EventSource would wait on it for ever.
  const SILENCE_MS = (boot.silence_s || 35) * 1000;
  let source = null;
  let watchdog = 0;
  let opened = false;
  function heard() {
    clearTimeout(watchdog);
    watchdog = setTimeout(silent, SILENCE_MS);
  }
  function silent() {
    source.close();
    lost();
    setTimeout(connect, 1000);
  }
  function lost() {
    document.getElementById("reconnecting").hidden = false;
    showUnknown();
  }

  function connect() {
    source = new EventSource("/api/live/stream");
    const mine = source;
    const banner = document.getElementById("reconnecting");
    const on = (kind, handle) => source.addEventListener(kind, (e) => { if (mine === source) { heard(); handle(e); } });
    heard();
    on("open", () => {
      banner.hidden = true;
      if (opened) sameGuard();
      opened = true;
      // What was decided between the page being drawn and the stream opening, and on a reconnect
      // what changed about decisions already shown (corrections): the stream carries neither.
      catchUp();
    });
    on("ping", () => {});
    on("access", (e) => drawn(show)(JSON.parse(e.data), true));
    on("status", (e) => drawn(showStatus)(JSON.parse(e.data)));
    on("action", (e) => drawn((a) => showAction(a))(JSON.parse(e.data)));
    on("correction", (e) => drawn(showCorrection)(JSON.parse(e.data)));
    on("resync", catchUp);
    source.addEventListener("error", () => {
      if (mine !== source) return;
      lost();
      if (source.readyState === EventSource.CLOSED) {
        // Not a dropped line but a refusal (logged out?): ask, then try again.
        clearTimeout(watchdog);
        api("GET", "/api/me").then(() => setTimeout(connect, 2000), () => setTimeout(connect, 5000));
      }
    });
  }
  connect();

  // A typed plate goes to the lane, which decides it as a read one (and opens only if it may); a
  // car with no plate at an entrance is given a ticket, which the answer names as its plate.
  // `what`: the decision's key's name (decidedOnce).
  // `asked`: the decision as the guard knows it, named should his session end before it is made.
  async function decideTyped(laneId, body, what, asked) {
    const ev = await decidedOnce(laneId, body, what, asked);
    const lane = lanes.get(laneId);
    if (ev.event_id > lane.answered) lane.answered = ev.event_id;  // its toast shows the guard the car
    const car = noPlate(ev) ? `${T("ticket.label")} ${ev.plate}` : ev.plate || ev.value;
    // The car let through there a moment ago (typed on the other tablet, or read by the camera
    // before this one showed it): said so, not taken for a second car (DecidedAgain.same_passage).
    const again = ev.flags.includes("again") ? ` · ${T("flag.again")}` : "";
    toast(`${car} · ${verdict(ev)}${again}`, !ev.admitted);
  }

  // A typed decision goes with an Idempotency-Key kept until its answer comes: tapped again after
  // none came (the lane decided, its answer lost on the Wi-Fi), the gateway answers the decision
  // already made rather than deciding the car again (let out twice, the second exit flagged
  // no_entry_record, the barrier raised for a car gone). One key per record corrected and decided
  // again ("event <id>"), that car's one decision; one per lane a plate is typed at ("lane <id>"),
  // for RETRY_MS: later, the same plate there is a car come again. The gateway compares plates as
  // the lane takes them: a key sent with another plate is refused (idempotency_mismatch), and
  // that other decision goes again with a key of its own. A car with no plate is never "the same
  // plate": every one sends the same request, so a key kept for the next tap would answer a second
  // car with the first one's ticket, and give it none (withoutPlate).
  const RETRY_MS = 2 * 60 * 1000;
  const decisionKeys = new Map();  // what -> {key, until}; a lane by hand's with lost, after (handKey)
  const newKey = () => Date.now().toString(36) + Math.random().toString(36).slice(2);
  function decisionKey(what) {
    const kept = decisionKeys.get(what);
    if (kept && Date.now() < kept.until) return kept.key;
    const key = newKey();
    decisionKeys.set(what, { key, until: what.startsWith("event ") ? Infinity : Date.now() + RETRY_MS });
    return key;
  }
  async function decidedOnce(laneId, body, what, asked) {
    const once = () => api("POST", `/api/lanes/${laneId}/plate`, body, { "Idempotency-Key": decisionKey(what) }, asked);
    const withoutPlate = asksNoPlate(body);
    const send = withoutPlate ? () => againIfLost(once) : once;
    let ev;
    try {
      try { ev = await send(); } catch (err) {
        if (err.code !== "idempotency_mismatch") throw err;
        decisionKeys.delete(what);
        ev = await send();
      }
    } catch (err) {
      if (withoutPlate) decisionKeys.delete(what);  // the next tap is another car
      throw err;
    }
    decisionKeys.delete(what);
    return ev;
  }
  // A car with no plate: its key lives for one try and, its answer lost on the Wi-Fi (or late,
  // still_saving), one more sent by the page a second later: that car's decision, answered again
  // if the lane made it. Never for a new tap, which may be the next car with no plate.
  const ANSWER_LOST = new Set(["network", "still_saving"]);
  const RETRY_LOST_MS = 1000;
  async function againIfLost(send) {
    try { return await send(); } catch (err) {
      if (!ANSWER_LOST.has(err.code)) throw err;
      await new Promise((resolve) => setTimeout(resolve, RETRY_LOST_MS));
      return send();
    }
  }
  // As the gateway reads a car with no plate (gateway/core/tickets.py NO_PLATE_WORDS): tapped, or typed.
  const NO_PLATE_WORDS = ["无牌", "无牌车", "无车牌"];
  const asksNoPlate = (body) => Boolean(body.no_plate) || NO_PLATE_WORDS.includes((body.plate || "").replace(/\s/g, ""));
  // The lane's newest record this tablet has shown its guard: on the panel, or a typed plate's
  // answer in its toast (before the stream brings it). Sent with 无牌车: a car with no plate let in
  // there since, a moment ago, is the car the other tablet's guard tapped it for, answered again on
  // its ticket; one shown here already, the guard taps for the next car (ticket_let_in_since).
  const shownAt = (lane) => (lane.answered > lane.newest ? lane.answered : lane.newest);
  const typedBody = (answer, lane) => {
    const body = answer.noPlate ? { no_plate: true } : { plate: answer.text };
    if (asksNoPlate(body)) body.shown = shownAt(lane);
    if (answer.vehicleClass) body.vehicle_class = answer.vehicleClass;
    return body;
  };

  // Enter or Space on a recent reading (a row, not a button) corrects it, as a tap does.
  document.addEventListener("keydown", (e) => {
    const row = e.target.closest && e.target.closest("li[data-correct]");
    if (!row || e.target !== row || (e.key !== "Enter" && e.key !== " ")) return;
    e.preventDefault();
    row.click();
  });

  document.addEventListener("click", async (e) => {
    const fix = e.target.closest("[data-correct]");
    if (!fix) return;
    const ev = events.get(fix.dataset.correct);
    if (!ev) return;
    const answer = await askPlate({
      title: T("fix.title"), reading: read(ev), value: ev.corrected ? ev.corrected.plate : read(ev),
      decide: !ev.admitted && !neighbours(ev) && lanes.get(ev.lane).info.type === "vehicle",
      // An entry let in on a plate read off a car that has none: 无牌车 gives it its ticket, its
      // stay moving onto it. A refusal is corrected to 无牌车 typed, then decided again.
      noPlate: ev.admitted && lanes.get(ev.lane).info.direction === "entrance" ? "entrance" : undefined,
    });
    if (!answer) return;
    fix.disabled = true;
    const decide = answer.choice === "decide";
    try {
      const asked = `${laneName(ev.lane)} · ${T("fix.button")} ${read(ev)} → ${answer.text}`;
      const done = await corrected(ev, answer.text, decide, asked);
      if (done) showCorrection(done);
      if (decide) await decideAgain(ev, done ? done.plate : answer.text, asked);
      else if (done.no_plate) toast(`${T("fix.done")}: ${T("ticket.label")} ${done.plate}`);
      else toast(`${T("fix.done")}: ${done.plate} · ${holder(ev)}` + (done.stay_moved ? ` · ${T("fix.stay_moved")}` : ""));
    } catch (err) { failed(err); fix.disabled = false; }
  });

  // The corrected car decided again, naming its record: the gateway decides it only while that car
  // is still the lane's (this page's view may be stale: another tablet opened the lane for it, the
  // next car pulled up), else answers car_left_lane, the correction kept and the barrier left down
  // for the car there now. Said as it is, not as a failure: nothing is to be tried again.
  async function decideAgain(ev, plate, asked) {
    try {
      await decideTyped(ev.lane, { plate, corrected_event: ev.event_id }, `event ${ev.event_id}`, asked);
    } catch (err) {
      if (err.code !== "car_left_lane") throw err;
      toast(T("err.car_left_lane"), true);
    }
  }

  // A plate correction sent; null when it is to be decided again and the record has that plate
  // already (same_plate): the correction stood but an answer was lost on the Wi-Fi, and the guard
  // tapped 纠正并重新判断 again. Stopped there, the lane never decided the car, and a resident
  // waited at a shut barrier; the decision's key (decidedOnce) keeps one decided already from being
  // made again.
  async function corrected(ev, plate, decide, asked) {
    try { return await api("POST", `/api/events/${ev.event_id}/plate`, { plate }, {}, asked); } catch (err) {
      if (decide && err.code === "same_plate") return null;
      throw err;
    }
  }

  // A car held at an exit to pay: the fee the gateway works out, taken in cash or by QR, then the
  // payment, the exit and the stay's close are stored together and the barrier opens.
  async function takeFee(laneId) {
    const quote = await api("GET", `/api/parking/lanes/${laneId}/quote`);
    // A car let in on a pass without a plate is named by the pass (its holder and the unit
    // visited), one on a resident's card that names no car by that resident.
    const on = quote.pass || quote.resident;
    if (!(quote.plate || on)) { toast(T("pay.nothing")); return; }
    const car = quote.plate || person(on.kind, on.name, on.building, on.unit);
    // Held there and owing nothing now (paid at the booth's kiosk meanwhile): that car, to let out.
    if (!quote.due_fen) { toast(`${car} · ${T("err.nothing_owed")}`); return; }
    document.getElementById("pay-summary").textContent = `${car} · ${money(quote.due_fen)}`;
    const payWhy = document.getElementById("pay-why");
    payWhy.textContent = monthEnded(quote.monthly_ended);
    payWhy.hidden = !quote.monthly_ended;
    const answer = await askText("pay-dialog", "", () => {}, true);
    if (!answer) return;
    const body = {
      plate: quote.plate || "", pass_id: quote.pass ? quote.pass.id : null,
      resident_id: quote.resident ? quote.resident.id : null,
      amount_fen: quote.due_fen, method: answer.choice, receipt: answer.text,
    };
    let ev;
    const asked = `${laneName(laneId)} · ${T("pay.button")} ${car} ${money(quote.due_fen)}`;
    try { ev = await api("POST", `/api/parking/lanes/${laneId}/pay`, body, {}, asked); } catch (err) {
      // Sent, and no answer back: the gateway may have taken the fee and let the car out.
      if (err.code !== "network") throw err;
      toast(T("pay.unknown"), true);
      return;
    }
    // The receipt number (the one typed, or made by the gateway) is what the guard hands the driver.
    const receipt = ev.receipt ? ` · ${T("pay.receipt_no")} ${ev.receipt}` : "";
    toast(`${T("pay.done")} ${money(quote.due_fen)} · ${car}${receipt} · ${verdict(ev)}`);
  }

  document.addEventListener("click", async (e) => {
    const pay = e.target.closest("[data-pay]");
    if (!pay) return;
    pay.disabled = true;
    try { await takeFee(pay.dataset.pay); } catch (err) { failed(err); } finally { pay.disabled = false; }
  });

  document.addEventListener("click", async (e) => {
    const button = e.target.closest("[data-type-plate]");
    if (!button) return;
    const laneId = button.closest("[data-lane]").dataset.lane;
    const info = lanes.get(laneId).info;
    const answer = await askPlate({
      title: T("typed.title"), reading: null, value: "", decide: false,
      vehicleClass: info.vehicle_class || "car",
      noPlate: info.direction === "entrance" ? "entrance" : () => api("GET", `/api/lanes/${laneId}/tickets`),
    });
    if (!answer) return;
    button.disabled = true;
    const asked = `${info.name} · ${button.textContent.trim()} ${answer.text}`;
    try { await decideTyped(laneId, typedBody(answer, lanes.get(laneId)), `lane ${laneId}`, asked); }
    catch (err) { failed(err); } finally { button.disabled = false; }
  });

  // A lane by hand goes with an Idempotency-Key, one per lane and action, kept until an answer
  // comes, for RETRY_MS: tapped again after none came (网关没有回应: the lane opened, its answer
  // lost on the Wi-Fi), the gateway answers the opening it made (`again`) rather than raising the
  // barrier a second time, and the guard is told so. An answer to any action of this page's on the
  // lane lets the lane's keys go: kept past it, 常开 lost, then 取消常开, then 常开 for the next
  // vehicle was answered as the first hold, and the lane not held. What another tablet does on the
  // lane lets none go: shown here after the tap though done before it, it took the key of a lost
  // 开闸 and the retry opened again; the gateway does a hold, release, close or reopen repeated
  // anew where the lane is no longer so (released on the other tablet since).
  // `lost`: why its last try went unanswered (network, still_saving, internal_error), said when
  // the repeat is answered, and kept with it when the login runs out (keepNotDone: the first tap
  // after the login sends it, within the same RETRY_MS from the tap).
  const handKeys = (laneId) => Array.from(decisionKeys.keys()).filter((what) => what.startsWith(`hand ${laneId} `));
  function handKey(laneId, action) {
    const what = `hand ${laneId} ${action}`;
    const kept = decisionKeys.get(what);
    if (kept && Date.now() < kept.until) return kept;
    const made = { key: newKey(), until: Date.now() + RETRY_MS, lost: "" };
    decisionKeys.set(what, made);
    return made;
  }
  // Those kept when the login ran out (app.js keptKeys), for the same guard, until RETRY_MS from the tap.
  for (const [what, kept] of Object.entries(keptKeys)) {
    if (what.startsWith("hand ") && kept && kept.key) decisionKeys.set(what, kept);
  }
  const UNANSWERED = new Set(["network", "still_saving", "internal_error"]);
  document.addEventListener("click", async (e) => {
    // Its relays (open, hold, release) or its mode (close, reopen): each asks why, and is audited.
    const button = e.target.closest("[data-lane-action],[data-lane-mode]");
    if (!button) return;
    const laneId = button.closest("[data-lane]").dataset.lane;
    const reason = await askReason(button.dataset.title);
    if (reason === null) return;
    button.disabled = true;
    const action = button.dataset.laneAction || button.dataset.laneMode;
    const kept = handKey(laneId, action);
    try {
      let done;
      try {
        done = await api("POST", `/api/lanes/${laneId}/${action}`, { reason }, { "Idempotency-Key": kept.key },
          { name: button.dataset.title, key: { what: `hand ${laneId} ${action}`, ...kept } });
      } catch (err) {
        // Unanswered, it may have been done; answered otherwise, the gateway holds nothing done by
        // its key (a done one is answered `again`).
        kept.lost = UNANSWERED.has(err.code) ? err.code : "";
        throw err;
      }
      for (const what of handKeys(laneId)) decisionKeys.delete(what);
      // Done while storage took no writes: the record waits in memory, and the guard is told why
      // (a full disk, or another program holding the database: told "the disk is full" whatever
      // the cause, a guard had files deleted while a suspended import held it).
      if (done && done.again) {
        const why = T("action.lost." + (UNANSWERED.has(kept.lost) ? kept.lost : "other"));
        toast(fill(T("action.done_before"), { action: button.dataset.title, why }), true);
      } else if (done && done.record_waits) toast(T("action.waits." + done.waits_for), true);
      else if (done && done.car_under_arm) toast(T("lane.car_under_arm"), true);
      else toast(T("action.done"));
    } catch (err) { failed(err); } finally { button.disabled = false; }
  });
})();
