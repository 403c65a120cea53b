"""Words on the guard pages, Chinese first. A missing key shows itself, so a test can catch it."""

from __future__ import annotations

from collections.abc import Callable

from gateway.runtime.texts import REASONS
from gateway.store.audit import CENTRE, CENTRE_NAMED
from gateway.web.audit_words import AUDIT_ACTIONS

TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("门岗", "Gate booth"),
    # A browser older than the pages need (docs/guard-app.md): base.html, until app.js starts, and
    # the answer to a form sent without it (pages.py old_browser).
    "app.too_old": (
        "浏览器版本过旧：请用 Chrome 61 或 Safari 15.4 以上",
        "This browser is too old: use Chrome 61 or Safari 15.4 or newer",
    ),
    "app.not_sent": ("所填内容未登记、未保存。", "Nothing typed was registered or saved."),
    "list.shown": ("显示前 {shown} 条，共 {total} 条", "Showing {shown} of {total}"),
    "nav.live": ("实时通道", "Live lanes"),
    "nav.plates": ("车牌记录", "Plate log"),
    "nav.visitors": ("访客登记", "Visitors"),
    "nav.contractors": ("施工人员", "Contractors"),
    "nav.lookup": ("查询", "Lookup"),
    "nav.occupancy": ("车位", "Occupancy"),
    "nav.alarms": ("报警", "Alarms"),
    "nav.audit": ("操作记录", "Audit"),
    "nav.admin": ("管理", "Admin"),
    "nav.logout": ("退出", "Log out"),
    "nav.language": ("English", "中文"),
    "login.title": ("门岗登录", "Guard login"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.too_many": (
        "登录失败次数过多，请稍后再试，或用其他账号登录",
        "Too many failed logins; wait and try again, or log in with another account",
    ),
    # The lock is on the user name for at most 5 minutes: the guard is told how long, and that a
    # colleague's (or an admin's) account may log in meanwhile (pages.py login_form, Retry-After).
    "login.too_many_wait": (
        "登录失败次数过多，请 {seconds} 秒后再试，或用其他账号登录",
        "Too many failed logins; try again in {seconds} seconds, or log in with another account",
    ),
    # The lock is on this tablet's address (10 failures, whoever's names): no account logs in from
    # it meanwhile, the admin's included, so no other account is offered.
    "login.too_many_here": (
        "此设备登录失败次数过多，请稍后再试（期间此设备上任何账号都无法登录）",
        "Too many failed logins from this device; wait and try again "
        "(until then no account can log in on it)",
    ),
    "login.too_many_here_wait": (
        "此设备登录失败次数过多，请 {seconds} 秒后再试（期间此设备上任何账号都无法登录）",
        "Too many failed logins from this device; try again in {seconds} seconds "
        "(until then no account can log in on it)",
    ),
    "login.expired": ("页面已过期，请重新登录", "The page expired; log in again"),
    # The guard's session ended under a page (its hours, a logout elsewhere): app.js comes here on a
    # 401, "_undone" when it cut off a change (nothing of it done; the page named after says which).
    "login.ended": ("登录已到时，请重新登录", "Your login ran out; log in again"),
    "login.ended_undone": (
        "登录已到时，刚才的操作未办成：请重新登录，再操作一次",
        "Your login ran out, and what you just did was not done: log in again, then do it again",
    ),
    # Storage refused the login (a data card failed or damaged) where none could be kept in memory.
    "login.storage": (
        "网关数据盘故障，暂时无法登录：请用仍在登录的平板开闸，并请管理员检查或更换数据卡",
        "The gateway's data card has failed and no login can be made now: open by hand on a tablet "
        "still logged in, and have the admin check or replace the card",
    ),
    "role.guard": ("保安", "Guard"),
    "role.admin": ("管理员", "Admin"),
    # One word in English: Devices online put a lane's 北门 · Entrance · Vehicles on two lines, and its
    # list's eighth row below the landscape tablet (Review 66 F1).
    "lane.online": ("设备在线", "Online"),
    "lane.offline": ("设备离线", "Device offline"),
    "lane.held": ("常开中", "Held open"),
    # A release (取消常开) whose barrier stays up over the car on the loop until it has left.
    "lane.car_under_arm": (
        "车辆在道闸下，车离开后落杆",
        "A car is under the barrier: it comes down once the car has left",
    ),
    # The monitoring centre as the pages name it (store.audit shown_actor): its operator in brackets.
    "actor.centre": CENTRE,
    "actor.centre.named": CENTRE_NAMED,
    "lane.unknown": ("状态未知（未连接网关）", "Status unknown (gateway not reached)"),
    "lane.entrance": ("入口", "Entrance"),
    "lane.exit": ("出口", "Exit"),
    "lane.vehicle": ("车行", "Vehicles"),
    "lane.pedestrian": ("人行", "Pedestrians"),
    "lane.open": ("开闸", "Open"),
    "lane.hold": ("常开", "Hold open"),
    "lane.release": ("取消常开", "Release"),
    # 开放通道 as err.exit_refused words it: the guard told to reopen finds the button so named.
    "lane.close": ("关闭通道", "Close lane"),
    "lane.reopen": ("开放通道", "Reopen lane"),
    # A lane's history: a relay that did not take it, listed after the attempt (live.js showAction).
    "lane.open_failed": ("开闸失败（道闸未响应）", "Opening failed (barrier did not answer)"),
    "lane.hold_failed": ("常开失败（道闸未响应）", "Holding open failed (barrier did not answer)"),
    "lane.release_failed": ("取消常开失败（道闸未响应）", "Release failed (barrier did not answer)"),
    "lane.closed": ("通道已关闭", "Lane closed"),
    "lane.waiting": ("等待车辆或刷卡…", "Waiting for a car or a card…"),
    "lane.no_relay": (
        "该通道没有接道闸/门锁，不能手动开闸",
        "No barrier or lock is wired to this lane: it cannot be opened from here",
    ),
    "action.reason": ("原因（必填）", "Reason (required)"),
    "action.confirm": ("确定", "Confirm"),
    "action.cancel": ("取消", "Cancel"),
    "action.done": ("已执行", "Done"),
    # A lane opened or released whose record waits in memory (LaneActionDone.waits_for): why, as
    # the error it was kept with says; only a full disk sends the guard to free disk space.
    "action.waits.full": (
        "已执行，但磁盘已满，记录暂存内存：请尽快清理数据目录的磁盘空间",
        "Done, but the disk is full and its record waits in memory: free disk space in the data directory",
    ),
    "action.waits.unwritable": (
        "已执行，但数据盘无法写入（只读或故障？），记录暂存内存：请检查数据目录所在的磁盘",
        "Done, but the data disk takes no writes (read-only or failing?) and its record waits in "
        "memory: check the disk of the data directory",
    ),
    "action.waits.locked": (
        "已执行，但数据库被其他程序占用（如暂停的 gateway import），记录暂存内存：请结束占用它的程序",
        "Done, but another program holds the database (a suspended gateway import?) and its record "
        "waits in memory: end what holds it",
    ),
    "action.waits.slow": (
        "已执行，记录稍后写入：数据库忙，可能被其他程序占用（如暂停的 gateway import）",
        "Done; its record is written later: the database is busy, perhaps held by another program "
        "(a suspended gateway import?)",
    ),
    "action.opened_by": ("手动操作", "By hand"),
    # The live page's banner while storage takes no writes (the gateway's storage state, as the last
    # write found it: runtime/storage_state.py), by its cause; gone once a write gets through.
    "live.storage.full": (
        "磁盘已满：通行记录无法保存，住户刷卡和车牌都被拒绝。请用开闸手动放行，并请管理员清理数据目录的磁盘空间",
        "The disk is full: nothing can be recorded, and residents' cards and plates are refused. Open "
        "by hand, and have the admin free disk space in the data directory",
    ),
    "live.storage.unwritable": (
        "数据盘无法写入（只读或故障）：通行记录无法保存，住户刷卡和车牌都被拒绝。请用开闸手动放行，并请管理员检查或更换数据卡",
        "The data card takes no writes (read-only or failing): nothing can be recorded, and residents' "
        "cards and plates are refused. Open by hand, and have the admin check or replace the card",
    ),
    "live.storage.locked": (
        "数据库被其他程序占用（如暂停的 gateway import）：通行记录无法保存。"
        "请用开闸手动放行，并请管理员结束占用它的程序",
        "Another program holds the database (a suspended gateway import?): nothing can be recorded. "
        "Open by hand, and have the admin end what holds it",
    ),
    "live.storage.damaged": (
        "数据库已损坏：通行记录无法保存，住户刷卡和车牌都被拒绝。请用开闸手动放行，并请管理员用备份恢复数据库",
        "The database is damaged: nothing can be recorded, and residents' cards and plates are "
        "refused. Open by hand, and have the admin restore it from a backup",
    ),
    "live.storage.fault": (
        "网关内部错误，通行记录未能保存：请用开闸手动放行，并把日志发给维护方",
        "An internal error of the gateway kept a decision from being recorded: open by hand, and send "
        "the log to the maintainers",
    ),
    "reason.quick1": ("访客已登记", "Visitor registered"),
    "reason.quick2": ("业主未带卡", "Resident without card"),
    "reason.quick3": ("车牌未识别", "Plate not read"),
    "reason.quick4": ("救护车/消防车", "Ambulance / fire engine"),
    "reason.quick5": ("快递/外卖", "Delivery"),
    "ev.admitted": ("放行", "Admitted"),
    "ev.refused": ("拒绝", "Refused"),
    # A lane's list of its eight newest (live.js rowVerdict): one line each in a lane a third of
    # the landscape tablet wide, where Admitted · temporary vehicle took three (Review 66 F1).
    "row.admitted": ("放行 · {why}", "✓ {why}"),
    "row.refused": ("拒绝 · {why}", "✗ {why}"),
    # Whose a row's card or car is (live.js rowWho): in English no kind, the row one line in a lane
    # a third of the landscape tablet wide and the name and address what is left of it (the panel
    # says Resident); in Chinese, two lines, as the panel (Review 66 F1, and O on 723648f2).
    "row.holder": ("{kind} {name} {address} {blocked}", "{name} {address} {blocked}"),
    "ev.card": ("卡号", "Card"),
    "ev.qr": ("二维码", "QR"),
    "ev.plate": ("车牌", "Plate"),
    "ev.button": ("出门按钮", "Exit button"),  # a door's, pressed from inside: its device id follows
    "ev.unknown_holder": ("未登记", "Not registered"),
    # A car held to pay because its monthly period ran out (the event's and the quote's
    # `monthly_ended`, its last day): the driver's display says 月租到期, the guard must know why.
    "ev.monthly_ended": ("月租已于 {day} 到期", "Monthly pass ended {day}"),
    # The guard's own words for a reason whose REASONS words are for the driver at the lane. A
    # decision is refused so with its cause (below); these, naming none, only for one without it
    # (a page open across an upgrade): never the full disk's, said to a guard on a disk with room.
    "why.storage_failed": (
        "未能记录：可点开闸手动放行，请管理员查看网关日志",
        "not recorded: Open still lets them through; the admin looks at the gateway's log",
    ),
    # The same, by why it was not stored (its flag storage:<cause>, Gateway._failed), as the
    # action.waits.* toasts word it: only a full disk sends the guard to free disk space.
    "why.storage_failed.full": (
        "未能记录（磁盘已满？）：可点开闸手动放行，请清理数据目录的磁盘空间",
        "not recorded (disk full?): Open still lets them through; free disk space in the data directory",
    ),
    "why.storage_failed.unwritable": (
        "未能记录（数据盘无法写入，只读或故障？）：可点开闸手动放行，请检查数据目录所在的磁盘",
        "not recorded (the data disk takes no writes: read-only or failing?): Open still lets them "
        "through; check the disk of the data directory",
    ),
    "why.storage_failed.locked": (
        "未能记录（数据库被其他程序占用，如暂停的 gateway import）：可点开闸手动放行，请结束占用它的程序",
        "not recorded (another program holds the database: a suspended gateway import?): Open still "
        "lets them through; end what holds it",
    ),
    "why.storage_failed.damaged": (
        "未能记录（数据库已损坏）：可点开闸手动放行，请管理员用备份恢复数据库",
        "not recorded (the database is damaged): Open still lets them through; the admin restores it "
        "from a backup",
    ),
    # A fault of the gateway's own deciding it (a bug: Gateway._decide_alone), the disk fine.
    "why.storage_failed.fault": (
        "未能处理（网关内部错误）：可点开闸手动放行，请把日志发给维护方",
        "not handled (an internal error of the gateway): Open still lets them through; send the log "
        "to the maintainers",
    ),
    "fix.button": ("纠正车牌", "Correct plate"),
    "fix.title": ("纠正车牌：按车上的车牌填写", "Correct the plate: type it as it is on the car"),
    "fix.read": ("识别为", "Read as"),
    "fix.plate": ("车牌", "Plate"),
    "fix.province": ("省份", "Province"),
    "fix.by": ("纠正人", "corrected by"),
    "fix.done": ("已纠正", "Corrected"),
    "fix.stay_moved": ("在场记录已改为该车牌", "the stay now stands under this plate"),
    "fix.decide": ("纠正并重新判断", "Correct and decide again"),
    "typed.title": (
        "输入车牌：摄像机未识别的车，按车上的车牌填写",
        "Type the plate of a car the camera did not read",
    ),
    "lane.type_plate": ("输入车牌", "Type plate"),
    # A car with no plate (无牌车): given a ticket at the entrance, picked by it at the exit.
    "ticket.button": ("无牌车", "No plate"),
    "ticket.label": ("无牌车 票号", "No-plate ticket"),
    "ticket.pick": ("场内无牌车票号", "Tickets of cars with no plate inside"),
    "ticket.none": ("场内没有无牌车", "No car with no plate is inside"),
    "ticket.inside_now": ("场内无牌车票号：{tickets}", "Tickets of cars with no plate inside: {tickets}"),
    "plates.title": (
        "车牌识别记录：对照抓拍核对，识别错的点纠正",
        "Plate readings: check each against its snapshot, correct the wrong ones",
    ),
    "plates.all_lanes": ("全部车道", "All lanes"),
    "plates.refused_only": ("只看拒绝的", "Refused only"),
    "plates.filter": ("筛选", "Filter"),
    # 按车牌查找 (occ.find) and 日期: the reading the office looks for days later (Review 65H). A
    # piece of a plate is found by reading each record: with no day, only the last days' are read.
    "plates.day": ("日期", "Day"),
    "plates.searched_days": (
        "按车牌查找只查最近 {days} 天的记录；更早的请选日期",
        "A plate is searched in the last {days} days' readings; for earlier ones pick the day",
    ),
    "plates.older": ("更早的记录", "Older"),
    "plates.none": ("没有车牌记录", "No plate readings"),
    "plates.at": ("时间", "Time"),
    "plates.lane": ("车道", "Lane"),
    "plates.snapshot": ("抓拍", "Snapshot"),
    "plates.snapshot_gone": ("抓拍已过期/未保存", "Snapshot expired / not saved"),
    "plates.read": ("识别结果", "Reading"),
    "plates.confidence": ("置信度", "Confidence"),
    "plates.verdict": ("结果", "Decision"),
    "pay.button": ("收费放行", "Take the fee"),
    "pay.title": ("停车收费", "Parking fee"),
    "pay.receipt": ("收据号（扫码支付的交易号，可不填）", "Receipt no. (a QR payment's number; optional)"),
    "pay.qr": ("扫码已付", "Paid by QR"),
    "pay.cash": ("现金已收", "Cash taken"),
    "pay.done": ("已收费", "Fee taken"),
    "pay.receipt_no": ("收据号", "Receipt no."),  # the toast after a fee: the number to hand the driver
    "pay.amount": ("{yuan}元", "{yuan} yuan"),  # the quote's due_text is Chinese: live.js words it
    # A fee on the audit page (audit_words.payment_detail): how it was paid, and where.
    "pay.method.cash": ("现金", "cash"),
    "pay.method.qr": ("扫码支付", "QR payment"),
    "pay.method.monthly": ("月租", "monthly"),
    "pay.at_booth": ("岗亭", "booth"),
    "pay.nothing": ("该通道没有待缴费的车", "No car is waiting to pay at this lane"),
    "pay.unknown": (
        "网关没有回应，不确定是否已收费：请刷新页面查看该车是否已放行，再决定是否收钱",
        "No answer from the gateway: the fee may or may not be recorded. Reload the page and check "
        "whether the car was let out before taking money again",
    ),
    "flag.already_inside": ("重复入场", "already inside"),
    "flag.no_entry_record": ("无入场记录", "no entry record"),
    "flag.shared_slot": ("一位多车", "shared slot"),
    "flag.no_slot": ("无车位", "no slot"),
    "flag.no_plate": ("无牌车", "no plate"),
    "flag.monthly_expired": ("月租过期", "monthly expired"),
    "flag.registration_not_yet_valid": ("登记未生效", "registration not yet valid"),
    "flag.registration_expired": ("登记已过期", "registration ended"),
    "flag.lookalike": ("近似匹配", "look-alike match"),
    "flag.again": ("同车再次抬杆", "same car, opened again"),
    "flag.refused_again": ("同车/同人再次拒绝", "same car or person, refused again"),
    # A plate read by this lane's camera a moment after the car's decision at the lane of the other
    # direction beside it (gateway/runtime/again.py neighbour_read): that lane's car, nothing done here.
    "flag.neighbour_lane": ("邻道车辆", "car in the next lane"),
    "ev.neighbour_lane": (
        "旁边车道的车（刚在那条车道判定过）：本通道未抬杆，不计进出",
        "The car in the lane beside this one, just decided there: nothing done at this lane, "
        "no entry or exit recorded",
    ),
    "holder.resident": ("业主", "Resident"),
    "holder.visitor": ("访客", "Visitor"),
    "holder.contractor": ("施工人员", "Contractor"),
    # A building and unit stored as bare numbers (the central server sends "3" and "2").
    "holder.building": ("{n}栋", "Bldg {n}"),
    "holder.unit": ("{n}单元", "Unit {n}"),
    "holder.address": ("{building}{unit}", "{building} {unit}"),
    "holder.blocked": ("已禁用", "Blocked"),
    "live.reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "live.other_user": (
        "此平板已换成另一人登录，页面已按现在登录的身份刷新",
        "Someone else has logged in on this tablet: the page was reloaded for them",
    ),
    # The gate whose lanes this tablet shows, at a site of several gates (live.html, live.js).
    "live.gate_choice": ("本平板显示", "This tablet shows"),
    "live.all_gates": ("全部大门", "All gates"),
    "live.only_gate": (
        "只显示 {gate}（{shown}/{total} 个通道）",
        "Showing {gate} only ({shown} of {total} lanes)",
    ),
    "visitor.register": ("访客登记", "Register a visitor"),
    "visitor.name": ("姓名", "Name"),
    "visitor.phone": ("手机号", "Phone"),
    "visitor.id_number": ("证件号码", "ID number"),
    "visitor.id_kind": ("证件类型", "Kind of ID"),
    # The documents a visitor's ID number is from (gateway/privacy.py IdKind).
    "id_kind.resident_id": ("身份证", "ID card"),
    "id_kind.passport": ("护照", "Passport"),
    "id_kind.hk_macau_permit": ("回乡证（港澳居民来往内地通行证）", "Hong Kong/Macau permit"),
    "id_kind.taiwan_permit": ("台胞证", "Taiwan permit"),
    "id_kind.foreign_permanent": ("外国人永久居留证", "Foreign permanent residence ID"),
    "visitor.host_building": ("被访楼栋", "Host building"),
    "visitor.host_unit": ("单元/房号", "Unit / room"),
    "visitor.destination": ("去向", "Destination"),
    "visitor.reason": ("事由", "Reason"),
    "visitor.passengers": ("人数", "People"),
    "visitor.plate": ("车牌（驾车时）", "Plate (if driving)"),
    "visitor.valid_from": ("有效期自", "Valid from"),
    "visitor.valid_to": ("有效期至", "Valid to"),
    "visitor.submit": ("登记并打印通行证", "Register and print the pass"),
    "visitor.find": ("查找老访客", "Find returning visitor"),
    "visitor.found": ("已找到上次登记，已填入", "Found the last visit; filled in"),
    "visitor.not_found": ("没有该访客的记录", "No earlier visit found"),
    "visitor.current": ("在访访客", "Current visitors"),
    "visitor.checkout": ("离开登记", "Check out"),
    "visitor.none": ("暂无", "None"),
    "visitor.required": ("封闭管理期间必填", "Required during closed management"),
    "visitor.closed_now": (
        "封闭管理期间：请登记全部必填项",
        "Closed management: fill in every required field",
    ),
    "visitor.vehicle_class": ("车辆类型", "Vehicle"),
    "vehicle.car": ("汽车", "Car"),
    "vehicle.motorcycle": ("摩托车", "Motorcycle"),
    "vehicle.bicycle": ("自行车", "Bicycle"),
    "visitor.occupants": ("车上人员（驾驶人在前）", "People in the vehicle (driver first)"),
    "visitor.occupants_required": (
        "封闭管理期间，驾车访客须登记驾驶人及全部乘车人，每人填写标 * 的项",
        "Closed management: a visitor with a vehicle registers the driver and everyone in it, "
        "each with the fields marked *",
    ),
    "visitor.driver": ("驾驶人", "Driver"),
    "visitor.occupant": ("乘车人", "Passenger"),
    "visitor.occupant_add": ("添加人员", "Add a person"),
    "visitor.occupant_add_visitor": ("添加访客本人", "Add the visitor"),
    "visitor.occupant_remove": ("移除", "Remove"),
    "pass.check": ("核验通行证", "Check a pass"),
    "pass.token": ("扫码或输入二维码内容", "Scan or type the QR code"),
    "pass.title.visitor": ("访客通行证", "Visitor pass"),
    "pass.title.contractor": ("施工人员通行证", "Contractor pass"),
    "pass.number": ("编号", "No."),
    "pass.host": ("被访", "Visiting"),
    "pass.print": ("打印", "Print"),
    "materials.title": ("物品出门登记", "Materials leaving"),
    "materials.hint": (
        "携带物品出小区时登记，物业会通知该户业主。",
        "Record what is carried out of the estate; the property office tells the unit's owner.",
    ),
    "materials.items": ("物品及数量", "Items and how many"),
    "materials.items_example": ("如：旧橱柜 1 套，电钻 2 把", "e.g. old kitchen cabinets 1 set, drills 2"),
    "materials.submit": ("登记放行", "Record and let out"),
    "materials.none": ("尚无物品出门记录", "Nothing recorded as carried out yet"),
    "pass.hours": ("每日时段", "Daily hours"),
    "pass.company": ("单位", "Company"),
    "pass.by": ("登记人", "Registered by"),
    # An admin's 延期 on the pass page: the same pass and QR, a later end (Review 66 E2).
    "pass.extend": ("延期", "Extend"),
    "pass.extend_to": ("延期至", "Extend to"),
    "pass.extend_hint": (
        "同一通行证、同一二维码继续使用，场内人员凭原码出门；不要为续期另办新证",
        "The same pass and QR carry on, and those inside walk out on it: do not issue a new pass to renew",
    ),
    # A pass for several people (人数) says so where it is checked and listed: 赵师傅 · 4人.
    "pass.people": ("{n}人", "{n} people"),
    "state.active": ("有效", "Valid"),
    "state.outside_hours": ("不在时段内", "Outside hours"),
    "state.upcoming": ("未到时间", "Not yet valid"),
    "state.expired": ("已过期", "Expired"),
    "state.checked_out": ("已离开", "Checked out"),
    "state.blocked": ("已禁用", "Blocked"),
    "state.vehicle_blocked": ("车辆已禁用，仅可步行入内", "Vehicle blocked: on foot only"),
    "state.closed_management": ("封闭管理期间不予放行", "Kept out by closed management"),
    # Beside a pass's state other than vehicle_blocked (expired, not yet valid...): its plate is
    # blocked, so its car stays out at the car lanes whichever pass it comes on (PassOut.vehicle_blocked).
    "pass.car_blocked": ("车辆已禁用：车行出入口不放行此车", "Vehicle blocked: refused at the car lanes"),
    # A pass's people recorded inside on foot now (PassOut.inside), and one whose window ended while
    # they are: listed first, for the guard to go and find them (PassOut.overstaying).
    "pass.inside": ("在内 {n}人", "{n} inside"),
    # The visitors' and contractors' lists (_pass_list.html): a big estate's hundreds, searched.
    "pass.search_q": (
        "姓名、楼栋单元、车牌或手机尾号",
        # Whole in the field on a 7-inch tablet (600 px), as the Chinese (Review 66 F5).
        "Name, building/unit, plate or phone's last 4",
    ),
    "pass.search": ("查找", "Find"),
    "pass.more": ("显示更多", "Show more"),
    "pass.overstaying": ("已过期仍未离开", "Pass ended, still inside"),
    "contractor.issue": ("办理施工通行证", "Issue a contractor pass"),
    "contractor.list": ("施工通行证", "Contractor passes"),
    "contractor.admin_only": ("施工通行证由管理员办理", "Contractor passes are issued by an admin"),
    "contractor.hours": ("每日时段，如 08:00-18:00", "Daily hours, e.g. 08:00-18:00"),
    "lookup.title": ("业主、车辆、卡查询", "Residents, vehicles and cards"),
    "lookup.q": ("车牌、卡号、手机号、姓名或楼栋", "Plate, card, phone, name or building"),
    "lookup.search": ("查询", "Search"),
    "lookup.none": ("没有找到", "Nothing found"),
    "lookup.more": (
        "显示前 {shown} 条，共 {total} 条；输入更多字（如房号）可缩小范围",
        "Showing {shown} of {total}: type more (a room number) to narrow the search",
    ),
    "lookup.block": ("立即禁用", "Block now"),
    "lookup.unblock": ("解除禁用", "Unblock"),
    "lookup.block_title": ("禁用卡或车牌", "Block a card or plate"),
    "lookup.unblock_title": ("解除卡或车牌的禁用", "Unblock a card or plate"),
    "lookup.kind": ("类型", "Kind"),
    "lookup.value": ("卡号或车牌", "Card number or plate"),
    "lookup.vehicles": ("车辆", "Vehicles"),
    "lookup.cards": ("卡与车牌", "Cards and plates"),
    "lookup.slots": ("车位", "Slots"),
    "lookup.blocked": ("已禁用", "blocked"),
    "lookup.delete": ("删除", "Delete"),
    "lookup.renew": ("续期", "Renew"),
    "kind.card": ("卡", "Card"),
    "kind.plate": ("车牌", "Plate"),
    "kind.qr": ("二维码", "QR"),
    "occ.title": ("车位占用", "Occupancy"),
    "occ.zone": ("区域", "Zone"),
    "occ.class": ("车型", "Class"),
    "occ.capacity": ("总车位", "Spaces"),
    "occ.fixed": ("固定车位", "Fixed slots"),
    "occ.inside": ("场内", "Inside"),
    "occ.shared_free": ("公共车位剩余", "Shared spaces free"),
    "occ.people": ("人行场内人数", "People inside (on foot)"),
    # The cars recorded inside (docs/parking.md, Cars already inside), and the admin's corrections.
    "occ.cars": ("场内车辆", "Cars inside"),
    "occ.find": ("按车牌查找", "Find by plate"),
    "occ.find_button": ("查找", "Find"),
    "occ.all": ("全部", "All"),
    "occ.plate": ("车牌", "Plate"),
    "occ.slot": ("车位号", "Slot"),
    "occ.billing": ("计费", "Pays as"),
    "occ.entered": ("入场时间", "Entered"),
    "occ.how": ("入场记录", "Entry"),
    "occ.at_lane": ("道闸识别", "At the lane"),
    "occ.by_hand": ("手工登记", "By hand"),
    "occ.none": ("没有场内车辆记录", "No car is recorded inside"),
    "occ.record": ("登记场内车辆", "Record a car inside"),
    "occ.record_hint": (
        "已在场内但网关没有入场记录的车辆（系统上线前已停放的车、入口摄像机故障时进入的车）："
        "登记后计入车位占用，出场时正常计费。没有车牌的车，点“无牌车”（或车牌填“无牌车”），登记后给出票号。",
        "A car inside that no entry of the gateway's recorded (parked before the gateway, or in "
        "while the entry camera was down): once recorded it counts in the occupancy, and pays as "
        "usual when it leaves. For a car with no plate tap No plate: it is given a ticket.",
    ),
    # The plate field while 无牌车 No plate is pressed (occupancy.html, app.js showNoPlate).
    "occ.no_plate_given": ("无牌车：登记后给出票号", "No plate: a ticket is given"),
    "occ.class_registered": ("按登记（否则汽车）", "As registered (else car)"),
    "occ.zone_own": ("按固定车位（或唯一区域）", "Its slot's (or the only zone)"),
    "occ.entered_now": ("入场时间（留空为现在）", "Entered (empty: now)"),
    "occ.reason_hint": (
        "原因（必填），如：系统上线前已停放",
        "Reason (required), e.g. parked before the gateway",
    ),
    "occ.left": ("标记离场", "Mark as left"),
    "occ.left_ask": ("车辆已离场（未被识别）：原因", "The car has left unseen: why"),
    "billing.slot": ("固定车位", "Own slot"),
    "billing.monthly": ("月租", "Monthly"),
    "billing.visitor": ("访客", "Visitor"),
    "billing.temporary": ("临时（计时收费）", "Temporary (by time)"),
    "billing.free": ("免费", "Free"),
    "class.car": ("汽车", "Cars"),
    "class.motorcycle": ("摩托车", "Motorcycles"),
    "class.bicycle": ("自行车", "Bicycles"),
    "alarm.title": ("报警", "Alarms"),
    "alarm.none": ("没有未处理的报警", "No open alarms"),
    "alarm.ack": ("确认", "Acknowledge"),
    "alarm.acked": ("已确认", "Acknowledged"),
    "alarm.raised": ("发生时间", "Raised"),
    "alarm.show_all": ("显示全部", "Show all"),
    "clip.watch": ("录像", "Clip"),
    "clip.being_saved": ("录像中", "Recording"),
    "clip.title": ("事件录像", "Event clip"),
    "clip.open": ("手动开闸", "Opened by hand"),
    "clip.camera": ("摄像机", "Camera"),
    "clip.recording": (
        "录像正在保存（事件后还要录几秒），本页会自动刷新",
        "The clip is being saved (it goes on for a few seconds after the event); this page reloads by itself",
    ),
    "clip.missing": (
        "录像已超过保存期（{days} 天）或未能保存",
        "This clip is older than the {days} days clips are kept, or was not saved",
    ),
    "clip.back": ("返回", "Back"),
    "alarm.device_offline": ("设备离线", "Device offline"),
    "alarm.forced_open": ("强行开门", "Forced open"),
    "alarm.held_open": ("长时间未关", "Held open"),
    "alarm.tailgate": ("跟车通过", "Tailgating"),
    "alarm.barrier_no_response": ("道闸未抬起", "Barrier did not rise"),
    "alarm.repeated_unknown_plate": ("陌生车牌反复出现", "Unknown plate seen repeatedly"),
    "alarm.outbox_backlog": ("上传积压", "Upload backlog"),
    "alarm.outbox_quota": ("上传队列将满", "Upload queue nearly full"),
    "alarm.outbox_quarantine": ("记录无法上传", "Record set aside (not uploaded)"),
    "alarm.patrol_late": ("巡更超时", "Patrol round late"),
    "alarm.patrol_missed": ("巡更漏巡", "Patrol round missed"),
    "alarm.disk_low": ("磁盘空间不足", "Disk nearly full"),
    "alarm.retention_short": ("录像保存不足", "Footage not kept long enough"),
    "alarm.repair_overdue": ("设备超时未修复", "Repair overdue"),
    "alarm.clock_stepped": ("时钟跳变", "Clock stepped"),
    "alarm.import_unfinished": ("导入未完成", "Import unfinished"),
    # An event alarm whose condition ended before a guard saw it: it waits for his acknowledgement
    # all the same ({time}: when it ended, the site's time).
    "alarm.ended": ("已于 {time} 结束，请确认", "Ended at {time}; acknowledge it"),
    "alarm.ended.forced_open": ("已于 {time} 关回，请确认", "Closed again at {time}; acknowledge it"),
    "upload.set_aside": ("搁置的上传记录", "Records set aside (not uploaded)"),
    "upload.hint": (
        "中心服务器拒收的记录已搁置，其余记录照常上传。请先排除原因（服务器的权限或大小限制），再重新上传；"
        "仍被拒收的记录会再次搁置并报警。",
        "The central server refused these for good; the records behind them still go up. Fix the cause "
        "first (the broker's permissions or size limit), then send them again; a record still refused "
        "is set aside again with a new alarm.",
    ),
    "upload.seq": ("序号", "Seq"),
    "upload.type": ("类型", "Type"),
    "upload.reason": ("原因", "Reason"),
    "upload.send_again": ("重新上传", "Send again"),
    "upload.send_all": ("全部重新上传", "Send all again"),
    "upload.more": ("另有 {more} 条较新的搁置记录未列出", "{more} newer records set aside are not listed"),
    "audit.title": ("操作记录", "Audit trail"),
    "audit.at": ("时间", "When"),
    "audit.actor": ("操作人", "Who"),
    "audit.action": ("操作", "What"),
    "audit.target": ("对象", "On"),
    "audit.detail": ("说明", "Detail"),
    "audit.filter": ("筛选", "Filter"),
    "audit.older": ("更早的记录", "Older"),
    # A vehicle's monthly period changed, on the audit page (audit_words.vehicle_detail): its last
    # day before and after, as the lookup page shows it.
    "audit.monthly_period": ("月租到期日 {was} → {now}", "Monthly pass last day {was} → {now}"),
    "audit.monthly_none": ("无", "none"),
    "audit.monthly_ended": ("（已终止）", " (ended)"),
    # A shift handed over, on the audit page (audit_words.handover_detail), in yuan as a fee's row.
    "audit.handover_recorded": ("记录现金 {amount}", "cash on record {amount}"),
    "audit.handover_counted": ("清点 {amount}", "counted {amount}"),
    "audit.handover_short": ("短款 {amount}", "short by {amount}"),
    "audit.handover_over": ("长款 {amount}", "over by {amount}"),
    "audit.handover_even": ("账款相符", "cash matches"),
    "audit.range": ("显示第 {first}–{last} 条，共 {total} 条", "Showing {first}–{last} of {total}"),
    # Older rows than the page counted up to a bound (api/pages.py AUDIT_COUNTED): at least {total}.
    "audit.shown_at_least": ("显示前 {shown} 条，共 {total} 条以上", "Showing {shown} of {total} or more"),
    "audit.range_at_least": (
        "显示第 {first}–{last} 条，共 {total} 条以上",
        "Showing {first}–{last} of {total} or more",
    ),
    "admin.only": ("仅管理员可用", "Admins only"),
    "admin.accounts": ("账号", "Accounts"),
    "admin.add_account": ("添加账号", "Add an account"),
    "admin.display_name": ("显示名", "Display name"),
    "admin.role": ("角色", "Role"),
    "admin.disabled": ("已停用", "Disabled"),
    "admin.disable": ("停用", "Disable"),
    "admin.enable": ("启用", "Enable"),
    "admin.reset_password": ("重设密码", "Reset password"),
    "admin.hand_over": ("代为交班", "Hand over his shift"),
    "admin.created": ("{by} 于 {at} 创建", "made by {by} on {at}"),
    "admin.last_login": ("最近登录 {at}", "last login {at}"),
    "admin.never_logged_in": ("从未登录", "never logged in"),
    "admin.new_password": ("新密码（至少8位）", "New password (8+ characters)"),
    "admin.new_password_again": ("再次输入新密码", "New password again"),
    "admin.passwords_differ": (
        "两次输入的新密码不一致，请重新输入",
        "The two new passwords differ: type them again",
    ),
    "admin.tokens": ("API 令牌", "API tokens"),
    "admin.add_token": ("新建令牌", "New token"),
    "admin.token_name": ("令牌名称", "Token name"),
    "admin.token_days": ("有效天数（空=长期）", "Valid days (empty: until revoked)"),
    "admin.token_once": (
        "请立即保存该令牌，它只显示这一次：",
        "Store this token now; it is shown only once:",
    ),
    # POST /api/cards answered with a `warning` (store/card_lists.py card_given_warning).
    "admin.card_read_as_hex": (
        '本站EM4100读卡器均为十六进制（em4100_number = "hex"，默认值），10位纯数字卡号按十六进制卡号读取：'
        "如果这是卡上印的号码，任何读卡器都不认这张卡，"
        '请将每台EM4100读卡器设为 em4100_number = "decimal" 并重启；'
        "如果是读卡器显示的十六进制卡号，则无需处理",
        'Every EM4100 reader of this site gives hex (em4100_number = "hex", the default) and reads 10 digits '
        "as a hex id: if this is the number printed on the card, no reader will take the card; set "
        'em4100_number = "decimal" on every EM4100 reader and restart. If it is the hex id a reader '
        "showed, nothing to do",
    ),
    "admin.revoke": ("吊销", "Revoke"),
    "admin.revoked": ("已吊销", "revoked"),
    "admin.registry": ("业主、车辆、卡、车位", "Residents, vehicles, cards, slots"),
    "admin.add_resident": ("添加/修改业主", "Add or change a resident"),
    "admin.add_vehicle": ("添加车辆", "Add a vehicle"),
    "admin.add_card": ("发卡", "Issue a card"),
    "admin.add_slot": ("添加车位", "Add a slot"),
    "admin.resident_id": ("业主编号（查询结果中的 #）", "Resident id (the # in lookup)"),
    "admin.ref": ("业主档案号", "Resident ref"),
    "admin.building": ("楼栋", "Building"),
    "admin.unit": ("单元", "Unit"),
    "admin.room": ("房号", "Room"),
    "admin.card": ("卡号", "Card number"),
    # A card that names no car is the resident alone at the car barrier (no_slot): say what it is for.
    "admin.card_plate": (
        "车牌（此卡开车闸的本业主车辆；仅用于人行门可空）",
        "Plate (the resident's car this card opens the barrier for; empty for doors only)",
    ),
    "admin.monthly_until": ("月租到期", "Monthly until"),
    "admin.zone": ("区域", "Zone"),
    "admin.number": ("车位号", "Slot number"),
    "admin.plates": ("使用车辆（车牌，空格分隔）", "Cars using it (plates, space-separated)"),
    "admin.class": ("车型", "Class"),
    "me.password": ("修改我的密码", "Change my password"),
    "me.current": ("当前密码", "Current password"),
    "common.save": ("保存", "Save"),
    "common.add": ("添加", "Add"),
    "common.error": ("操作失败", "Failed"),
    "common.saved": ("已保存", "Saved"),
    "common.yes": ("是", "yes"),
    "form.restored": (
        "已恢复登录前填写的内容；手机号、证件号码请重新输入",
        "What was typed before logging in is back; type the phone and ID numbers again",
    ),
    "form.not_restored": (
        "登录前在“{forms}”中填写的内容未恢复：此页已没有该表单，请重新打开后再填写",
        "What was typed into {forms} before logging in is not back: this page no longer has that form;"
        " open it and type it again",
    ),
    # Changes the session's end cut off (app.js keepNotDone): {what} names each (car-in · 开闸).
    "form.not_done": (
        "登录到时，以下操作未办成，请重新操作：{what}。",
        "Not done, your login ran out: {what}. Do it again.",
    ),
    "form.not_done.unnamed": ("刚才的操作", "what you just did"),
    # A lane by hand cut off so after an earlier try of it went unanswered (网关没有回应): that one
    # may have been done (app.js keepNotDone); tapped again within 2 minutes of the first tap (its
    # key kept as long as live.js RETRY_MS), a done one is answered as done.
    "form.maybe_done": (
        "登录到时，以下操作前一次网关没有回应，可能已经办成：{what}。请先看该通道的记录，记录里没有再点"
        "（首次点击后 2 分钟内再点算作同一次）。",
        "Your login ran out; the gateway had not answered {what} before, and it may have been done: "
        "look at the lane's list first, and tap again only if it is not there (within 2 minutes of the "
        "first tap, a tap is taken as the same one).",
    ),
    # A lane by hand tapped again after its answer did not come: the first tap was done (api/lanes.py
    # again). {why}: action.lost.*, why no answer came for it.
    "action.done_before": (
        "{action}：刚才那一次已办成（{why}），这次没有再次执行；如需再来一次，请再点一次",
        "{action}: your last tap was done ({why}), so it was not done again; to do it once more, tap again",
    ),
    "action.lost.network": ("回应在网络上丢失", "its answer was lost on the network"),
    "action.lost.still_saving": (
        "当时网关答复仍在保存",
        "the gateway had answered that it was still saving it",
    ),
    "action.lost.internal_error": ("当时网关答复出错", "the gateway had answered with an error"),
    "action.lost.other": ("当时没有收到它的回应", "no answer came for it"),
    # What the pages say for the API's error codes (their message is English, for API clients);
    # ".fields": the same, followed by the fields the error names.
    "err.invalid_pass": ("填写有误，请检查后重试", "Something typed is not valid; check and try again"),
    "err.invalid_pass.fields": ("以下项目填写有误：", "Check these fields:"),
    "err.refused": ("不允许此操作", "Not allowed"),  # the page adds the server's why (app.js)
    "err.refused.fields": ("封闭管理期间必须登记：", "Closed management: fill in"),
    "err.invalid_plate": (
        "车牌格式不对，请按车上的车牌填写（如 皖A12345，号码中不含字母 I、O）",
        "Not a valid plate: type it as it is on the car (e.g. 皖A12345; no I or O in its number)",
    ),
    # A green new-energy plate typed without its province (ED12345 for 苏ED12345), which reads as an
    # army plate: the refusal's data names it and the army's spelling (csv_rows.ProvinceLeftOut).
    "err.invalid_plate.data": (
        "{plate} 缺少省份：新能源车牌请连省份一起填写（如 苏{plate}）；军车车牌请在两个字母后加“-”：{army}",
        "{plate} has no province: type a green new-energy plate with its province (e.g. 苏{plate}); "
        "an army plate with a '-' after its two letters: {army}",
    ),
    "err.invalid_request": (
        "填写的内容格式不对，请检查后重试",
        "Something typed is not valid; check and try again",
    ),
    # A new resident without a field every resident has (a 楼栋 of spaces): named as the form labels it.
    "err.invalid_request.fields": ("以下项目未填写或格式不对：", "Check these fields:"),
    "err.invalid_value": ("号码格式不对，请重新输入", "Not a valid number; type it again"),
    "err.invalid_hours": ("时段格式不对，应如 08:00-18:00", "Not valid hours; write them like 08:00-18:00"),
    # What a visitor's (or a person in her car's) ID or phone number named by invalid_pass should be.
    "err.invalid_id_number": (
        "身份证号应为18位（末位可为X），请核对证件重新输入",
        "An ID card number has 18 characters (the last may be X): check the card and type it again",
    ),
    "err.invalid_id_number.passport": (
        "护照号码应为5至17位字母和数字，请核对证件重新输入",
        "A passport number has 5 to 17 letters and digits: check the passport and type it again",
    ),
    "err.invalid_id_number.hk_macau_permit": (
        "港澳通行证号码应为H或M加8位或10位数字，请核对证件重新输入",
        "A Hong Kong/Macau permit number is H or M and 8 or 10 digits: check the permit and type it again",
    ),
    "err.invalid_id_number.taiwan_permit": (
        "台胞证号码应为8位数字，请核对证件重新输入",
        "A Taiwan permit number has 8 digits: check the permit and type it again",
    ),
    "err.invalid_id_number.foreign_permanent": (
        "外国人永久居留证号码应为15位（3个字母加12位数字）或以9开头的18位，请核对证件重新输入",
        "A foreign permanent residence ID has 15 characters (3 letters, 12 digits) or 18 beginning "
        "with 9: check the card and type it again",
    ),
    # As the API's message (api/passes.py _PHONE_FORM): a landline too, so no 手机号; its extension
    # or a name after the number is what is usually refused.
    "err.invalid_phone": (
        "电话号码应为7至20位数字，可用+、空格、短横、点或括号分隔，如 138 0013 8000、(+86)138 0013 8000；"
        "不含分机号和文字，分机号请写在事由里",
        "A phone number has 7 to 20 digits, with +, spaces, dashes, dots or brackets between them "
        "(138 0013 8000, (+86)138 0013 8000) and nothing else: no extension (write it in the reason)",
    ),
    "err.invalid_period": ("结束日期早于开始日期，请检查日期", "The period ends before it begins"),
    "err.csrf": ("页面已过期，请刷新页面后重试", "The page expired; reload it and try again"),
    "err.login_required": ("登录已过期，请重新登录", "Logged out; log in again"),
    "err.bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "err.too_many_attempts": ("失败次数过多，请稍后再试", "Too many failed attempts; wait and try again"),
    "err.admin_only": ("仅管理员可用", "Admins only"),
    "err.not_found": ("没有找到该记录", "Not found"),
    # 禁用 typed for a plate nobody holds, where unregistered cars come in as temporary ones: never
    # "refused already" (registry_credentials._not_registered).
    "err.unregistered_plate": (
        "车牌 {plate} 未登记，无法禁用：本小区未登记车辆按临时车放行。"
        "要拦下这辆车，请在它到达时关闭车行入口；被盗车辆请报警",
        "{plate} is not on the register, so it cannot be blocked: unregistered cars come in as temporary "
        "cars here. To keep this car out, close the car entrance when it comes; for a stolen car, call "
        "the police",
    ),
    # A number typed for 立即禁用 that a reader giving it would take for several registered cards
    # (a Wiegand 26 number carries 24 bits of the id): nothing blocked, and what to type instead.
    "err.card_ambiguous": (
        "该号码对应 {cards} 张已登记的卡，无法区分，未禁用：请输入卡上印的10位卡号，或在业主页面禁用",
        "This number fits {cards} registered cards and cannot tell them apart; nothing was blocked: "
        "type the 10 digits printed on the card, or block it on its resident's page",
    ),
    # 10 digits that are one card's printed number and another's hex id, at a site with a reader
    # set to hex (card_forms.typed_readings): typing the printed digits is what he did.
    "err.card_ambiguous.two_readings": (
        "这10位数字既是一张卡上印的卡号，又是另一张卡的十六进制卡号（共 {cards} 张已登记的卡），"
        "未禁用：请在业主页面禁用",
        "These 10 digits are one card's printed number and another card's hex id ({cards} registered "
        "cards); nothing was blocked: block it on its resident's page",
    ),
    # The same two, typed to lift a block (data.action "unblock"), both blocked or neither: an admin
    # lifting a block is told where to lift it, not to block the card (Review 66 R3). Exactly one
    # blocked, its block is lifted (store/registry_credentials.py _the_one_blocked).
    "err.card_ambiguous.two_readings.unblock": (
        "这10位数字既是一张卡上印的卡号，又是另一张卡的十六进制卡号（共 {cards} 张已登记的卡），"
        "未解除禁用：请在业主页面解除禁用",
        "These 10 digits are one card's printed number and another card's hex id ({cards} registered "
        "cards); no block was lifted: lift it on its resident's page",
    ),
    # A number naming several cards, typed to lift a block (data.action "unblock").
    "err.card_ambiguous.unblock": (
        "该号码对应 {cards} 张已登记的卡，无法区分，未解除禁用：请输入卡上印的10位卡号，或在业主页面解除禁用",
        "This number fits {cards} registered cards and cannot tell them apart; no block was lifted: "
        "type the 10 digits printed on the card, or lift the block on its resident's page",
    ),
    "err.conflict": (
        "与已有记录冲突（同一车牌、卡号或号码已登记），未作任何修改",
        "This clashes with what is stored (the same plate, card or number); nothing was changed",
    ),
    # A slot that another resident holds (store/registry_vehicles.py _slot_taken): whose, and where
    # to delete it before giving it to the new owner (a slot with no owner is given, not refused).
    "err.conflict.data": (
        "车位 {slot} 属于业主 {owner_ref}（{owner}，{flat}），未作修改："
        "如要给新业主，请先在查询页查 {owner_ref}，删除其名下的该车位，再添加",
        "Slot {slot} is resident {owner_ref}'s ({owner}, {flat}); nothing was changed. To give it to "
        "someone else, look up {owner_ref}, delete the slot on that page, then add it again",
    ),
    # An admin's form sent again with its key (a retry after no answer), what it made deleted or
    # revoked meanwhile (on another tablet): never "已保存" for a card no reader knows any more.
    "err.deleted_since": (
        "该表单上次添加的记录已被删除，本次未保存：再提交一次即作为新记录添加",
        "What this form added before has been deleted since, so nothing was saved now: send it again "
        "to add it as a new one",
    ),
    "err.revoked_since": (
        "该表单上次生成的令牌已被吊销，不能再用：请换一个名称，重新生成令牌",
        "The token this form made has been revoked since and works no more: make a new token under a "
        "new name",
    ),
    "err.storage_failed": (
        "网关无法保存，未作任何修改，请联系管理员",
        "The gateway could not store this; nothing was changed. Tell the admin",
    ),
    # The same, by why it was not stored (the error's state, api/errors.py storage_failed), as the
    # live panel words a decision refused so (why.storage_failed.*): only a full disk is told to
    # free disk space.
    "err.storage_failed.full": (
        "网关无法保存，未作任何修改：磁盘已满，请管理员清理数据目录的磁盘空间后重试",
        "The gateway could not store this; nothing was changed: the disk is full. The admin frees disk "
        "space in the data directory, then try again",
    ),
    "err.storage_failed.unwritable": (
        "网关无法保存，未作任何修改：数据盘无法写入（只读或故障？），请管理员检查数据目录所在的磁盘",
        "The gateway could not store this; nothing was changed: the data disk takes no writes "
        "(read-only or failing?). The admin checks the disk of the data directory",
    ),
    "err.storage_failed.locked": (
        "网关无法保存，未作任何修改：数据库被其他程序占用（如暂停的 gateway import），"
        "请结束占用它的程序后重试",
        "The gateway could not store this; nothing was changed: another program holds the database "
        "(a suspended gateway import?). End what holds it, then try again",
    ),
    "err.storage_failed.damaged": (
        "网关无法保存，未作任何修改：数据库已损坏，请管理员用备份恢复数据库",
        "The gateway could not store this; nothing was changed: the database is damaged. The admin "
        "restores it from a backup",
    ),
    "err.storage_failed.fault": (
        "网关内部错误，未作任何修改：请把日志发给维护方",
        "An internal error of the gateway; nothing was changed. Send the log to the maintainers",
    ),
    # One sentence for open, hold and release alike: the relays (one or more) did not answer.
    "err.relay_failed": (
        "道闸未响应，操作未生效：请检查道闸继电器的线缆和电源（设备页显示哪个离线）",
        "The barrier did not answer, so this did not take effect: check the relay's cable and power "
        "(the devices page shows which one is offline)",
    ),
    "err.busy": ("网关繁忙，未保存，请稍后重试", "The gateway is busy and did not save this; try again"),
    # The page makes a new key whenever its form changes: this is another tab's, or an old page's.
    "err.idempotency_mismatch": (
        "这次登记已用不同的内容提交过，可能已办成：请刷新页面，在访客列表中查看是否已登记；如未登记，再重新填写",
        "This registration was sent before with other details and may have been made: reload the "
        "page and look in the visitor list before registering again",
    ),
    "err.still_saving": (
        "网关繁忙，仍在保存：请稍后刷新页面，确认是否已保存后再操作，以免重复",
        "The gateway is busy and still saving this: reload in a moment to check before doing it again",
    ),
    # No answer is not "not done": the request may have reached the gateway and only its answer
    # been lost on the Wi-Fi (a retry would open, or register, twice), as pay.unknown says of a fee.
    "err.network": (
        "网关没有回应，不确定是否已办成：请检查网络，刷新页面查看通道或记录，确认没有办成再做",
        "No answer from the gateway: it is not known whether this was done. Check the network, then "
        "reload and look at the lane or the records before doing it again",
    ),
    # A fault of the gateway's own (500 internal_error), or an answer that is not the gateway's (a
    # plain-text 5xx of something in between, app.js api()): the change may have been made before it.
    "err.internal_error": (
        "网关出错，不确定是否已办成：请刷新页面查看记录后再操作；一再出错请联系管理员",
        "The gateway failed on this, so it is not known whether it was done: reload and look at the "
        "records before doing it again; if it keeps failing, tell the admin",
    ),
    "err.other_user": (
        "此平板已换成另一人登录，本页的操作未执行：请刷新页面，以现在登录的身份再操作",
        "Someone else has logged in on this tablet since this page was opened, so this was not done: "
        "reload the page to act as the one logged in now",
    ),
    "err.already_done": (
        "已由他人处理（另一台平板），无需再操作",
        "Already done (on another tablet): nothing to do",
    ),
    # A row's change done already where the gateway says by whom and when (an alarm acknowledged, a
    # pass checked out: store.audit done_already): named; done by the account asking (`state`
    # same_account), said so, as it may be another tablet logged in as the same guard; and `yours`
    # only where this page's own tap of it went unanswered (网关没有回应, app.js): done the first time.
    "err.already_done.data": (
        "已由 {by} 于 {at} 处理，无需再操作",
        "Done already by {by} at {at}: nothing to do",
    ),
    "err.already_done.same_account": (
        "已由本账号（{by}）于 {at} 处理，无需再操作",
        "Done already by this account ({by}) at {at}: nothing to do",
    ),
    "err.already_done.yours": (
        "您已于 {at} 办好（只是当时没有收到网关的回应），无需再操作",
        "You did this at {at} already (only the gateway's answer did not reach you): nothing to do",
    ),
    # already_done with the `state` the gateway says the thing is in now, whoever made it so (app.js
    # errorText): a lane never held open, a card blocked by this guard and its number typed again,
    # were not done by another tablet. {kind} is kind.card, kind.plate or kind.qr.
    "err.already_done.not_held": (
        "通道未处于常开状态，无需取消常开",
        "The lane is not held open: there is nothing to release",
    ),
    "err.already_done.blocked": (
        "该{kind}已是禁用状态，无需再禁用",
        "{kind} is blocked already: nothing to do",
    ),
    "err.already_done.unblocked": (
        "该{kind}未被禁用（已是启用状态），无需解除",
        "{kind} is not blocked: there is no block to lift",
    ),
    # A change that changes nothing (a renewal to the day the period ends already, a vehicle sent
    # as it is): nothing saved, nothing to do (store/registry_vehicles.py update_vehicle,
    # store/registry_residents.py upsert_resident).
    "err.nothing_to_change": (
        "没有修改：填写的内容与现有记录相同，未保存",
        "Nothing to change: what was typed is what is on record already, so nothing was saved",
    ),
    # Paid already: where it was paid is not known to the words (another tablet, the booth, this
    # tablet's tap sent again), so none is named. With the payment the gateway found (its data: a
    # fee paid at the booth while the exit tablet's dialog was open, a payment sent again), its
    # receipt and when, for the guard to show the driver (app.js dataWords; paid_at in the site's time).
    "err.already_paid": ("该车已缴费，请勿再收", "Paid already: take nothing again"),
    "err.already_paid.data": (
        "该车已缴费（收据号 {receipt}，{paid_at}），请勿再收",
        "Paid already (receipt {receipt}, {paid_at}): take nothing again",
    ),
    # Let out by hand on another tablet: no fee was taken, so the guard must not book one (not
    # already_paid's 已缴费).
    "err.let_out_by_hand": (
        "该车已由另一台平板开闸手动放行，未收费：请勿收费",
        "Let out by hand (on another tablet) with no fee taken: take nothing",
    ),
    # Let through free meanwhile (its stay validated by the host unit, say): no fee was taken for
    # its hold, so, as for let_out_by_hand, never already_paid's 已缴费.
    "err.left_without_fee": (
        "该车已离场，未收费：请勿收费",
        "The car has left with no fee taken: take nothing",
    ),
    "err.plate_corrected": (
        "另一台平板已纠正该车车牌，未收费：请关闭后重新点收费放行，按纠正后的车牌收",
        "The plate was corrected on another tablet, so nothing was taken: close this and tap Take "
        "the fee again, for the corrected plate",
    ),
    "err.nothing_owed": (
        "该车现在无需缴费，可开闸放行",
        "Nothing is owed now: the car may leave, open the barrier",
    ),
    "err.fee_changed": (
        "应收金额已变化，请关闭后重新点收费放行",
        "The fee has changed: close this and tap Take the fee again",
    ),
    "err.exit_refused": (
        "出口仍不放行该车（通道已关闭或车辆被禁用），费用未收：请先开放通道或处理禁用，再收费",
        "The exit still refuses this car (lane closed, or the car blocked), so the fee was not taken: "
        "reopen the lane or deal with the block, then take the fee",
    ),
    # A car the exit refuses outside its hours (a held car standing there since before they ended
    # pays and leaves): the lane is open, so not 开放通道; the hours the exit keeps, from the error's
    # data. Not "the car came after them": a car misread there since before is refused so too.
    "err.exit_refused.outside_hours": (
        "该出口的通行时段为 {hours}，现不在时段内，不予放行，费用未收："
        "请引导车辆从其他出口离场，或开闸手动放行",
        "This exit lets cars out {hours} only and it is outside them now, so the car is refused and "
        "the fee was not taken: send the car to another exit, or open the barrier by hand",
    ),
    "err.receipt_used": (
        "该收据号已用过，请填写本次付款自己的收据号",
        "That receipt number is used already: type this payment's own number",
    ),
    # 纠正并重新判断 once the car has gone (another tablet opened the lane, the next car pulled up):
    # the correction stands, the lane decided nothing, the barrier stays down for the car there now.
    "err.car_left_lane": (
        "已纠正车牌；该车已离开通道，未重新判断",
        "Plate corrected; the car has left the lane, so it was not decided again",
    ),
    "err.same_plate": (
        "记录已是该车牌，未作修改：请按车上的车牌填写",
        "The record has this plate already; nothing changed: type the plate as it is on the car",
    ),
    "err.nothing_to_find": ("请输入手机号或证件号码", "Type a phone or an ID number"),
    # {least} is 1 or 2 (the error's least): worded to read right for both.
    "err.reason_required": ("请填写原因，至少 {least} 个字", "Give a reason, {least} or more characters"),
    "err.bad_password": ("当前密码不正确", "The current password is wrong"),
    "err.weak_password": (
        "密码太弱：至少8位，且不能与用户名相同",
        "Password too weak: 8 characters or more, not the user name",
    ),
    "err.bad_username": (
        "用户名格式不对：2-32 位字母、数字或 . _ -，以字母或数字开头，不能有空格或汉字；"
        "中文姓名请填在显示名里",
        "Not a valid user name: 2-32 letters, digits, '.', '_' or '-', starting with a letter or digit, "
        "no spaces; a Chinese name goes in the display name",
    ),
    "err.reserved_username": (
        "该用户名留给系统自身的操作记录（gateway、central、import），请换一个用户名",
        "That user name is kept for the audit trail's own entries (gateway, central, import); choose another",
    ),
    "err.unknown_lane": ("没有该通道", "No such lane"),
    # Followed by the tickets inside, the error's `tickets` (app.js errorText, ticket.inside_now).
    "err.unknown_ticket": (
        "场内没有该票号的无牌车，请核对纸质票上的票号",
        "No car with no plate is inside on that ticket: check the number on the paper ticket",
    ),
    "err.ticket_needed": (
        "无牌车出场请输入或选择其票号",
        "A car with no plate leaves on its ticket: type or pick it",
    ),
    # The button as the dialog shows it in each language (ticket.button).
    "err.ticket_at_entrance": (
        "票号在入口点「无牌车」时发放，不能输入",
        "Tickets are given at the entrance: tap No plate",
    ),
    "err.ticket_not_a_plate": (
        "这是无牌车的票号，不是车牌：请按车上的车牌填写",
        "That is a no-plate car's ticket, not a plate: type the plate on the car",
    ),
    # At an exit only: an entry corrected to 无牌车 is given its ticket (api/corrections.py _ticket_of).
    # Followed by the tickets inside, the error's `tickets` (app.js errorText, ticket.inside_now).
    "err.no_plate_not_a_plate": (
        "出口的记录不能纠正为无牌车：无牌车凭入场时发的票号出场，请点「输入车牌」输入或选择其票号",
        "An exit's record is not corrected to No plate: a car with no plate leaves on the ticket it "
        "was given at the entrance: tap Type plate and type or pick it",
    ),
    "err.ticket_typed": (
        "这是无牌车的票号，不能登记：无牌车请在车牌处填写「无牌车」，系统会发给它新的票号",
        "That is a no-plate car's ticket: for a car with no plate type 无牌车 as the plate; it is "
        "given a new ticket",
    ),
    "err.not_a_vehicle_lane": ("该通道不是车行通道", "Not a vehicle lane"),
    "err.unknown_zone": ("没有该区域", "No such zone"),
    "err.zone_needed": ("无法判断该车所在区域，请选择区域", "The car's zone cannot be told: choose the zone"),
    "err.already_inside": (
        "该车已在场内，无需登记（见场内车辆列表）",
        "The car is inside already (see the list)",
    ),
    "err.left_since": (
        "该车于 {left_at} 有离场记录，晚于所填入场时间：请填写 {left_at} 之后的入场时间，或留空按现在",
        "The car was recorded leaving at {left_at}, after that time: give an entry time after it, or "
        "leave it empty for now",
    ),
    "err.bad_time": ("入场时间格式不对，或晚于现在", "The entry time is not valid, or is after now"),
    "err.unknown_class": ("没有该车型", "No such vehicle class"),
    "err.wrong_class": ("车型与登记不符，请留空按登记", "Not the registered class: leave it empty"),
    "err.not_their_vehicle": (
        "该业主名下没有这个车牌的车辆：请核对车牌，或先添加车辆",
        "This resident has no car with this plate: check the plate, or add the vehicle first",
    ),
    "err.not_an_account": ("API 令牌不能执行此操作", "Not for an API token"),
    # Refusals a page reaches whose words the page says itself, not under err.refused's heading with
    # the English message (review 56e): {plate} and {unit} as the guard typed them (3栋 9单元, 3 2).
    "err.plate_blocked": (
        "车牌 {plate} 已禁用，请管理员在查询页解除",
        "Plate {plate} is blocked: an admin can unblock it on the lookup page",
    ),
    "err.items_needed": (
        "请填写带出的物品，如：旧橱柜 1 套、电钻 2 把",
        "Say what is carried out, e.g. 2 old chairs, 1 drill",
    ),
    "err.unit_needed": (
        "请填写业主的楼栋单元，或扫通行证",
        "Give the owner's building and unit, or the pass",
    ),
    "err.no_such_unit": (
        "{unit} 没有登记业主，请核对楼栋单元",
        "No resident lives in {unit}: check the building and unit",
    ),
    # A visitor's pass for a unit nobody lives in, where the pass may be for no unit (the office).
    "err.no_such_unit.may_be_empty": (
        "{unit} 没有登记业主，请与访客核对楼栋单元；来访物业管理处的，楼栋单元请留空",
        "No resident lives in {unit}: check the building and unit with the visitor; for a visit to "
        "the management office leave them empty",
    ),
    "err.no_one_in_pass_unit": (
        "通行证上的 {unit} 没有登记业主，请填写业主的楼栋单元",
        "No resident lives in {unit}, the pass's unit: give the owner's building and unit",
    ),
    # A flat typed for materials leaving that is none of the unit's recorded rooms (1501 for 1201).
    "err.no_such_room": (
        "{unit} 没有登记 {room} 房的业主，请核对房号，或不填房号",
        "No resident of {unit} lives in room {room}: check the room, or leave it out",
    ),
    # A crew's pass that closed management would keep out at every moment of it (Review 66 E).
    "err.closed_management": (
        "封闭管理期间施工人员不予放行：此通行证的日期和时段内无法进门，请改到封闭时段以外，或延长至封闭管理结束后",
        "Closed management turns contractors away all through this pass's days and hours: give hours "
        "outside the closed hours, or an end after the period",
    ),
    "err.pass_ended": (
        "该通行证已离开登记，不能延期，请重新办理",
        "The pass was checked out: issue a new one",
    ),
    "err.central_pass": (
        "该通行证由物业中心下发，请在中心系统延期",
        "The property office's system issued this pass: extend it there",
    ),
    "err.not_pass_unit": (
        "该通行证登记的是 {pass_unit}，与所填不符：楼栋单元请留空，按通行证登记",
        "The pass is for {pass_unit}: leave the unit out, the pass's own is used",
    ),
    # A visitor's free parking validated for a unit (POST /api/parking/stays/{id}/validate).
    "err.not_host_unit": (
        "该访客登记的被访单元是 {host_unit}，只能由该单元确认免费停车",
        "The visitor was registered for {host_unit}: that unit validates the stay",
    ),
    "err.not_host_unit.nobody_lives": (
        "该访客登记的被访单元 {host_unit} 没有登记业主，任何单元都不能确认免费停车；"
        "车辆按访客缴费，业主确认来访的由保安手动开闸",
        "No resident lives in {host_unit}, the visitor's host: no unit validates the stay; the car "
        "pays as a visitor, or if its host confirms the visit the guard opens the barrier by hand",
    ),
    "err.display_name_too_long": (
        "显示名太长，最多 {most} 个字，如：张师傅",
        "The display name is too long: {most} characters at most",
    ),
    "err.last_admin": (
        "这是最后一个管理员账号，不能停用或改为保安：请先把另一个账号设为管理员",
        "This is the last admin account: make another account admin first",
    ),
    "err.no_relay": (
        "该通道没有配置道闸继电器，无法手动操作：请管理员在站点配置中添加",
        "This lane has no barrier relay to work by hand: an admin adds one to the site config",
    ),
    "err.not_a_plate_record": (
        "该记录不是车牌识别记录，只能纠正车牌",
        "This record is not a plate reading: only plates can be corrected",
    ),
    "err.other_lane": (
        "该记录是在另一个通道识别的，请在识别它的通道重新判断",
        "This record was read at another lane: decide it again there",
    ),
    # 重新上传 pressed on a record another tablet (or the centre's send_again) sent again meanwhile.
    "err.not_set_aside": (
        "该记录已不在搁置列表中（可能已由他人重新上传）",
        "That record is no longer set aside (it may have been sent again already)",
    ),
    "err.bad_method": ("没有该付款方式，请在收费窗口中选择", "No such payment method: pick one"),
    # Answered to API clients only (no page sends these), worded for an admin reading the answer.
    "err.actor_not_allowed": ("已登录账号只能以自己的名义操作", "A logged-in account acts for no one else"),
    "err.bad_token": (
        "API 令牌无效、已撤销或已过期，请向管理员申请新令牌",
        "The API token is unknown, revoked or expired",
    ),
    "err.no_report": (
        "该日没有报表（报表在统计期结束后生成）",
        "No report for that day (built when its period ends)",
    ),
    "err.not_ended": ("统计期尚未结束，结束后再生成报表", "The report period has not ended: build it after"),
    "err.records_deleted": (
        "该日的记录已超过保留期被删除，不能重新生成报表：请使用已保存的报表",
        "That day's records are past retention and deleted: use the report kept",
    ),
    "err.rounds_open": (
        "统计期内还有巡更轮次未结束，结束后再生成报表",
        "A patrol round of the period is still open: build the report after it ends",
    ),
    "err.let_ins_open": (
        "统计期末有车辆被拒，30分钟内仍可能获准入场，请稍后再生成报表",
        "A car refused at the end of the period may still be let in for 30 minutes: build the report then",
    ),
    "err.returns_open": (
        "统计期内恢复在线的设备尚待确认故障消除，稍后再生成报表",
        "A device back online in the period waits to clear its fault: build the report a few minutes later",
    ),
    # A guard page's error as a page (pages.error_page): a pass or record gone, an address mistyped.
    "errpage.not_found": (
        "没有这个页面，或要查看的记录已不存在",
        "There is no such page, or what it showed is gone",
    ),
    "errpage.bad_address": (
        "网址有误，请从页面上的菜单进入",
        "This address is not valid; go there from the menu",
    ),
    "errpage.back": ("返回实时通道", "Back to the live lanes"),
    "err.other": ("操作未完成，请重试；仍不行请联系管理员", "Not done; try again, or tell the admin"),
    "common.no": ("否", "no"),
    # 交班 Shift handover (shift.html, shift.js; docs/guard-app.md *Shift handover*).
    "nav.shift": ("交班", "Shift"),
    "shift.title": ("本班收费与交班", "This shift and its handover"),
    "shift.start": ("本班开始", "Shift began"),
    "shift.since.login": ("登录时", "at login"),
    "shift.since.handover": ("上次交班后", "after the last handover"),
    "shift.since.look_back": (
        "无交班记录，36 小时内无登录或登录前已有收费：从 36 小时前算起",
        "no handover on record, no login in 36 hours or fees taken before it: counted from 36 hours ago",
    ),
    "shift.method": ("方式", "Method"),
    # The totals table's rows by how the fee was paid, headings (pay.method.* are words in a line).
    "shift.by.cash": ("现金", "Cash"),
    "shift.by.qr": ("扫码支付", "QR payment"),
    "shift.count": ("笔数", "Payments"),
    "shift.amount": ("金额（元）", "Amount (yuan)"),
    "shift.total": ("合计", "Total"),
    "shift.apart.monthly": (
        "月租（记入月租账户，未收现金，不计入合计）",
        "Monthly (put on monthly accounts, no money taken; not in the total)",
    ),
    "shift.payments": ("本班收费明细", "This shift's payments"),
    "shift.none": ("本班还没有收费", "No payments this shift yet"),
    "shift.at": ("时间", "Time"),
    "shift.plate": ("车牌", "Plate"),
    "shift.receipt": ("收据号", "Receipt"),
    "shift.lane": ("通道", "Lane"),
    "shift.work": ("本班其他操作", "Other work this shift"),
    "shift.hand_opens": ("手动开闸", "Opened by hand"),
    "shift.holds": ("常开", "Held open"),
    "shift.visitors": ("访客登记", "Visitors registered"),
    "shift.alarms_acknowledged": ("确认报警", "Alarms acknowledged"),
    "shift.handover": ("交班", "Hand over"),
    "shift.recorded_cash": ("系统记录现金（元）", "Cash on record (yuan)"),
    "shift.counted": ("清点现金（元）", "Cash counted (yuan)"),
    "shift.note": ("备注（可不填）", "Note (optional)"),
    "shift.submit": ("交班", "Hand over"),
    "shift.confirm_title": ("确认交班", "Confirm the handover"),
    "shift.confirm": ("确认交班", "Hand over"),
    "shift.short": ("短款 {yuan} 元", "Short by {yuan} yuan"),
    "shift.over": ("长款 {yuan} 元", "Over by {yuan} yuan"),
    "shift.even": ("账款相符", "Cash matches the record"),
    "shift.bad_amount": (
        "请输入清点的现金金额（元），最多两位小数，如 123.50",
        "Type the cash counted in yuan, at most two decimals, e.g. 123.50",
    ),
    "shift.done": (
        "已交班 {time}：记录现金 {recorded} 元，清点 {counted} 元，{difference}",
        # A sentence of its own in English: {difference} is shift.short, .over or .even, capitalised
        # (Review 66 F5: "counted 13.00 yuan, Over by 3.00 yuan").
        "Handed over at {time}: cash on record {recorded} yuan, counted {counted} yuan. {difference}",
    ),
    "shift.next": (
        "下一班从零开始。请退出登录，由接班保安用自己的账号登录。",
        "The next shift starts from zero. Log out, so the next guard logs in with his own account.",
    ),
    "shift.logout": ("退出登录", "Log out"),
    # An admin on a guard's shift (/shift?guard=NAME, the admin page's 代为交班): a dismissed guard's.
    "shift.for_guard": (
        "代 {name}（{username}）交班：这是他的本班，交班记在你的名下",
        "Handing over for {name} ({username}): this is his shift; the handover is recorded under your name",
    ),
    "shift.changed": (
        "确认期间又有收费记入本班：系统记录现金现为 {yuan} 元，请重新核对后确认",
        "A fee was taken for this shift meanwhile: cash on record is now {yuan} yuan; check, confirm again",
    ),
    # The shift the page showed was handed over meanwhile: by this account, on another tablet (only
    # a guard hands over his own shift), so no 他人; the page reloads with the shift begun there.
    "shift.handed_over": (
        "本班已于 {at} 交班（本账号在另一台平板上），无需再交：现显示交班后的新一班",
        "This shift was handed over at {at} already (this account, on another tablet): nothing to do; "
        "the new shift since is shown",
    ),
    "err.shift_changed": (
        "系统记录现金已变化，请重新核对后确认交班",
        "The cash on record has changed: check it and confirm the handover again",
    ),
    # A fee recorded with the wrong method, corrected from its row (shift.js; docs/guard-app.md).
    "shift.to_cash": ("改为现金", "Change to cash"),
    "shift.to_qr": ("改为扫码", "Change to QR"),
    "shift.method_fixed": ("已更正收费方式，合计已更新", "Payment method corrected; the totals are updated"),
    "err.unknown_payment": ("没有找到这笔收费，请核对收据号", "No such payment: check the receipt number"),
    "err.not_your_payment": (
        "这笔收费不是您收的：请收费的保安或管理员更正",
        "You did not take this payment: the guard who did, or an admin, may correct it",
    ),
    "err.not_this_shift": (
        "这笔收费属于已交班的班次：请管理员更正",
        "This payment is in a shift already handed over: ask an admin to correct it",
    ),
    "err.method_not_correctable": (
        "只有现金或扫码的收费可以更正收费方式",
        "Only a fee paid in cash or by QR code can have its method corrected",
    ),
    "err.invalid_amount": (
        "金额填写有误：请输入清点的现金（元），0 或以上，最多两位小数",
        "The amount is not valid: type the cash counted in yuan, 0 or more, at most two decimals",
    ),
    **{f"audited.{code}": words for code, words in AUDIT_ACTIONS.items()},  # the audit page (audit_words.py)
}

