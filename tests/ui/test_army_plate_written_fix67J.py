"""Review 67 J3, J4: an army plate is shown and filled in as a guard types it, and the visitor form
says what is wrong with a green plate typed without its province.

J3: an army car's plate is stored ED12345, and typed so it is refused as a green plate whose
province was left out (ED-12345 is the army's). The pass page filled its materials form with the
stored ED12345, so 物品放行 for a visitor's army car was refused with the plate the page had filled
in itself; a returning visitor's plate was filled in so too. Pages now show such a plate ED-12345.

J4: the visitor and contractor forms dropped the refusal's plate and army spelling, so the page
said only "no I or O in its number" where the lane says to give the province or write ED-12345."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.web.i18n import js_texts
from tests.ui.conftest import GUARD, Site, bearer, log_in

VISITOR = {"name": "王芳", "host_building": "3栋", "host_unit": "2单元", "phone": "13800138000"}


def test_the_pass_pages_materials_form_is_filled_with_a_plate_it_takes(
    client: TestClient, site: Site
) -> None:
    guard = bearer(site.guard_token)
    made = client.post("/api/visitors", json={**VISITOR, "plate": "ED-12345"}, headers=guard)
    assert made.status_code == 201, made.text
    pass_id = made.json()["id"]
    log_in(client, GUARD)
    page = client.get(f"/passes/{pass_id}").text
    filled = re.search(r'id="m-plate"[^>]*value="([^"]*)"', page)
    assert filled is not None and filled.group(1) == "ED-12345", page
    body = {"pass_id": pass_id, "items": "旧橱柜 1 套", "plate": filled.group(1)}
    out = client.post("/api/materials", json=body, headers=guard)
    assert out.status_code == 201 and out.json()["plate"] == "ED12345", out.text
    # A pass page drawn before (its form filled with ED12345) names that pass's own car.
    again = client.post("/api/materials", json={**body, "plate": "ED12345"}, headers=guard)
    assert again.status_code == 201, again.text

    # A returning visitor's plate is filled into the visitor form as it is typed, and taken back.
    found = client.post("/api/visitors/find", json={"phone": VISITOR["phone"]}, headers=guard).json()
    assert found["plate"] == "ED-12345", found
    back = client.post("/api/visitors", json={**VISITOR, "plate": found["plate"]}, headers=guard)
    assert back.status_code == 201, back.text


# The page's script run in node with the DOM stubbed: its errorText on the error in ANSWER.
_HARNESS = """
const vm = require("vm");
const fs = require("fs");
const stub = () => new Proxy(function () {}, {
  get(t, k) {
    if (k === "textContent") return process.env.BOOT;
    if (k === "querySelectorAll") return () => [];
    if (k === "querySelector") return () => null;
    if (k === Symbol.toPrimitive) return () => "";
    return stub();
  },
  apply() { return stub(); },
});
const store = { getItem() { return null; }, setItem() {}, removeItem() {} };
const ctx = { console, JSON, Object, Map, Set, Array, String, Number, RegExp, Promise, Date, Math,
  setTimeout, clearTimeout, document: { getElementById: stub, querySelector: () => null,
  querySelectorAll: () => [], addEventListener() {}, documentElement: stub(), body: stub() },
  history: { replaceState() {} }, location: { href: "" }, navigator: { userAgent: "" },
  addEventListener() {}, localStorage: store, sessionStorage: store,
  answer: JSON.parse(process.env.ANSWER) };
ctx.window = ctx;
vm.createContext(ctx);
const app = fs.readFileSync(process.env.APP_JS, "utf8");
vm.runInContext(app + "\\nconsole.log(errorText(new ApiFailure(answer, 422)));", ctx);
"""


def _page_says(error: dict[str, Any], lang: str) -> str:
    """What the guard page's errorText (app.js) says for `error`, run in node."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the page's words for an error were NOT checked")
    env = {
        **os.environ,
        "APP_JS": str(Path(__file__).parents[2] / "gateway/web/static/app.js"),
        "BOOT": json.dumps({"texts": js_texts(lang), "lang": lang, "csrf": ""}),
        "ANSWER": json.dumps(error),
    }
    ran = subprocess.run(
        [node, "-e", _HARNESS], capture_output=True, text=True, timeout=30, check=False, env=env
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    return ran.stdout.strip()


def test_the_visitor_form_says_a_green_plate_lacks_its_province(client: TestClient, site: Site) -> None:
    typed = {**VISITOR, "plate": "ED12345"}
    refused = client.post("/api/visitors", json=typed, headers=bearer(site.guard_token))
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid_pass", ["plate"])
    assert (error["plate"], error["army"]) == ("ED12345", "ED-12345")
    said = _page_says(error, "zh")
    assert "缺少省份" in said and "苏ED12345" in said and "ED-12345" in said, said
    assert "I、O" not in said, said
