"""What a guard reads in each row of a lane's list of its eight newest (Review 66 O on 723648f2):
owners' rows, a visitor's, a stranger's, a refused owner's and a shared slot's second car, in
Chinese (the default) and English, on the 10" tablet in landscape (1280x800) and portrait
(800x1280). Made one line for English, a row cut first what a guard knows an owner by (卡号
******0003 业…, 苏E88888 业主 欧***…) and in portrait the plate itself (苏E8888…). Now the plate, or
a card's last four, is never cut; an owner's row shows his masked name, building and unit and the
verdict with its reason, on two lines where one is not enough; and in landscape each lane's eight
rows are in sight in either language. In a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx2
import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.store import registry
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import CARD, DRIVEN, Site, bearer, served, stored
from tests.ui.test_guard_browser import (  # noqa: F401  (fixtures, and the skip without chromium)
    LANDSCAPE,
    PORTRAIT,
    browser,
    page_at,
    pytestmark,
)

TENANT = "欧阳娜娜（租户）"  # masked 欧*******, a name as the register holds one
ZHANG = ("张*", "3栋2单元")  # 张三丰, the tests' resident: what a Chinese row shows of him
OUYANG = ("欧*", "12栋3单元")

# Each lane's eight, oldest first: the plate or card, and what a Chinese row shows of whose it is.
CARS = [
    ("皖A12345", ZHANG),  # on his slot B001
    ("皖A22222", ZHANG),  # his second car on the same slot, while the first is in: temporary
    ("苏E88888", OUYANG),  # the tenant's car with no slot: refused 无车位
    ("苏E66666", OUYANG),  # her monthly car
    ("浙B55555", ("王*", "3栋 2单元")),  # a visitor to 3栋 2单元
    ("浙B77777", ("李*", "12栋 3单元")),  # a decorator's crew for 12栋 3单元
    ("苏E12340", None),  # a stranger's car: temporary
    ("苏E66667", None),
]
CARDS = [
    (CARD, ZHANG),
    ("3000000001", OUYANG),
    ("3000000002", OUYANG),  # expired
    ("3000000003", OUYANG),  # blocked (lost)
    ("C0FFEE01", None),  # nobody's
    ("3000000004", OUYANG),
    ("3000000005", OUYANG),  # expired
    ("C0FFEE02", None),
]


def _register(gw: Any) -> None:
    def run(conn: Any) -> None:
        now = gw.now()
        owner = conn.execute("SELECT id FROM residents WHERE ref = 'R1'").fetchone()[0]
        registry.add_vehicle(conn, now, "test", "皖A22222", owner, "car", None)
        car = conn.execute("SELECT id FROM vehicles WHERE plate = '皖A22222'").fetchone()[0]
        slot = conn.execute("SELECT id FROM slots WHERE number = 'B001'").fetchone()[0]
        conn.execute("INSERT INTO slot_vehicles (slot_id, vehicle_id) VALUES (?, ?)", (slot, car))
        tenant = registry.upsert_resident(
            conn,
            gw.secrets,
            now,
            "test",
            {"ref": "R2", "building": "12栋", "unit": "3单元", "room": "1201", "name": TENANT},
        )
        registry.add_vehicle(conn, now, "test", "苏E88888", tenant, "car", None)
        registry.add_vehicle(conn, now, "test", "苏E66666", tenant, "car", now + timedelta(days=30))
        for card, ends in [
            ("3000000001", None),
            ("3000000002", now - timedelta(days=1)),
            ("3000000003", None),
            ("3000000004", None),
            ("3000000005", now - timedelta(days=1)),
        ]:
            registry.add_card(conn, now, "test", card, tenant, None, None, ends, "")
        registry.set_blocked(conn, now, "test", ("card", "3000000003"), True, "lost")

    gw.on_worker(run).result(timeout=30)


@pytest.fixture(params=["zh", "en"])
def decided(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Site, str, str]]:
    text = site_toml(tmp_path / "data") + DRIVEN + TARIFF_TOML
    if request.param == "en":
        text = text.replace('name = "测试小区"\n', 'name = "测试小区"\nlanguage = "en"\n', 1)
    with served(parse_config(text, "site.toml")) as (site, url):
        gw = site.gw
        _register(gw)
        host = {"host_building": "3栋", "host_unit": "2单元"}
        visitor = {"name": "王小明", "plate": "浙B55555", **host}
        got = httpx2.post(f"{url}/api/visitors", json=visitor, headers=bearer(site.guard_token))
        assert got.status_code == 201, got.text
        until = (gw.now() + timedelta(days=3)).date().isoformat()
        crew = {"name": "李师傅", "company": "好家装饰有限公司", "plate": "浙B77777", "valid_to": until}
        got = httpx2.post(
            f"{url}/api/contractors",
            json={**crew, "host_building": "12栋", "host_unit": "3单元"},
            headers=bearer(site.admin_token),
        )
        assert got.status_code == 201, got.text
        for (plate, _), (card, _) in zip(CARS, CARDS, strict=True):
            gw.present(Presented("car-in", "plate", plate, 0.99, gw.now(), "cam"))
            gw.present(Presented("door", "card", card, 0.99, gw.now(), "door-reader"))
            stored(site, "SELECT 1")
        yield site, url, request.param


# Each row as the guard sees it: its parts' words, whether a part is cut (wider than its box, or
# more lines than it shows), its lines, and whether the row is in sight in its list and the window.
ROWS = """(lane) => {
  const list = document.querySelector(`#lane-${lane} [data-recent]`);
  const bottom = Math.min(list.getBoundingClientRect().bottom, window.innerHeight);
  return [...list.querySelectorAll('li')].map((li) => {
    const part = (cls) => {
      const s = li.querySelector('.' + cls);
      if (!s) return { text: '', lines: 0, cut: false };
      const box = s.getBoundingClientRect();
      const line = parseFloat(getComputedStyle(s).lineHeight);
      return { text: s.textContent, lines: Math.round(box.height / line),
               cut: s.scrollWidth > s.clientWidth + 1 || s.scrollHeight > s.clientHeight + 1
                    || box.right > li.getBoundingClientRect().right + 1 };
    };
    return { c: part('c'), v: part('v'), r: part('r'),
             seen: li.getBoundingClientRect().bottom <= bottom + 1 };
  });
}"""


def rows(page: Any, lane: str) -> list[dict[str, Any]]:
    page.wait_for_selector(f"#lane-{lane} [data-recent] li:nth-child(8)")
    return list(reversed(page.evaluate(ROWS, lane)))  # oldest first, as CARS and CARDS


CARD_WORD = {"zh": "卡号", "en": "Card"}


def said(row: dict[str, Any]) -> str:
    return " | ".join(row[k]["text"] + ("[cut]" if row[k]["cut"] else "") for k in "cvr")


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_the_plate_or_card_and_the_verdict_are_never_cut(
    decided: tuple[Site, str, str],
    browser: object,  # noqa: F811
    size: dict[str, int],
) -> None:
    """苏E8888… ✗ no parking slot and Card ****… in English in portrait: what a row is for."""
    _, url, language = decided
    page = page_at(browser, url, size)
    for lane, shown in (("car-in", CARS), ("door", CARDS)):
        for row, (value, _) in zip(rows(page, lane), shown, strict=True):
            assert not row["c"]["cut"] and not row["r"]["cut"], said(row)
            card = f"{CARD_WORD[language]}\u00a0{value[-4:]}"  # held together
            assert row["c"]["text"] == (value if lane == "car-in" else card), said(row)


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_an_owners_row_says_whose_in_chinese(
    decided: tuple[Site, str, str],
    browser: object,  # noqa: F811
    size: dict[str, int],
) -> None:
    """卡号 ******0003 业…  拒绝 · 已禁用 and 张** 3…: names are masked, so a guard knows an owner by
    his building and unit, and they were cut first. Each owner's, visitor's or crew's row shows the
    masked name with the building and unit, a refused owner's that he is one (业主), and the
    verdict with its reason, each whole in two lines at most."""
    _, url, language = decided
    if language != "zh":
        pytest.skip("the Chinese page's words: in English a row is one line, its holder cut first")
    page = page_at(browser, url, size)
    for lane, shown in (("car-in", CARS), ("door", CARDS)):
        for row, (_, whose) in zip(rows(page, lane), shown, strict=True):
            assert row["r"]["text"].startswith(("放行 · ", "拒绝 · ")), said(row)
            assert not row["r"]["cut"] and row["r"]["lines"] <= 2, said(row)
            if whose is None:
                continue
            name, address = whose
            who = row["v"]["text"]
            assert not row["v"]["cut"] and row["v"]["lines"] <= 2, said(row)
            assert who.startswith(name) or who.startswith(f"业主 {name}"), said(row)
            assert who.endswith(address), said(row)
            if row["r"]["text"].startswith("拒绝"):
                assert who.startswith("业主 "), said(row)


def test_each_lanes_eight_are_in_sight_in_landscape(
    decided: tuple[Site, str, str],
    browser: object,  # noqa: F811
) -> None:
    """Owners' rows of two lines among them, in Chinese as in English, the page not scrolling."""
    _, url, _ = decided
    page = page_at(browser, url, LANDSCAPE)
    for lane in ("car-in", "door"):
        got = rows(page, lane)
        assert [said(r) for r in got if not r["seen"]] == [], [said(r) for r in got]
    assert page.evaluate("() => document.documentElement.scrollHeight") <= LANDSCAPE["height"]
