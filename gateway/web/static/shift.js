// 交班 Shift handover (shift.html): the cash counted in yuan, the difference from the cash on record
// shown before the guard confirms, then sent once (its Idempotency-Key, app.js keyFor) with the
// figure he confirmed, and the offer to log out. A failed request says so and keeps what was typed. A fee recorded with the wrong
// method (扫码已付 tapped for cash) is corrected from its row, with a reason, and the page drawn again.
"use strict";
const shiftForm = document.getElementById("shift-form");
const shiftDialog = document.getElementById("shift-dialog");
const counted = document.getElementById("shift-counted");
// An admin on a dismissed guard's shift (/shift?guard=NAME): that shift is asked for and handed over.
const forGuard = boot.shift.guard ? "?guard=" + encodeURIComponent(boot.shift.guard) : "";

// Yuan as typed on a tablet (全角 digits, the 。 of Chinese punctuation) -> fen, or null.
function typedFen(text) {
  const v = text.trim().replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).replace(/[。．]/g, ".");
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(v);
  return m ? Number(m[1]) * 100 + Number((m[2] || "").padEnd(2, "0")) : null;
}
const inYuan = (fen) => `${fen < 0 ? "-" : ""}${Math.floor(Math.abs(fen) / 100)}.${String(Math.abs(fen) % 100).padStart(2, "0")}`;
function differenceWords(fen) {
  if (fen < 0) return fill(T("shift.short"), { yuan: inYuan(-fen) });
  if (fen > 0) return fill(T("shift.over"), { yuan: inYuan(fen) });
  return T("shift.even");
}
function showDifference() {
  const fen = typedFen(counted.value);
  const el = document.getElementById("shift-difference");
  el.textContent = counted.value.trim() === "" ? "" : fen === null ? T("shift.bad_amount") : differenceWords(fen - boot.shift.cash_fen);
  el.className = fen === null || fen === boot.shift.cash_fen ? "muted" : "error";
}
counted.addEventListener("input", showDifference);
showDifference();  // a count filled in again after a login (app.js restoreForms)

let asked = null;  // the body confirmed in the dialog
// A handover sent whose answer never came (the Wi-Fi, the gateway's 500): it may be stored. Until
// its answer is known, 交班 sends it again with its key and shows what it made: asked afresh, the
// shift would be the next, empty one, and the drawer he counted even shown as all over (长款).
// Kept in the tab's sessionStorage, by guard (a shared tablet), as app.js keeps a lost tap: he
// reloads the page after 网关没有回应, as one does, and it must still be the one sent again.
const LOST_HANDOVER = "egw-lost-handover:" + boot.user + forGuard;
function keepLost(lost) {
  try {
    if (lost) sessionStorage.setItem(LOST_HANDOVER, JSON.stringify(lost));
    else sessionStorage.removeItem(LOST_HANDOVER);
  } catch (err) { /* storage off: kept for this page only, as before */ }
  return lost;
}
function keptLost() {
  try { return JSON.parse(sessionStorage.getItem(LOST_HANDOVER) || "null"); } catch (err) { return null; }
}
let lostHandover = keptLost();

// The confirm dialog for `cash` on record: the body it confirms names it (`recorded_cash_fen`), so
// a fee taken for him while he reads it is answered `shift_changed`, not recorded as short; and the
// shift the page showed (`shift_start`), so that shift handed over meanwhile on another tablet he is
// logged in at is answered `already_done`, not handed over a second time, empty or all 长款.
function askToConfirm(fen, cash) {
  boot.shift.cash_fen = cash;
  document.getElementById("shift-cash").textContent = inYuan(cash);
  showDifference();
  asked = {
    counted_cash_fen: fen, note: shiftForm.elements.note.value.trim(), recorded_cash_fen: cash,
    shift_start: boot.shift.start,
  };
  document.getElementById("shift-confirm-recorded").textContent = inYuan(cash);
  document.getElementById("shift-confirm-counted").textContent = inYuan(fen);
  document.getElementById("shift-confirm-difference").textContent = differenceWords(fen - cash);
  openDialog(shiftDialog);
}

