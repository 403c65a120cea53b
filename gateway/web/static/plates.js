// The plate log: a reading corrected later, against its snapshot (the same dialog as the live page).
"use strict";
document.addEventListener("click", async (e) => {
  const fix = e.target.closest("[data-correct]");
  if (!fix) return;
  const answer = await askPlate({ title: T("fix.title"), reading: fix.dataset.read, value: fix.dataset.plate, decide: false });
  if (!answer) return;
  fix.disabled = true;
  try {
    const done = await api("POST", `/api/events/${fix.dataset.correct}/plate`, { plate: answer.text });
    const cell = fix.closest("tr").querySelector("[data-shown]");
    const note = document.createElement("small");
    note.className = "muted";
    note.textContent = `(${T("fix.read")} ${done.read} · ${T("fix.by")} ${done.by})`;
    cell.textContent = "";  // not replaceChildren(): Chrome 86, Safari 14
    cell.append(`${done.plate} `, note);
    fix.dataset.plate = done.plate;
    toast(`${T("fix.done")}: ${done.plate}` + (done.stay_moved ? ` · ${T("fix.stay_moved")}` : ""));
  } catch (err) { failed(err); } finally { fix.disabled = false; }
});
