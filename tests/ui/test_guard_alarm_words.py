"""Alarms in the guard's language (Chinese by default, English as an option), and the price page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import get_args

import pytest
from fastapi.testclient import TestClient

import gateway.config.devices as config_devices
from gateway.alarm_texts import MESSAGES, AlarmText
from gateway.api.app import create_app
from gateway.runtime.device_alarms import device_alarm
from gateway.store.alarms import raise_alarm
from gateway.web.i18n import TEXTS
from tests.ui.conftest import GUARD, Site, bearer, log_in, make_config, start_site

KINDS = sorted(k for k in MESSAGES if "." not in k)


def raise_every_kind(site: Site) -> None:
    at, text = site.gw.now(), AlarmText("disk_low", {"free_percent": 5})
    for kind in KINDS:
        site.gw.on_worker(lambda c, k=kind: raise_alarm(c, k, "src", text, at))
    site.gw.on_worker(lambda c: None).result(timeout=10)


def switch_to_english(client: TestClient, csrf: dict[str, str]) -> None:
    r = client.post("/api/me/language", json={"language": "en"}, headers=csrf)
    assert r.status_code == 204, r.text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_alarm_kind_is_named_in_the_guards_language(
    client: TestClient, site: Site, language: str
) -> None:
    raise_every_kind(site)
    csrf = log_in(client, GUARD)
    if language == "en":  # the 中文/English switch in the top bar
        switch_to_english(client, csrf)
    page = client.get("/alarms").text
    raw = [k for k in KINDS if f"<strong>{k}</strong>" in page]
    assert raw == [], f"alarm kinds shown untranslated on the {language} alarms page: {raw}"
    index = 0 if language == "zh" else 1
    assert all(TEXTS[f"alarm.{k}"][index] in page for k in KINDS)


def _device_kinds() -> set[str]:
    """Every device kind a site config can name, from the config's device models."""
    kinds: set[str] = set()
    for model in vars(config_devices).values():
        field = getattr(model, "model_fields", {}).get("kind")
        if field is not None:
            kinds.update(get_args(field.annotation))
    return kinds


def test_every_device_kind_a_config_can_name_has_words_in_both_languages() -> None:
    """A Modbus loop detector (kind sensor) offline read "sensor car-in-loop（通道 car-in）离线" on
    the Chinese page: its kind had no Chinese word."""
    kinds = _device_kinds()
    assert {"reader", "camera", "relay", "display", "sensor"} <= kinds
    for kind in kinds:
        zh = AlarmText("device_offline", {"device_kind": kind, "device": "d", "lane": "l", "error": "e"})
        assert kind not in zh.render("zh"), f"device kind {kind!r} has no Chinese word"


def test_a_device_offline_reads_in_chinese_on_the_chinese_page_and_in_english_on_the_english_one(
    client: TestClient, site: Site
) -> None:
    health = next(h for h in site.gw.devices.health if h.device == "door-reader")
    health.set_offline("no answer")
    site.gw.on_worker(lambda c: device_alarm(c, health, False, site.gw.now)).result(timeout=10)
    csrf = log_in(client, GUARD)
    page = client.get("/alarms").text
    assert "读卡器 door-reader（通道 door）离线" in page
    assert "offline:" not in page and "on lane" not in page
    switch_to_english(client, csrf)
    assert "reader door-reader on lane door offline: no answer" in client.get("/alarms").text


def test_the_alarms_api_words_messages_for_the_caller_and_gives_the_key(
    client: TestClient, site: Site
) -> None:
    text = AlarmText("repair_overdue", {"device": "car-in-camera", "hours": 30.0, "limit_hours": 24.0})
    site.gw.on_worker(
        lambda c: raise_alarm(c, "repair_overdue", "car-in-camera", text, site.gw.now())
    ).result()
    guard = bearer(site.guard_token)  # a token speaks the site's language: Chinese here
    [alarm] = client.get("/api/alarms", headers=guard).json()
    assert alarm["message"].startswith("car-in-camera 已离线 30.0 小时，超过 24 小时的维修时限")
    assert alarm["text"] == {"key": "repair_overdue", "params": text.params}
    [alarm] = client.get("/api/alarms", params={"lang": "en"}, headers=guard).json()
    assert "offline 30.0 hours, past the 24-hour repair limit" in alarm["message"]