// Handed over already: on the other tablet, said so with when; or, sent again after 网关没有回应,
// this one's own (`resent`), his first tap done and only its answer lost.
function handedOver(err, resent) {
  const at = err.data && err.data.at;
  reloadSaying(resent ? doneWords(err, true) : at ? ownWords(T("shift.handed_over"), { at }) : T("err.already_done"));
}

async function sendHandover(body, key, resent = false) {
  const button = document.getElementById("shift-submit");
  button.disabled = true;
  try {
    const done = await api("POST", "/api/shift/handover" + forGuard, body, { "Idempotency-Key": key });
    lostHandover = keepLost(null);
    document.getElementById("shift-done-text").textContent = fill(T("shift.done"), {
      time: done.handed_over_at.slice(11, 16),
      recorded: inYuan(done.recorded_cash_fen),
      counted: inYuan(done.counted_cash_fen),
      difference: differenceWords(done.difference_fen),
    });
    shiftForm.hidden = true;
    document.getElementById("shift-done").hidden = false;
    const logout = document.getElementById("shift-logout");  // none for an admin's handover for a guard
    if (logout) logout.focus();
  } catch (err) {
    lostHandover = keepLost(unknownAnswer(err) ? { body, key } : null);
    button.disabled = false;
    if (err.code === "shift_changed") {  // a fee taken for him since: the new figures, asked again
      toast(fill(T("shift.changed"), { yuan: inYuan(err.data.recorded_cash_fen) }), true);
      askToConfirm(body.counted_cash_fen, err.data.recorded_cash_fen);
      return;
    }
    if (err.code === "already_done") {
      handedOver(err, resent);
      return;
    }
    if (err.fields.includes("counted_cash_fen")) counted.setAttribute("aria-invalid", "true");
    failed(err);
  }
}

shiftForm.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (lostHandover) {
    sendHandover(lostHandover.body, lostHandover.key, true);
    return;
  }
  const fen = typedFen(counted.value);
  if (fen === null) {
    counted.setAttribute("aria-invalid", "true");
    toast(T("shift.bad_amount"), true);
    return;
  }
  const button = document.getElementById("shift-submit");
  button.disabled = true;
  try {
    // The cash on record now: another tablet may have taken a fee for this guard since the page was drawn.
    const shift = await api("GET", "/api/shift" + forGuard);
    // The shift drawn here handed over since (on another tablet): nothing to ask; the page shows the next.
    if (shift.since === "handover" && shift.start !== boot.shift.start) {
      reloadSaying(ownWords(T("shift.handed_over"), { at: shift.start }));
      return;
    }
    askToConfirm(fen, shift.cash_fen);
  } catch (err) { failed(err); } finally { button.disabled = false; }
});

document.getElementById("shift-cancel").addEventListener("click", () => closeDialog(shiftDialog));
document.getElementById("shift-confirm").addEventListener("click", (e) => {
  e.preventDefault();
  closeDialog(shiftDialog);
  sendHandover(asked, keyFor(shiftForm, asked));
});

// 改为现金 / 改为扫码 on a payment's row: the reason asked (no lane's quick reasons: they are not a
// payment's), the correction sent once (a repeat after an answer lost on the Wi-Fi is the same one),
// then the page drawn again from what is stored, its totals and the cash on record with it.
document.addEventListener("click", async (e) => {
  const button = e.target.closest("[data-method-to]");
  if (!button) return;
  const reason = await askReason(button.dataset.title, 2, false);
  if (reason === null) return;
  const body = { method: button.dataset.methodTo, reason };
  button.disabled = true;
  try {
    await api("POST", `/api/payments/${encodeURIComponent(button.dataset.receipt)}/method`, body,
      { "Idempotency-Key": keyFor(button, body) });
    reloadSaying(T("shift.method_fixed"));
  } catch (err) {
    if (err.code === "already_done") reloadSaying(T("err.already_done"));
    else { failed(err); button.disabled = false; }
  }
});
