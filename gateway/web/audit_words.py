"""The audit page's words for each action the gateway writes, Chinese first; i18n.TEXTS has them
too, as `audited.<action>`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from gateway.parking.fees import yuan

# What the audit page calls each action the gateway writes (gateway/store/audit.py's `action`): the
# page shows the code itself only for one missing here. tests/ui/test_audit_words.py finds every
# action written in gateway/, so a new one cannot go unnamed.
AUDIT_ACTIONS: dict[str, tuple[str, str]] = {
    "lane.open": ("手动开闸", "Opened by hand"),
    "lane.hold": ("常开", "Held open"),
    "lane.release": ("恢复（取消常开）", "Released (no longer held open)"),
    "lane.close": ("关闭通道", "Lane closed"),
    "lane.reopen": ("开放通道", "Lane reopened"),
    "lane.open_failed": ("手动开闸失败", "Opening by hand failed"),
    "lane.hold_failed": ("常开失败", "Holding open failed"),
    "lane.release_failed": ("恢复失败", "Release failed"),
    "lane.plate": ("输入车牌", "Plate typed"),
    "plates.correct": ("纠正车牌", "Plate corrected"),
    "plates.export": ("导出车牌图片", "Plate crops exported"),
    "payment.take": ("收费", "Fee taken"),
    "payment.method": ("更正收费方式", "Payment method corrected"),
    "stay.validate": ("业主确认访客停车", "Stay validated by the host"),
    "stay.close": ("结束停车记录", "Stay closed"),
    "stay.record": ("登记场内车辆", "Car recorded inside"),
    "presence.not_through": ("门禁未开，进门不计", "Door did not open: entry taken back"),
    "report.build": ("生成日报", "Daily report built"),
    "visitor.register": ("访客登记", "Visitor registered"),
    "visitor.check_out": ("访客离开", "Visitor checked out"),
    "contractor.register": ("办理施工通行证", "Contractor pass issued"),
    "contractor.check_out": ("施工人员离开", "Contractor checked out"),
    # The same pass and QR given a later end (延期), by an admin; or a pass the booth ended opened
    # again by the centre's new window for it (gateway/sync/apply.py).
    "visitor.extend": ("访客通行证延期", "Visitor pass extended"),
    "contractor.extend": ("施工通行证延期", "Contractor pass extended"),
    "visitor.reopen": ("中心更改有效期，访客通行证恢复有效", "Visitor pass reopened by the centre"),
    "contractor.reopen": ("中心更改有效期，施工通行证恢复有效", "Contractor pass reopened by the centre"),
    "materials.out": ("物品出门登记", "Materials let out"),
    "alarm.acknowledge": ("确认报警", "Alarm acknowledged"),
    "outbox.send_again": ("重新上传", "Sent again"),
    "credential.block": ("禁用卡或车牌", "Card or plate blocked"),
    "credential.unblock": ("解除禁用卡或车牌", "Card or plate unblocked"),
    "resident.block": ("禁用业主", "Resident blocked"),
    "resident.unblock": ("解除禁用业主", "Resident unblocked"),
    "resident.upsert": ("添加/修改业主", "Resident added or changed"),
    "resident.delete": ("删除业主", "Resident deleted"),
    "vehicle.add": ("添加车辆", "Vehicle added"),
    "vehicle.update": ("修改车辆", "Vehicle changed"),
    "vehicle.delete": ("删除车辆", "Vehicle deleted"),
    "card.add": ("发卡", "Card issued"),
    "card.delete": ("删除卡", "Card deleted"),
    "qr.delete": ("删除二维码", "QR code deleted"),
    "plate.delete": ("删除车牌", "Plate deleted"),
    "slot.add": ("添加车位", "Slot added"),
    "slot.delete": ("删除车位", "Slot deleted"),
    "slot.upsert": ("无主车位交给业主", "Slot with no owner given to a resident"),
    "registry.import": ("导入业主资料", "Register imported"),
    "registry.export": ("导出业主资料", "Register exported"),
    "database.backup": ("备份网关数据", "Gateway backed up"),
    "account.create": ("添加账号", "Account added"),
    "account.update": ("修改账号", "Account changed"),
    "session.login": ("登录", "Logged in"),
    "session.logout": ("退出登录", "Logged out"),
    "shift.handover": ("交班", "Shift handed over"),
    "token.create": ("新建 API 令牌", "API token made"),
    "token.revoke": ("吊销 API 令牌", "API token revoked"),
    "sync.apply_delta": ("同步中心更新", "Central update applied"),
    "sync.apply_snapshot": ("同步中心全量资料", "Central snapshot applied"),
    "command_accepted": ("收到中心指令", "Central command received"),
    "command_done": ("已执行中心指令", "Central command done"),
    "command_refused": ("拒绝中心指令", "Central command refused"),
    "command_failed": ("中心指令执行失败", "Central command failed"),
    "clock.redate": ("校正记录时间（时钟错误）", "Records re-dated (the clock was wrong)"),
}


# payment.take's detail as gateway/store/payments.py writes it, read by the centre too, so kept:
# "900 fen cash B-1 at booth" (amount, method, receipt, lane).
_PAYMENT = re.compile(r"(?P<fen>-?\d+) fen (?P<method>\w+) (?P<receipt>.*) at (?P<lane>\S+)")


def payment_detail(detail: str, t: Callable[[str], str], lane_names: Mapping[str, str]) -> str:
    """A fee's audit detail in the guard's words: 9元 · 现金 · 收据号 B-1 · 岗亭 (9 yuan · cash ·
    Receipt no. B-1 · booth); a detail of another shape is shown as stored."""
    paid = _PAYMENT.fullmatch(detail)
    if paid is None:
        return detail
    method = t(f"pay.method.{paid['method']}")
    lane = t("pay.at_booth") if paid["lane"] == "booth" else lane_names.get(paid["lane"], paid["lane"])
    words = [
        t("pay.amount").replace("{yuan}", yuan(int(paid["fen"]))),
        paid["method"] if method.startswith("[") else method,  # a method with no words yet: its code
        f"{t('pay.receipt_no')} {paid['receipt']}" if paid["receipt"].strip() else "",
        lane,
    ]
    return " · ".join(w for w in words if w)


# payment.method's detail as gateway/store/payment_method.py writes it, read by the centre too, so
# kept: "900 fen qr -> cash; 司机付的现金" (amount, the method before and after, the reason).
_METHOD = re.compile(r"(?P<fen>-?\d+) fen (?P<was>\w+) -> (?P<now>\w+); (?P<reason>.*)", re.DOTALL)


def method_detail(detail: str, t: Callable[[str], str]) -> str:
    """A method correction's audit detail in the guard's words: 9元 · 扫码支付 → 现金 · 司机付的现金;
    a detail of another shape is shown as stored."""
    changed = _METHOD.fullmatch(detail)
    if changed is None:
        return detail

    def method(code: str) -> str:
        words = t(f"pay.method.{code}")
        return code if words.startswith("[") else words

    amount = t("pay.amount").replace("{yuan}", yuan(int(changed["fen"])))
    return f"{amount} · {method(changed['was'])} → {method(changed['now'])} · {changed['reason']}"


# vehicle.update's detail where its monthly period changed, as gateway/store/registry_vehicles.py writes it
# (_period_changed), read by the centre too, so kept: "皖C44444 monthly 2025-03-31 -> 2026-04-07",
# the last days before and after ("none": no period), " (ended)" for a period ended by hand.
_PERIOD = re.compile(r"(?P<car>.+) monthly (?P<was>\S+) -> (?P<now>\S+?)(?P<ended> \(ended\))?")


def vehicle_detail(detail: str, t: Callable[[str], str]) -> str:
    """A vehicle change's audit detail in the guard's words, the month sold (or ended) by its last
    days: 皖C44444 · 月租到期日 2025-03-31 → 2026-04-07; a detail of another shape (a class changed,
    a plate corrected) as stored."""
    changed = _PERIOD.fullmatch(detail)
    if changed is None:
        return detail

    def day(text: str) -> str:
        return t("audit.monthly_none") if text == "none" else text

    period = (
        t("audit.monthly_period").replace("{was}", day(changed["was"])).replace("{now}", day(changed["now"]))
    )
    return f"{changed['car']} · {period}{t('audit.monthly_ended') if changed['ended'] else ''}"


# shift.handover's detail as gateway/store/shifts.py writes it, read by the centre too, so kept:
# "cash recorded 900 fen, counted 850 fen, difference -50 fen; 找零" (the note after "; ", if any).
_HANDOVER = re.compile(
    r"cash recorded (?P<recorded>-?\d+) fen, counted (?P<counted>-?\d+) fen, "
    r"difference (?P<difference>[+-]\d+) fen(?:; (?P<note>.*))?",
    re.DOTALL,
)


def handover_detail(detail: str, t: Callable[[str], str]) -> str:
    """A handover's audit detail in the guard's words, in yuan as the fee rows beside it are:
    记录现金 9元 · 清点 8.5元 · 短款 0.5元 · 找零 (cash on record 9 yuan · counted 8.5 yuan · short
    by 0.5 yuan · 找零; Review 66 F4: it read 900 fen in both languages); a detail of another shape
    is shown as stored."""
    handed = _HANDOVER.fullmatch(detail)
    if handed is None:
        return detail

    def amount(fen: int) -> str:
        return t("pay.amount").replace("{yuan}", yuan(fen))

    difference = int(handed["difference"])
    said = (
        t("audit.handover_short").replace("{amount}", amount(-difference))
        if difference < 0
        else t("audit.handover_over").replace("{amount}", amount(difference))
        if difference > 0
        else t("audit.handover_even")
    )
    words = [
        t("audit.handover_recorded").replace("{amount}", amount(int(handed["recorded"]))),
        t("audit.handover_counted").replace("{amount}", amount(int(handed["counted"]))),
        said,
        handed["note"] or "",
    ]
    return " · ".join(w for w in words if w)