def test_an_alarm_stored_as_a_plain_sentence_still_reads(client: TestClient, site: Site) -> None:
    site.gw.on_worker(
        lambda c: c.execute(
            "INSERT INTO alarms (kind, source, message, raised_at) "
            "VALUES ('disk_low', 'x', '旧版本的报警', ?)",
            (site.gw.now().isoformat(),),
        )
    ).result()
    [alarm] = client.get("/api/alarms", headers=bearer(site.guard_token)).json()
    assert alarm["message"] == "旧版本的报警" and alarm["text"] is None


@pytest.fixture
def english_site(tmp_path: Path) -> Iterator[Site]:
    cfg = make_config(tmp_path / "english" / "data")
    s = start_site(cfg.model_copy(update={"site": cfg.site.model_copy(update={"language": "en"})}))
    yield s
    s.gw.stop()


def test_the_price_page_follows_the_site_language_or_the_one_asked(
    client: TestClient, english_site: Site
) -> None:
    assert "停车收费标准" in client.get("/prices").text  # the default site: Chinese
    english = client.get("/prices", params={"lang": "en"}).text
    assert "parking prices" in english and "<html lang='en'>" in english and "停车收费标准" not in english
    with TestClient(create_app(english_site.gw)) as c:
        page = c.get("/prices").text
        assert "parking prices" in page and "停车收费标准" not in page
        assert "停车收费标准" in c.get("/prices", params={"lang": "zh"}).text


@pytest.fixture
def named_lanes_site(tmp_path: Path) -> Iterator[Site]:
    cfg = make_config(tmp_path / "named" / "data")
    named = {"name": "东门人行"}
    lanes = [lane.model_copy(update=named) if lane.id == "door" else lane for lane in cfg.lanes]
    s = start_site(cfg.model_copy(update={"lanes": lanes}))
    yield s
    s.gw.stop()


def test_alarms_name_a_lane_as_guards_know_it_and_upstream_by_its_id(named_lanes_site: Site) -> None:
    """The config names the lane 东门人行: the guard reads that, not the installer's id "door"; the
    central server, which knows every site's lanes by id, gets the id."""
    site = named_lanes_site
    health = next(h for h in site.gw.devices.health if h.device == "door-reader")
    health.set_offline("no answer")
    site.gw.on_worker(lambda c: device_alarm(c, health, False, site.gw.now)).result(timeout=10)
    with TestClient(create_app(site.gw)) as client:
        log_in(client, GUARD)
        assert "读卡器 door-reader（通道 东门人行）离线" in client.get("/alarms").text
        [alarm] = client.get("/api/alarms", params={"lang": "en"}, headers=bearer(site.guard_token)).json()
        assert alarm["message"] == "reader door-reader on lane 东门人行 offline: no answer"
        assert alarm["text"]["params"]["lane"] == "door"
    upstream = site.gw.on_worker(
        lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'alarm'").fetchone()[0]
    ).result(timeout=10)
    assert "（通道 door）" in upstream


def test_an_alarms_source_line_names_its_lane_as_guards_know_it(named_lanes_site: Site) -> None:
    """Under the alarm's kind, the small line naming where it is says 东门人行, not the id door."""
    site = named_lanes_site
    text = AlarmText("forced_open", {"lane": "door", "device": "door-lock"})
    site.gw.on_worker(lambda c: raise_alarm(c, "forced_open", "door", text, site.gw.now())).result(timeout=10)
    with TestClient(create_app(site.gw)) as client:
        log_in(client, GUARD)
        page = client.get("/alarms").text
    assert "<small>东门人行</small>" in page and "<small>door</small>" not in page
