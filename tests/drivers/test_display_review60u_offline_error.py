"""A lane's LED board unplugged, cars decided at the lane while its port is closed (Review 60u,
noticed by reviewer 60n): each one prefixed the board's last_error (what /api/health, /api/devices
and the lane status show the installer) with one more "show failed: ", so a rush of cars between two
reopen attempts read "show failed: show failed: show failed: /dev/... is not there (unplugged?) ...",
and alarm_texts.device_fault_zh, which matches the driver's own words from the start, no longer
worded it: a Chinese reader got 设备原始报错：show failed: ... instead of 串口 … 不存在."""

from __future__ import annotations

from drivers.displays.serial_text import SerialTextDisplay
from drivers.health import DeviceHealth
from gateway.alarm_texts import device_fault_zh
from gateway.runtime.lane_boards import show_on


def test_each_car_at_an_unplugged_board_keeps_the_drivers_own_words() -> None:
    health = DeviceHealth("car-out-led", "display", "car-out", "serial-display")
    board = SerialTextDisplay(health, "/dev/serial/by-id/usb-LED-unplugged-if00-port0", reconnect_max_s=30)
    try:
        unplugged = health.last_error
        assert "is not there (unplugged?)" in unplugged
        for _ in range(3):  # three cars decided at the lane within a second
            show_on([board], ["临时车 请缴费 9元", "苏E12345"])
        assert not health.online
        assert health.last_error == unplugged
        assert device_fault_zh(health.last_error).startswith("串口"), device_fault_zh(health.last_error)
    finally:
        board.close()
