"""A device offline alarm in Chinese ended in the driver's English error (review 56e): 继电器
car-in-relay（通道 东门车行入口）离线：unit 1 on /dev/ttyUSB0 does not answer: .... The common driver
errors (a serial port missing, not permitted or taken, a Modbus module or reader not answering, a
camera stream that cannot be opened or gives no frames, a write that failed) are said in Chinese,
with the port or camera they name; any other is the driver's own words after 设备原始报错. The
English sentence, stored and sent upstream, is the driver's as before."""

from __future__ import annotations

import errno
import os
import termios
import time
from pathlib import Path

import pytest

from drivers.displays.serial_text import SerialTextDisplay
from drivers.health import DeviceHealth
from drivers.readers.serial_reader import not_answering
from drivers.serialport import explain
from gateway.alarm_texts import AlarmText

RELAY = {"device_kind": "relay", "device": "car-in-relay", "lane": "car-in"}
PORT = "/dev/ttyUSB0"


def _zh(error: str) -> str:
    said = AlarmText("device_offline", {**RELAY, "error": error}).render("zh", {"car-in": "东门车行入口"})
    assert said.startswith("继电器 car-in-relay（通道 东门车行入口）离线："), said
    return said.removeprefix("继电器 car-in-relay（通道 东门车行入口）离线：")


def test_a_port_that_is_not_there_is_said_in_chinese(tmp_path: Path) -> None:
    gone = str(tmp_path / "ttyUSB9")
    assert _zh(explain(gone, OSError(errno.ENOENT, "No such file or directory"))).startswith(
        f"串口 {gone} 不存在（可能已拔出）"
    )


@pytest.mark.parametrize(
    ("code", "text", "zh"),
    [
        (errno.EACCES, "Permission denied", f"无权打开串口 {PORT}"),
        (errno.EBUSY, "Could not exclusively lock port", f"串口 {PORT} 被其他程序占用"),
    ],
)
def test_a_port_that_cannot_be_opened_is_said_in_chinese(
    monkeypatch: pytest.MonkeyPatch, code: int, text: str, zh: str
) -> None:
    monkeypatch.setattr("drivers.serialport.os.path.exists", lambda path: True)
    assert _zh(explain(PORT, OSError(code, text))).startswith(zh)
    if code == errno.EACCES:  # modbus.py _connect, a port there that would not open
        assert _zh(explain(PORT, OSError(f"cannot open {PORT}"))).startswith(f"无法打开串口 {PORT}")


def test_modules_and_readers_that_do_not_answer_are_said_in_chinese() -> None:
    # As drivers/relays/modbus.py words it (ModbusUnit._failed after a ModbusIOException).
    modbus = (
        f"unit 1 on {PORT} does not answer: Modbus Error: [Input/Output] No response received; "
        "check its address (unit), wiring A/B and termination"
    )
    said = _zh(modbus)
    assert said.startswith(f"{PORT} 上地址为 1 的模块无应答"), said
    assert _zh(not_answering(PORT)).startswith(f"{PORT} 只收到干扰和错误数据"), _zh(not_answering(PORT))


def test_cameras_that_give_no_picture_are_said_in_chinese() -> None:
    url = "rtsp://***@192.168.1.64:554/Streaming/Channels/101"
    cannot = (
        f"cannot open {url}: check the url, that the camera is on the network and its user name and password"
    )
    assert _zh(cannot).startswith(f"无法打开摄像机视频流 {url}")
    dropped = (
        f"stream from {url} dropped: it reconnects by itself; if it stays offline check the camera's "
        "power, network and url"
    )
    assert _zh(dropped).startswith(f"摄像机视频流 {url} 中断（收不到画面）")


def test_a_failed_write_is_said_in_chinese_with_the_drivers_words_after() -> None:
    said = _zh("pulse failed: [Errno 5] Input/output error")
    assert said.startswith("开闸指令写入失败") and said.endswith(
        "（设备原始报错：[Errno 5] Input/output error）"
    )


def test_any_other_driver_error_is_marked_as_the_devices_own_and_english_is_unchanged() -> None:
    assert _zh("unit 7 answered garbage") == "设备原始报错：unit 7 answered garbage"
    modbus = f"unit 1 on {PORT} does not answer: no reply"
    english = AlarmText("device_offline", {**RELAY, "error": modbus}).render("en")
    assert english == f"relay car-in-relay on lane car-in offline: {modbus}"


def test_a_display_that_stops_taking_data_is_said_in_chinese_with_what_to_check() -> None:
    """A lane board whose controller wedges (a pty with its output suspended: the write times
    out) read 设备原始报错：/dev/pts/N: Write timeout (review 56i), in English no fix either."""
    master, slave = os.openpty()
    port = os.ttyname(slave)
    termios.tcflow(slave, termios.TCOOFF)  # the board takes no more bytes
    health = DeviceHealth("lane-led", "display", "car-in", "serial_text")
    display = SerialTextDisplay(health, port, width=4)
    try:
        display.show(["临时车 请缴费 7元", "皖A12345"])
        end = time.monotonic() + 10
        while time.monotonic() < end and not health.last_error:
            time.sleep(0.05)
        assert health.last_error.startswith(f"{port} takes no data (a write timed out)"), health.last_error
        assert _zh(health.last_error).startswith(f"串口 {port} 写入超时（设备不接收数据）")
    finally:
        termios.tcflow(slave, termios.TCOON)
        display.close()
        os.close(master)
        os.close(slave)