# What the pages' JavaScript needs: sent with each page, a few hundred bytes.
JS_KEYS = (
    "ev.admitted",
    "ev.refused",
    "row.admitted",
    "row.refused",
    "row.holder",
    "ev.card",
    "ev.qr",
    "ev.plate",
    "ev.button",
    "ev.unknown_holder",
    "ev.monthly_ended",
    "fix.button",
    "pay.button",
    "pay.done",
    "pay.receipt_no",
    "pay.amount",
    "pay.nothing",
    "pay.unknown",
    "fix.title",
    "typed.title",
    "fix.read",
    "fix.by",
    "fix.done",
    "fix.stay_moved",
    "lane.online",
    "lane.offline",
    "lane.held",
    "lane.car_under_arm",
    "actor.centre",
    "actor.centre.named",
    "lane.waiting",
    "lane.open",
    "lane.hold",
    "lane.release",
    "lane.close",
    "lane.reopen",
    "lane.open_failed",
    "lane.hold_failed",
    "lane.release_failed",
    "lane.closed",
    "live.reconnecting",
    "live.other_user",
    "live.only_gate",
    "action.done",
    "action.waits.full",
    "action.waits.unwritable",
    "action.waits.locked",
    "action.waits.slow",
    "live.storage.full",
    "live.storage.unwritable",
    "live.storage.locked",
    "live.storage.damaged",
    "live.storage.fault",
    "why.storage_failed.full",
    "why.storage_failed.unwritable",
    "why.storage_failed.locked",
    "why.storage_failed.damaged",
    "why.storage_failed.fault",
    "action.opened_by",
    "common.error",
    "common.saved",
    "visitor.found",
    "visitor.not_found",
    "holder.resident",
    "holder.visitor",
    "holder.contractor",
    "holder.building",
    "holder.unit",
    "holder.address",
    "holder.blocked",
    "flag.already_inside",
    "flag.no_entry_record",
    "flag.shared_slot",
    "flag.no_slot",
    "flag.no_plate",
    "ticket.label",
    "ticket.none",
    "ticket.inside_now",
    "flag.monthly_expired",
    "flag.registration_not_yet_valid",
    "flag.registration_expired",
    "flag.lookalike",
    "flag.again",
    "flag.refused_again",
    "flag.neighbour_lane",
    "ev.neighbour_lane",
    "admin.token_once",
    "admin.card_read_as_hex",
    "lane.unknown",
    "form.restored",
    "form.not_restored",
    "form.not_done",
    "form.not_done.unnamed",
    "form.maybe_done",
    "action.done_before",
    "action.lost.network",
    "action.lost.still_saving",
    "action.lost.internal_error",
    "action.lost.other",
    # the fields an error names
    "visitor.name",
    "visitor.phone",
    "visitor.id_number",
    "visitor.host_building",
    "visitor.host_unit",
    "visitor.destination",
    "visitor.reason",
    "visitor.passengers",
    "visitor.plate",
    "visitor.vehicle_class",
    "visitor.valid_from",
    "visitor.valid_to",
    "visitor.occupants",
    "visitor.driver",  # a person in the vehicle's field: 乘车人 3 证件号码
    "visitor.occupant",
    "admin.building",
    "admin.unit",
    # the closed-management notices, shown as the window typed needs them (visitors.html)
    "visitor.closed_now",
    "visitor.occupants_required",
    "pass.hours",
    "pass.company",
    "pass.car_blocked",
    "pass.people",
    # a credential's kind in an error's words (err.already_done.blocked)
    "kind.card",
    "kind.plate",
    "kind.qr",
    # the shift page's handover (shift.js)
    "shift.short",
    "shift.over",
    "shift.even",
    "shift.bad_amount",
    "shift.done",
    "shift.changed",
    "shift.handed_over",
    "shift.method_fixed",
)
JS_PREFIXES = ("err.", "state.")  # every key of these


def translator(language: str) -> Callable[[str], str]:
    index = 0 if language == "zh" else 1

    def t(key: str) -> str:
        pair = TEXTS.get(key)
        if pair is None:
            reason = REASONS.get(key.removeprefix("why."))
            return reason[index] if reason and key.startswith("why.") else f"[{key}]"
        return pair[index]

    return t


def js_texts(language: str) -> dict[str, str]:
    t = translator(language)
    texts = {key: t(key) for key in JS_KEYS}
    texts.update({key: t(key) for key in TEXTS if key.startswith(JS_PREFIXES)})
    texts.update({f"why.{reason}": t(f"why.{reason}") for reason in REASONS})
    return texts
