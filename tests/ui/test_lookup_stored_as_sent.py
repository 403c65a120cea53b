"""查询 Lookup after 32a00a8 (gateway/typed.py): the guard's query is read through NFKC, but the
names and buildings the register holds from a CSV import or the central server are not, so a
resident whose name or building was written with Chinese punctuation or full-width letters is no
longer found by typing it as the page shows it (it was found before the upgrade)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from gateway.store import registry
from gateway.store.admin import import_csv
from gateway.typed import typed
from tests.conftest import write_csv
from tests.ui.conftest import Site, bearer


def _found(client: TestClient, site: Site, q: str) -> list[str]:
    r = client.get("/api/lookup", params={"q": q}, headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    return [x["ref"] for x in r.json()]


def test_name_with_chinese_parentheses_from_an_import_is_found_as_typed(
    client: TestClient, site: Site, tmp_path: Path
) -> None:
    """The office's resident list (imported, or sent by the centre) names a tenant 王芳（租户）, with
    the full-width brackets every Chinese keyboard types. The property office messages the booth
    "王芳（租户）" and the guard pastes it, or types it, into 查询: nothing is found (before the
    upgrade it was), because the query became 王芳(租户) while the register still holds （租户）.
    Typing what the register shows must find her."""
    rows = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR7,3栋,2单元,王芳（租户）\n")
    import_csv(site.gw.site.config, [rows])
    assert _found(client, site, "王芳") == ["R7"]  # she is in the register
    assert _found(client, site, "王芳（租户）") == ["R7"]


def test_name_in_full_width_letters_from_an_import_is_found(
    client: TestClient, site: Site, tmp_path: Path
) -> None:
    """A foreign tenant was entered by the office in 全角 mode: Ｔｏｍ李 (imported as the office's
    Excel holds it). The guard, keyboard in 全角 mode too, types Ｔｏｍ: not found (it was before
    the upgrade); typed half-width, Tom: not found either. The docs promise full-width and
    half-width are the same to the gateway (docs/guard-app.md); either way he must be found."""
    rows = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR8,5栋,1单元,Ｔｏｍ李\n")
    import_csv(site.gw.site.config, [rows])
    assert _found(client, site, "李") == ["R8"]  # in the register
    assert _found(client, site, "Ｔｏｍ") == ["R8"]
    assert _found(client, site, "Tom") == ["R8"]


def test_building_written_full_width_from_an_import_is_found(
    client: TestClient, site: Site, tmp_path: Path
) -> None:
    """Tower Ａ (Ａ座) was written with a full-width Ａ in the office's list. The guard looks the
    tower up by typing Ａ座 (or Ａ座１单元, exactly as the register shows it): nobody is found, where
    before the upgrade the tower's residents were listed. They must be."""
    rows = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR9,Ａ座,１单元,陈一\n")
    import_csv(site.gw.site.config, [rows])
    assert _found(client, site, "陈一") == ["R9"]  # in the register
    assert _found(client, site, "Ａ座") == ["R9"]
    assert _found(client, site, "Ａ座１单元") == ["R9"]


def test_what_the_lookup_compares_as_stored_is_its_own_typed_form() -> None:
    """The lookup compares a name or building of printable ASCII and CJK ideographs only as stored
    (registry._NOT_PLAIN: only the others are read through typed() in Python, for speed). Were one
    of those characters changed by typed() (a newer Unicode), such a resident would be missed."""
    plain = [*range(0x20, 0x7F), *range(0x4E00, 0xA000)]
    assert [hex(c) for c in plain if typed(chr(c)) not in (chr(c), "")] == []  # "": the space alone
    conn = sqlite3.connect(":memory:")

    def odd(text: str) -> bool:
        return bool(conn.execute("SELECT ? GLOB ?", (text, registry._NOT_PLAIN)).fetchone()[0])

    assert not odd("".join(map(chr, plain)))
    assert all(odd(f"王{c}芳") for c in "\t\x7f（Ａ１\u3000\u200b\ufeff\u00ad⼀㐀é")
