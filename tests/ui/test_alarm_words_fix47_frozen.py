"""A camera whose picture froze (drivers/cameras/frozen.py) on the alarms page: docs/guard-app.md
words every alarm in the guard's language; the journal and the record upstream keep the driver's
English as before (docs/mqtt.md: `message` Chinese, `message_en` English, `text` key and params)."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient

from drivers.cameras.frozen import FROZEN
from gateway.alarm_texts import AlarmText
from gateway.runtime.device_alarms import device_alarm
from tests.ui.conftest import GUARD, Site, log_in, stored

CHINESE = "画面冻结：摄像机反复发送同一画面（编码器卡死），请重启摄像机或检查编码设置"


def _freeze(site: Site) -> None:
    health = next(h for h in site.gw.devices.health if h.device == "car-in-camera")
    health.set_offline(FROZEN)  # as OpenCvCamera._take says it
    site.gw.on_worker(lambda c: device_alarm(c, health, False, site.gw.now)).result(timeout=10)


def _message_cell(page: str) -> str:
    row = page[page.index("data-alarm=") :]
    message = re.search(r"<td>([^<]*(?:离线|offline)[^<]*)</td>", row)
    assert message, row[:600]
    return message.group(1)


def test_a_frozen_picture_says_what_to_do_in_chinese_on_the_chinese_alarms_page(
    client: TestClient, site: Site
) -> None:
    """The entrance camera's picture froze: the Chinese alarms page read 摄像机 car-in-camera（通道 …）
    离线：picture frozen: the camera sends the same image over and over (its encoder hung); reboot
    the camera or check its encoder settings. The guard should read what happened and what to do
    (重启摄像机) in Chinese, as the page words every other part of the alarm."""
    _freeze(site)
    log_in(client, GUARD)
    message = _message_cell(client.get("/alarms").text)
    assert "picture frozen" not in message and "reboot the camera" not in message, (
        f"the frozen camera's alarm is English on the Chinese page: {message!r}"
    )
    assert message.endswith("离线：" + CHINESE)


def test_a_frozen_picture_keeps_the_drivers_english_for_the_english_page_and_upstream(
    client: TestClient, site: Site
) -> None:
    _freeze(site)
    csrf = log_in(client, GUARD)
    r = client.post("/api/me/language", json={"language": "en"}, headers=csrf)
    assert r.status_code == 204, r.text
    assert _message_cell(client.get("/alarms").text).endswith("offline: " + FROZEN)
    [(payload,)] = stored(
        site,
        "SELECT payload FROM outbox WHERE json_extract(payload, '$.kind') = 'device_offline' "
        "AND json_extract(payload, '$.source') = 'car-in-camera'",
    )
    record = json.loads(payload)
    assert record["message"].endswith("离线：" + CHINESE)
    assert record["message_en"].endswith("offline: " + FROZEN)
    assert record["text"]["params"]["error"] == FROZEN  # the key and params as before


def test_an_alarm_raised_before_the_words_existed_reads_in_chinese_too() -> None:
    """An alarm open since before the upgrade is stored with the same parameters: it is rendered
    when the page is shown, so it reads in Chinese too. A driver error with no Chinese words reads
    as the driver words it, said to be the device's own (review 56e)."""
    params = {"device_kind": "camera", "device": "car-in-camera", "lane": "car-in"}
    assert AlarmText("device_offline", {**params, "error": FROZEN}).render("zh").endswith(CHINESE)
    other = AlarmText("device_offline", {**params, "error": "no answer"})
    assert other.render("zh").endswith("离线：设备原始报错：no answer")
