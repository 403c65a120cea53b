"""What an alarm says, in Chinese and in English.

An alarm is stored as a text key and its parameters (JSON in `alarms.message`), not as a sentence
frozen in one language: the alarms page and API render it in the reader's language, and the record
sent upstream carries it in both. The English sentence is stored with it, so a row read straight
from the database still says something, and an unknown key still renders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.core.model import Reason
from gateway.runtime.texts import REASONS

Param = str | int | float | list[str]

MESSAGES: dict[str, tuple[str, str]] = {
    "device_offline": (
        "{device_kind} {device}（通道 {lane}）离线：{error}",
        "{device_kind} {device} on lane {lane} offline: {error}",
    ),
    "forced_open": (
        "通道 {lane} 的道闸在没有放行记录或保安指令时被打开（{device} 报告）："
        "请查看录像并检查道闸及其限位开关接线",
        "barrier on lane {lane} opened with no decision or guard command behind it (reported by {device}): "
        "check the camera recording, and the arm and its limit switch wiring",
    ),
    "forced_open.door": (  # a pedestrian lane's: a door, which has no arm nor limit switch
        "通道 {lane} 的门在没有放行记录或保安指令时被打开（{device} 报告）：请查看录像并检查门磁及门锁接线",
        "door on lane {lane} opened with no decision or guard command behind it (reported by {device}): "
        "check the camera recording, and the door contact and lock wiring",
    ),
    "held_open": (
        "通道 {lane} 的道闸或门已打开 {seconds:g} 秒以上，没有放行记录或保安保持开启（{device} 报告）："
        "请查看是否被撑开或卡住",
        "barrier or door on lane {lane} open for more than {seconds:g} s with no decision or guard "
        "holding it open (reported by {device}): check whether it is propped open or stuck",
    ),
    "barrier_no_response": (
        "通道 {lane} 的道闸未抬起：继电器已接受开闸指令，但限位开关在 {seconds:g} 秒内未报告抬杆；"
        "请检查道闸控制器电源、电机是否卡住及继电器接到控制器开闸端子的接线",
        "barrier on lane {lane} did not rise: its relay took the pulse but the limit switch did not "
        "report the arm up within {seconds:g} s; check the barrier controller's power, its motor, and "
        "the relay's wiring to the controller's open input",
    ),
    "tailgate": (
        "通道 {lane} 跟车通过：{plate}（{refusal}）在道闸为前车抬起时驶过（本次抬杆放行 {openings} 辆，"
        "通过 {passed} 辆）：请查看录像，向该车收费或补录其出入",
        "tailgating on lane {lane}: {plate} ({refusal}) drove through under the arm raised for the car "
        "in front ({openings} let through, {passed} passed while it was up): check the camera recording, "
        "and take the car's fee or record it",
    ),
    "tailgate.unknown": (  # no car refused or held at the lane just before: its plate is not known
        "通道 {lane} 跟车通过：一辆未放行的车在道闸为前车抬起时驶过（本次抬杆放行 {openings} 辆，"
        "通过 {passed} 辆）：请查看录像，向该车收费或补录其出入",
        "tailgating on lane {lane}: a car not let through drove under the arm raised for the car in "
        "front ({openings} let through, {passed} passed while it was up): check the camera recording, "
        "and take the car's fee or record it",
    ),
    "repeated_unknown_plate": (
        "未登记车牌 {plate} 在 {minutes:g} 分钟内被识别 {count} 次（最近在通道 {lane}）",
        "unregistered plate {plate} read {count} times within {minutes:g} min (last at lane {lane})",
    ),
    "outbox_backlog": (
        "{pending} 条记录等待上传（超过 {limit} 条即报警）",
        "{pending} records wait to go upstream (alarm above {limit})",
    ),
    "outbox_quota": (
        "{pending} 条未上传记录占用 {used_mb:.1f} MB，达到上传队列配额 {quota_mb:g} MB 的 {percent:.0f}%；"
        "记录不会丢弃：请恢复与中心服务器的连接或清理磁盘空间",
        "{pending} unsent records use {used_mb:.1f} MB, {percent:.0f} % of the {quota_mb:g} MB outbox "
        "quota; nothing is dropped: restore the link to the central server or free disk space",
    ),
    "outbox_quarantine": (
        "{record_type} 记录（序号 {seq}）无法上传，已搁置：{reason}。"
        "排除原因后，管理员在本页下方重新上传"
        "（或在网关上运行 gateway outbox -c 站点配置文件 --send-again {seq}）",
        "{record_type} record seq {seq} set aside: {reason}; once the cause is fixed, an admin sends it "
        "again below on this page (or, on the box, `gateway outbox -c CONFIG --send-again {seq}`, CONFIG "
        "being the site config)",
    ),
    "patrol_late": (
        "巡更 {route} {due} 轮次超过{minutes}分钟未完成",
        "patrol {route} round due {due} not finished within {minutes} minutes",
    ),
    "patrol_late.untapped": (
        "巡更 {route} {due} 轮次超过{minutes}分钟未完成，未打卡：{missing}",
        "patrol {route} round due {due} not finished within {minutes} minutes; not tapped: {missing}",
    ),
    "patrol_late.untapped.not_counted": (
        "巡更 {route} {due} 轮次超过{minutes}分钟未完成，未经保安卡打卡：{missing}；其中 {tapped} "
        "有卡打卡但不计入巡更（{not_counted}）：请在站点配置 [patrol] guard_cards 中列出保安的巡更卡",
        "patrol {route} round due {due} not finished within {minutes} minutes; not tapped by a guard's "
        "card: {missing}; {tapped} tapped by a card that does not count ({not_counted}): list the "
        "guards' cards in [patrol] guard_cards",
    ),
    "patrol_missed": (
        "巡更 {route} {due} 轮次漏巡，未打卡：{missing}",
        "patrol {route} round due {due} missed; not tapped: {missing}",
    ),
    # A missing checkpoint tapped by a card that does not count (gateway/parking/patrol.py
    # not_counted): not "not tapped", but by whom it was, and where the guards' cards are listed.
    "patrol_missed.not_counted": (
        "巡更 {route} {due} 轮次漏巡，未经保安卡打卡：{missing}；其中 {tapped} 有卡打卡但不计入巡更"
        "（{not_counted}）：请在站点配置 [patrol] guard_cards 中列出保安的巡更卡",
        "patrol {route} round due {due} missed; not tapped by a guard's card: {missing}; {tapped} tapped "
        "by a card that does not count ({not_counted}): list the guards' cards in [patrol] guard_cards",
    ),
    "disk_low": (
        "数据盘剩余空间 {free_percent:.1f}%，已无可删除的抓拍图片：请降低记录保留天数 "
        "retention.access_records_days，或换更大的存储卡，把数据目录复制过去并将 site.data_dir 指向它",
        "data disk {free_percent:.1f}% free with no snapshots left to prune: lower "
        "retention.access_records_days, or fit a bigger card, copy the data directory to it and point "
        "site.data_dir at it",
    ),
    "disk_low.copies": (  # the copies of the database upgrades made (gateway.db.v45.bak) are there
        "数据盘剩余空间 {free_percent:.1f}%，已无可删除的抓拍图片：数据目录中升级时留下的数据库备份 "
        "gateway.db.v*.bak 占用 {copies_mb} MB，新版本运行正常后请删除；或降低记录保留天数 "
        "retention.access_records_days，或换更大的存储卡，把数据目录复制过去并将 site.data_dir 指向它",
        "data disk {free_percent:.1f}% free with no snapshots left to prune: the gateway.db.v*.bak copies "
        "upgrades left in the data directory take {copies_mb} MB, delete them once this version runs "
        "well; or lower retention.access_records_days, or fit a bigger card, copy the data directory to "
        "it and point site.data_dir at it",
    ),
    "retention_short": (
        "磁盘空间不足，抓拍图片只保留了 {kept_days:.1f} 天（要求 {days} 天）：请换更大的存储卡、"
        "减少抓拍的摄像机或降低抓拍画质",
        "the disk is too small: snapshots are kept only {kept_days:.1f} days of the {days} asked; "
        "fit a bigger card, take snapshots from fewer cameras or lower their quality",
    ),
    "repair_overdue": (
        "{device} 已离线 {hours:.1f} 小时，超过 {limit_hours:g} 小时的维修时限：请尽快派人维修",
        "{device} has been offline {hours:.1f} hours, past the {limit_hours:g}-hour repair limit: "
        "send someone to repair it",
    ),
    "import_unfinished": (
        "网关上的一次导入（{files}）未完成：{total} 行中只写入了 {done} 行，"
        "其余住户、车辆、卡和车位尚未生效：请在网关上运行 gateway import -c 站点配置文件 完成未写完的导入",
        "an import on the box ({files}) was left unfinished: {done} of its {total} rows are in, the rest "
        "of its residents, vehicles, cards and slots not yet; on the box, run `gateway import -c CONFIG` "
        "(CONFIG being the site config) to finish it",
    ),
    "import_unfinished.before_upgrade": (  # staged before schema 70: its steps kept no count of rows in
        "网关上的一次导入（{files}）未完成：由升级前的版本暂存，其 {total} 行中已写入多少行不详，"
        "其余住户、车辆、卡和车位可能尚未生效："
        "请在网关上运行 gateway import -c 站点配置文件 完成未写完的导入",
        "an import on the box ({files}) was left unfinished: the release before the upgrade staged it, and "
        "how many of its {total} rows are in is not known, the rest of its residents, vehicles, cards and "
        "slots not yet; on the box, run `gateway import -c CONFIG` (CONFIG being the site config) to "
        "finish it",
    ),
    "import_unfinished.unreadable": (  # its staging file damaged, or root's (a `sudo gateway import`)
        "网关上的一次导入未完成，其暂存文件 {staging} 无法读取，可能只写入了一部分："
        "请在网关上运行 gateway import -c 站点配置文件，按其提示完成未写完的导入",
        "an import on the box was left unfinished, and its staging file {staging} cannot be read: part of "
        "it may be in; on the box, run `gateway import -c CONFIG` (CONFIG being the site config) and do "
        "what it says to finish it",
    ),
    "clock_stepped": (
        "网关时钟跳变 {step_hours:+.1f} 小时（{before} → {after}）：请检查 NTP 服务器或安装人员设置的时间。"
        "已有记录的时间不作调整；数据清理、日报、巡更和维修时限的判定暂停 {pause_hours:g} 小时，"
        "以免按错误的时间删除记录或判定超时",
        "the gateway's clock stepped {step_hours:+.1f} hours ({before} -> {after}): check the NTP server, "
        "or the time the installer set. Records keep their times; retention, daily reports, patrol "
        "rounds and repair deadlines wait {pause_hours:g} hours, so that nothing is deleted or judged "
        "on a wrong time",
    ),
    "clock_stepped.boot": (  # the clock the box booted on, set (or found) far past its last run
        "网关启动后时钟为 {after}，比上次运行（{before}）晚 {step_days:.0f} 天：若网关并未停机这么久，"
        "请检查 NTP 服务器并把时钟改正。本次启动的记录按此时钟记时；数据清理、日报、巡更和维修时限的判定暂停 "
        "{pause_hours:g} 小时，以免按错误的时间删除记录或判定超时",
        "the gateway's clock reads {after} since the box booted, {step_days:.0f} days past its last run "
        "({before}): unless the box was off that long, check the NTP server and set the clock "
        "right. This boot's records are dated on it; retention, daily reports, patrol rounds and "
        "repair deadlines wait {pause_hours:g} hours, so that nothing is deleted or judged on a wrong "
        "time",
    ),
}

_PICTURE_FROZEN = (  # drivers/cameras/frozen.py FROZEN, word for word
    "picture frozen: the camera sends the same image over and over (its encoder hung); "
    "reboot the camera or check its encoder settings"
)

# A device's known faults: as its driver words them (its health's last_error, which the journal's
# "device offline" line, the alarm's `error` parameter and the record's message_en upstream keep in
# English), and as a device_offline alarm says them in each language. Each key is the driver's
# constant, word for word (tests/ui/test_alarm_words_fix47_frozen.py checks it); a driver error not
# listed here reads as the driver words it.
DEVICE_FAULTS: dict[str, tuple[str, str]] = {
    _PICTURE_FROZEN: (
        "画面冻结：摄像机反复发送同一画面（编码器卡死），请重启摄像机或检查编码设置",
        _PICTURE_FROZEN,
    ),
}

# The driver errors that carry their device's port, address or camera url (drivers/serialport.py
# explain and SerialLink, drivers/relays/modbus.py, drivers/readers/serial_reader.py not_answering,
# drivers/cameras/capture.py, a relay or display write that failed): matched on the driver's words,
# said in Chinese with the port or camera they name. Anything else reads, in Chinese, as the
# driver's own English after 设备原始报错 (the guard reads that it is the device's, to pass on).
_DEVICE_FAULT_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(form, re.DOTALL), zh)
    for form, zh in (
        (
            r"unit (?P<unit>\S+) on (?P<port>\S+) does not answer: ",
            "{port} 上地址为 {unit} 的模块无应答：请检查模块地址、A/B 线是否接反及终端电阻",
        ),
        (
            r"unit (?P<unit>\S+) on (?P<port>\S+) gives a reply the gateway cannot use: ",
            "{port} 上地址为 {unit} 的模块回复无法识别："
            "请按说明书核对模块地址、线圈和输入地址，并检查 A/B 接线和终端电阻",
        ),
        (
            r"(?P<port>\S+) is not there \(unplugged\?\)",
            "串口 {port} 不存在（可能已拔出）：请检查连接线，并用 ls -l /dev/serial/by-id 核对设备路径",
        ),
        (
            r"permission denied on (?P<port>\S+): ",
            "无权打开串口 {port}："
            "请把网关用户加入 dialout 组（sudo usermod -aG dialout estate-gateway）后重启服务",
        ),
        (
            r"(?P<port>\S+) is in use by another program",
            "串口 {port} 被其他程序占用："
            "请停止该程序（常见为 ModemManager 或另一个网关，sudo fuser -v {port} 可查）",
        ),
        (r"(?P<port>\S+) disappeared \(unplugged\?\)", "串口 {port} 已断开（可能被拔出）：请检查连接线"),
        (
            r"(?P<port>\S+) was unplugged and plugged back",
            "串口 {port} 被拔出后又插回：请检查连接线和 USB 插头",
        ),
        (r"(?P<port>\S+): cannot open (?P=port)$", "无法打开串口 {port}：请检查连接线和模块电源"),
        (
            r"(?P<port>\S+) takes no data \(a write timed out\)",
            "串口 {port} 写入超时（设备不接收数据）：控制卡忙或死机，或线路被流控暂停，"
            "请检查其电源、控制卡和连接线",
        ),
        (
            r"(?P<port>\S+) sends only noise and bad frames, no card read in (?P<seconds>\S+) s",
            "{port} 只收到干扰和错误数据，{seconds} 秒内没有读到卡：请检查 RS-485 接线（A 接 A、B 接 B，"
            "A/B 接反最常见）及波特率是否与读卡器一致",
        ),
        (
            r"cannot open (?P<camera>\S+): ",
            "无法打开摄像机视频流 {camera}：请检查地址、摄像机是否在网络上及其用户名和密码",
        ),
        (
            r"stream from (?P<camera>\S+) dropped: ",
            "摄像机视频流 {camera} 中断（收不到画面），正在自动重连："
            "如持续离线，请检查摄像机电源、网络和地址",
        ),
        (
            r"(?P<what>pulse|release|show|open by hand|hold by hand|release by hand) failed: (?P<error>.*)",
            "{what}指令写入失败：请检查设备的连接线和电源（设备原始报错：{error}）",
        ),
    )
)
_WRITES = {
    "pulse": "开闸",
    "release": "落闸",
    "show": "显示",
    "open by hand": "手动开闸",
    "hold by hand": "手动常开",
    "release by hand": "手动取消常开",
}


def device_fault_zh(error: str) -> str:
    """A driver's error (its health's last_error) as a Chinese reader reads it."""
    known = DEVICE_FAULTS.get(error)
    if known is not None:
        return known[0]
    for form, zh in _DEVICE_FAULT_FORMS:
        found = form.match(error)
        if found:
            values = found.groupdict()
            if "what" in values:
                values["what"] = _WRITES[values["what"]]
            return zh.format(**values)
    return f"设备原始报错：{error}"


# tailgate's: why the car that went through had been refused, for every refusal the decision core
# gives (tests/parking/test_tailgate_review60h_refusal_words.py), in the lane's reason words
# (runtime/texts.py REASONS, as the live page says them) after 被拒 / "refused:". Not so a car held
# to pay, storage_failed, whose REASONS words are the driver's (系统故障 请联系保安), nor
# anti_passback, whose English has brackets of its own and the sentence puts the refusal in brackets.
REFUSALS: dict[str, tuple[str, str]] = {
    reason.value: (f"{REASONS[reason][0]}被拒", f"refused: {REASONS[reason][1]}")
    for reason in Reason
    if not reason.admits
} | {
    "payment_due": ("待缴费", "held to pay"),
    "anti_passback": ("重复入场被拒", "refused: already inside"),
    "storage_failed": ("未能记录被拒", "refused: not recorded"),
}

# Parameters whose values are words themselves, translated when the message is rendered.
TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "device_kind": {
        "reader": ("读卡器", "reader"),
        "camera": ("摄像机", "camera"),
        "relay": ("继电器", "relay"),
        "display": ("显示屏", "display"),
        "sensor": ("传感器", "sensor"),  # a loop detector or barrier sensor on Modbus or GPIO
    },
    "error": DEVICE_FAULTS,  # device_offline's: a known fault in the reader's language
    "refusal": REFUSALS,
    "not_counted": {  # a patrol round's: why a card's tap at a checkpoint walked no round (each)
        "not_a_guard_card": ("不是保安卡", "not a guard's card"),
        "registered_card": ("登记在册的住户或通行证的卡", "a card on the register"),
        "blocked_card": ("已禁用的卡", "a blocked card"),
    },
}


@dataclass(frozen=True, slots=True)
class AlarmText:
    key: str
    params: dict[str, Param] = field(default_factory=dict)

    def render(self, language: str, lane_names: Mapping[str, str] | None = None) -> str:
        """The sentence in `language`; with `lane_names`, a lane is named as guards know it (the
        sentence stored and sent upstream names it by its id, which the central server knows)."""
        pair = MESSAGES.get(self.key)
        if pair is None:
            raise KeyError(f"no alarm message {self.key!r}: add it to MESSAGES in gateway/alarm_texts.py")
        zh = language == "zh"
        values: dict[str, Any] = {}
        for name, value in self.params.items():
            if isinstance(value, list):
                words = TERMS.get(name, {})
                said = (words[v][0 if zh else 1] if v in words else v for v in value)
                value = ("、" if zh else ", ").join(said)
            elif name == "error" and zh and isinstance(value, str):
                value = device_fault_zh(value)
            elif name in TERMS and isinstance(value, str) and value in TERMS[name]:
                value = TERMS[name][value][0 if zh else 1]
            elif name == "lane" and lane_names and isinstance(value, str):
                value = lane_names.get(value, value)
            values[name] = value
        return pair[0 if zh else 1].format(**values)

    def stored(self) -> str:
        """The JSON kept in alarms.message."""
        body = {"text": self.key, "params": self.params, "en": self.render("en")}
        return json.dumps(body, ensure_ascii=False, sort_keys=True)


def from_stored(stored: str) -> AlarmText | None:
    """The text of a stored alarm message; None for a plain sentence (an alarm from an older version)."""
    try:
        body = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("text"), str):
        return None
    params = body.get("params")
    return AlarmText(body["text"], params if isinstance(params, dict) else {})


def render_stored(stored: str, language: str, lane_names: Mapping[str, str] | None = None) -> str:
    """A stored alarm message in the reader's language; never fails on an odd row."""
    text = from_stored(stored)
    if text is None:
        return stored
    try:
        return text.render(language, lane_names)
    except (KeyError, ValueError, IndexError, TypeError):
        fallback = json.loads(stored).get("en")
        return fallback if isinstance(fallback, str) else stored
