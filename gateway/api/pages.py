"""The guard pages: server-rendered HTML with a little JavaScript; login and logout forms."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from gateway.accounts.passwords import typed_username
from gateway.api.auth import SESSION_COOKIE, Principal, identify, same_origin
from gateway.api.deps import MAX_ID, PLATE_TYPED_MAX, Db, Id, guard_app, local, write
from gateway.api.errors import ApiError
from gateway.api.lanes import lane_list, lanes_status, silence_limit_s
from gateway.api.materials import materials_view
from gateway.api.passes import pass_out, pass_window, seen_leaving, visitor_rules_for
from gateway.api.registry import resident_out
from gateway.api.session import LoginLocked, client_address, end_login, log_in, set_session_cookie
from gateway.api.views import dated, recent, row_id
from gateway.core.tickets import PREFIX, as_ticket_or_number, says_no_plate, ticket_piece
from gateway.runtime.event_clips import alarm_clips, opening_clips
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_opens import storage_failure
from gateway.store import materials as materials_store
from gateway.store import passes as pass_store
from gateway.store import registry
from gateway.store.accounts import get_account, list_accounts, list_tokens, update_account
from gateway.store.alarms import count_alarms, recent_alarms, to_acknowledge
from gateway.store.audit import count_audit, recent_audit, shown_actor
from gateway.store.card_forms import register_ten_digits, typed_readings
from gateway.store.database import open_read_only, storage_cause, storage_fix
from gateway.store.occupancy import count_open_stays, occupancy, open_stays, people_inside
from gateway.store.outbox import count_set_aside
from gateway.store.pass_search import wanted
from gateway.store.set_aside import set_aside
from gateway.timefmt import FORMS, parse_local
from gateway.typed import typed
from gateway.web.audit_words import (
    AUDIT_ACTIONS,
    handover_detail,
    method_detail,
    payment_detail,
    vehicle_detail,
)
from gateway.web.i18n import TEXTS, js_texts, translator
from gateway.web.qr import qr_svg
from plates.grammar import PROVINCES, as_written, serial_as_digits
from plates.grammar import normalize as normalize_plate

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_DIR = WEB_DIR / "static"
LOGIN_COOKIE = "egw_login"  # the login form's CSRF token (double submit), before any session
# The language of the last guard's pages on this browser, no secret: the login page a logout or an
# ended session leads to (app.js goes there on a 401 too) is in the language he reads.
LANG_COOKIE = "egw_lang"
LANGUAGES = ("zh", "en")

templates = Jinja2Templates(directory=WEB_DIR / "templates")


def last_day(end: str) -> str:
    """The last day an end time (local ISO) covers: an end at midnight is the day before's end (a
    valid_to of 2026-12-31 "includes that whole day", so it is stored as 1 January 00:00)."""
    moment = datetime.fromisoformat(end)
    day = moment.date() - timedelta(days=1) if moment.time() == time(0) else moment.date()
    return day.isoformat()


def pass_span(start: str | None, end: str | None) -> str:
    """A pass's validity as the lists show it: a pass of whole days (a crew's, for weeks or a year)
    by its first and last day with their years; a visitor's timed pass by day and hour, with the
    year only when it does not end in the year it starts."""
    if not start or not end:
        return ""
    first, until = datetime.fromisoformat(start), datetime.fromisoformat(end)
    if first.time() == time(0) and until.time() == time(0):
        last = last_day(end)
        return first.date().isoformat() if last == first.date().isoformat() else f"{first.date()} – {last}"
    shown = "%Y-%m-%d %H:%M" if first.year != until.year else "%m-%d %H:%M"
    return f"{first.strftime(shown)} – {until.strftime(shown)}"


# A plate shown on a page, or a slot's plates between spaces or ';'.
_SHOWN_PLATES = re.compile(r"[^\s;]+")


def written(plates: str | None) -> str:
    """Stored plates as a page shows them, as a guard types them back: an army plate stored as
    ED12345 written ED-12345 (grammar.as_written), which typed as shown is taken; ED12345 typed is
    refused as a green plate without its province (the pass page's materials plate was, filled in
    by the page itself: Review 67 J3). Any other plate, or a ticket, as it is; None as ''."""
    return _SHOWN_PLATES.sub(lambda plate: as_written(plate.group()), plates or "")


templates.env.filters["last_day"] = last_day
templates.env.filters["pass_span"] = pass_span
templates.env.filters["written"] = written
router = APIRouter(include_in_schema=False)


def _static_version() -> str:
    """Changes with any static file: a tablet never runs yesterday's script with today's page."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


STATIC_VERSION = _static_version()


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


def page_user(request: Request, db: sqlite3.Connection) -> Principal:
    who = identify(request, db, None, request.cookies.get(SESSION_COOKIE))
    if who is None:
        # The query too (a lookup, a filter): the guard comes back to the same page. Quoted here,
        # as the handler puts it in the login address as it is.
        query = request.url.query
        raise LoginRequired(quote(request.url.path + (f"?{query}" if query else ""), safe="/"))
    return who


def render(
    request: Request,
    db: sqlite3.Connection,
    who: Principal,
    name: str,
    active: str,
    boot: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    gw = guard_app(request).gw
    page_boot = {
        "csrf": who.csrf,
        "user": who.name,
        "lang": who.language,
        "texts": js_texts(who.language),
        **(boot or {}),
    }
    response = templates.TemplateResponse(
        request,
        name,
        {
            "t": translator(who.language),
            "who": who,
            "active": active,
            "site": gw.site.config.site,
            "boot": page_boot,
            "static_version": STATIC_VERSION,
            "alarm_count": to_acknowledge(db),
            **context,
        },
        headers={"Cache-Control": "no-store"},
    )
    if request.cookies.get(LANG_COOKIE) != who.language:
        remember_language(request, response, who.language)
    return response


def remember_language(request: Request, response: Response, language: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        language,
        max_age=365 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=guard_app(request).gw.site.config.http.tls,
    )


def _safe_next(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else "/"


# The login page's refusals (login.* words); a lock-out's wait in seconds goes with the last two.
# `ended`, `ended_undone`: a page's session ended under it, and cut off a change (app.js api).
LOCKED_ERRORS = ("too_many", "too_many_here")
# "storage": the login could not be made for storage (a card gone read-only past what a login kept
# in memory covers, or a database damaged: api/session.py _new_session).
LOGIN_ERRORS = ("failed", "expired", "ended", "ended_undone", "storage", *LOCKED_ERRORS)


@router.get("/login")
def login_page(
    request: Request,
    db: Db,
    next: Annotated[str, Query(max_length=200)] = "/",
    error: Annotated[str | None, Query(max_length=20)] = None,
    lang: Annotated[str | None, Query(max_length=2)] = None,
    user: Annotated[str, Query(max_length=64)] = "",
    wait: Annotated[str, Query(max_length=6)] = "",
    chose: Annotated[str, Query(max_length=1)] = "",
) -> Response:
    if identify(request, db, None, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    gw = guard_app(request).gw
    # Chosen on this page, else the last guard's here (LANG_COOKIE), else the site's.
    remembered = request.cookies.get(LANG_COOKIE)
    language = lang if lang in LANGUAGES else remembered if remembered in LANGUAGES else None
    language = language or gw.site.config.site.language
    csrf = secrets.token_urlsafe(24)
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "t": translator(language),
            "language": language,
            "site": gw.site.config.site,
            "csrf": csrf,
            "next": _safe_next(next),
            "user": user,
            "static_version": STATIC_VERSION,
            "error": error if error in LOGIN_ERRORS else None,
            "wait": int(wait) if wait.isascii() and wait.isdigit() and error in LOCKED_ERRORS else None,
            # Switched on this page (its language link): the form says so, and the login saves it.
            "chose": chose == "1" and lang in LANGUAGES,
        },
        headers={"Cache-Control": "no-store"},
    )
    # A browser-session cookie: a login page left open overnight still logs in (it is no secret
    # kept from the guard, only proof that the form came from this page).
    response.set_cookie(
        LOGIN_COOKIE,
        csrf,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=gw.site.config.http.tls,
    )
    return response


@router.post("/login")
def login_form(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=200)] = "/",
    lang: Annotated[str, Form(max_length=2)] = "",
    chose: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    app = guard_app(request)
    target = _safe_next(next)
    switched = chose == "1" and lang in LANGUAGES  # the guard switched the login page's language
    # The page comes back filled in, and in the language it was in (switched, it still says so).
    shown = {"lang": lang, **({"chose": "1"} if switched else {})} if lang in LANGUAGES else {}
    again = urlencode({"next": target, "user": username, **shown})
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()) or not same_origin(request):
        return RedirectResponse(f"/login?error=expired&{again}", status_code=303)
    try:
        account, token, _ = log_in(app, db, client_address(request), username, password)
    except LoginLocked as exc:
        # How long, as the API's Retry-After says: the guard at the gate must tell a minute from
        # an hour. Whether another account may log in meanwhile depends on which limit it is: not
        # when this tablet's address is over its limit (the admin's own password is refused too).
        error = "too_many_here" if exc.locked_by == "address" else "too_many"
        return RedirectResponse(f"/login?error={error}&wait={exc.seconds}&{again}", status_code=303)
    except ApiError:
        return RedirectResponse(f"/login?error=failed&{again}", status_code=303)
    except sqlite3.Error as exc:
        if not storage_failure(exc):
            raise
        # The guard's words on the page, not the API's JSON in English (the journal has the fix).
        data_dir = app.gw.data_dir
        fix = storage_fix(storage_cause(exc, data_dir), data_dir)
        log.error("a login by %r not made: %s (fix: %s)", username, exc, fix)
        return RedirectResponse(f"/login?error=storage&{again}", status_code=303)
    language = account.language or app.gw.site.config.site.language
    if switched and account.language is None and lang != language:
        # The guard switched the login page to his language and logs in: his pages stay in it. A
        # language the account has chosen already is kept. A page he did not switch is in the
        # last guard's language on a shared tablet (egw_lang, the logout's ?lang=): not his choice,
        # so his account is left alone and his pages are in his own language (else the site's).
        language = lang
        try:
            write(app.gw, lambda c: _first_language(c, app.gw.now(), account.username, account.id, lang))
        except sqlite3.Error as exc:
            if not storage_failure(exc):
                raise  # storage refused: his pages are in it by the cookie, his account's at a later login
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(app, response, token)
    remember_language(request, response, language)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _first_language(conn: sqlite3.Connection, at: datetime, actor: str, account_id: int, lang: str) -> None:
    if get_account(conn, account_id).language is None:  # chosen meanwhile on another tablet: kept
        update_account(conn, at, actor, account_id, language=lang)


@router.post("/logout")
def logout_form(request: Request, db: Db, csrf: Annotated[str, Form(max_length=100)]) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    who = identify(request, db, None, token)
    if who is not None and token:
        if not hmac.compare_digest(who.csrf.encode(), csrf.encode()) or not same_origin(request):
            # Not this session's own page (a form on another site): the session and its cookie stay.
            return RedirectResponse("/", status_code=303)
        end_login(guard_app(request).gw, token, who.name)
    # The login page in the language of the guard leaving (the next may switch it).
    default = guard_app(request).gw.site.config.site.language
    again = f"/login?lang={who.language}" if who is not None and who.language != default else "/login"
    response = RedirectResponse(again, status_code=303)
    if token:  # ended just now, or no session any more
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# Where the pages' forms go when app.js cannot run (a browser older than the pages need): a form
# with no method and action would send itself to its own page as a GET, the visitor's ID and phone
# numbers in the address bar and the shared tablet's history. Nothing sent is read or kept.
@router.post("/old-browser", response_class=HTMLResponse)
def old_browser(request: Request, db: Db) -> Response:
    who = identify(request, db, None, request.cookies.get(SESSION_COOKIE))
    language = who.language if who is not None else guard_app(request).gw.site.config.site.language
    return templates.TemplateResponse(
        request,
        "old_browser.html",
        {
            "t": translator(language),
            "language": language,
            "site": guard_app(request).gw.site.config.site,
            "static_version": STATIC_VERSION,
        },
        headers={"Cache-Control": "no-store"},
    )


def error_page(request: Request, status: int, error: Mapping[str, Any]) -> Response:
    """A guard page's error as a page (errors.answer): what went wrong in the guard's language,
    the session's (else the one the pages last left in LANG_COOKIE, else the site's), and a way back."""
    gw = guard_app(request).gw
    language = _error_language(request)
    t = translator(language)
    code, state = str(error.get("code", "")), error.get("state")
    if status == 404:
        said = t("errpage.not_found")
    elif code == "invalid_request" or status == 405:  # an id or a query not as the pages write them
        said = t("errpage.bad_address")
    else:
        worded = [f"err.{code}.{state}"] if isinstance(state, str) else []
        said = next((t(key) for key in [*worded, f"err.{code}"] if key in TEXTS), t("err.other"))
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "t": t,
            "language": language,
            "site": gw.site.config.site,
            "static_version": STATIC_VERSION,
            "said": said,
            "code": code,
        },
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _error_language(request: Request) -> str:
    gw = guard_app(request).gw
    try:
        with closing(open_read_only(gw.db_path, 2)) as conn:
            who = identify(request, conn, None, request.cookies.get(SESSION_COOKIE))
    except sqlite3.Error:  # the error may be the database's own: the page is still said
        who = None
    if who is not None:
        return who.language
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in LANGUAGES else gw.site.config.site.language


@router.get("/", response_class=HTMLResponse)
def live_page(request: Request, db: Db) -> Response:
    who = page_user(request, db)
    gw = guard_app(request).gw
    lanes = lane_list(gw)
    events = {lane["id"]: recent(gw, db, lane["id"], 8) for lane in lanes}
    return render(
        request,
        db,
        who,
        "live.html",
        "live",
        lanes=lanes,
        provinces=PROVINCES,
        boot={
            "lanes": lanes,
            "events": events,
            "status": lanes_status(gw),
            "silence_s": silence_limit_s(),
        },
    )


PLATE_LOG_PAGE = 50  # plate readings to a page of the plate log
# A plate searched with no day: today's readings and those of the days before searched. A piece of
# a plate is found by reading each record (no index holds pieces of plates): a busy estate's month
# is some 150,000 records, read in some 0.2 s for a plate none holds (Review 65H, 1,000,000 records
# over 180 days), a year's 2,000,000 would take seconds; a reading further back is found by its 日期.
PLATE_SEARCH_DAYS = 30


@router.get("/plates", response_class=HTMLResponse)
def plates_page(
    request: Request,
    db: Db,
    lane: Annotated[str | None, Query(max_length=40)] = None,
    refused: bool = False,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    plate: Annotated[str, Query(max_length=PLATE_TYPED_MAX)] = "",
    day: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Plate readings, newest first: each can be checked against its snapshot and corrected. A
    plate (or a piece of one, as 按车牌查找 on the occupancy page takes it) and a day (日期, in the
    site's zone) find a reading the office looks for days later: a busy estate reads some 4,000
    plates a day, and a reading of three days ago was 240 pages of "older" back."""
    who = page_user(request, db)
    gw = guard_app(request).gw
    plate_lanes = {lane.id: lane.name or lane.id for lane in gw.site.config.lanes if lane.type == "vehicle"}
    chosen = lane if lane in plate_lanes else None
    parts = _car_searched(plate)
    on_day = _day_asked(gw, day)
    span = None
    if on_day is not None:
        start = datetime.combine(on_day, time(0), gw.site.tz)
        span = dated(db, start, datetime.combine(on_day + timedelta(days=1), time(0), gw.site.tz))
    elif parts:
        today = datetime.combine(gw.now().astimezone(gw.site.tz).date(), time(0), gw.site.tz)
        # To tomorrow's end, not "to the newest": a reading a clock typed years ahead dated 2035
        # would stay in "the last 30 days" for good, its old id starting the range read.
        span = dated(db, today - timedelta(days=PLATE_SEARCH_DAYS), today + timedelta(days=2))
    # Asked for a day, or a plate over the last days, where no record is dated so: none to read.
    rows = []
    if span is not None or (on_day is None and not parts):
        rows = recent(
            gw,
            db,
            chosen,
            PLATE_LOG_PAGE,
            before=before,
            kind="plate",
            refused_only=refused,
            span=span,
            parts=parts,
        )
    shown_day = on_day.isoformat() if on_day is not None else ""
    older = None
    if len(rows) == PLATE_LOG_PAGE:  # the next page keeps what was asked
        asked = {
            "lane": chosen,
            "refused": "true" if refused else "",
            "plate": plate.strip(),
            "day": shown_day,
        }
        kept = {key: value for key, value in asked.items() if value}
        older = "/plates?" + urlencode({"before": row_id(db, rows[-1]["event_id"]), **kept})
    return render(
        request,
        db,
        who,
        "plates.html",
        "plates",
        rows=rows,
        plate_lanes=plate_lanes,
        lane=chosen,
        refused=refused,
        plate=plate.strip(),
        day=shown_day,
        searched_days=PLATE_SEARCH_DAYS if parts and on_day is None else None,
        older=older,
        provinces=PROVINCES,
    )


def _day_asked(gw: Gateway, text: str) -> date | None:
    """The plate log's 日期 as a date picker sends it (2026-01-05; 2026/1/5 typed by hand), or None
    for none."""
    if not text.strip():
        return None
    try:
        return parse_local(text, gw.site.tz).astimezone(gw.site.tz).date()
    except ValueError as exc:
        fix = f"pick the day, or write it {FORMS}"
        raise ApiError(422, "invalid_value", str(exc), fix, fields=["day"]) from None


# The passes a visitors' or contractors' list shows at first; 显示更多 shows as many again. A big
# estate has hundreds (Review 65H: 500 visiting and a week of those never seen leaving drew 850 rows,
# 405 KB, drawn again after each check-out); 查找 finds the one the guard wants.
PASSES_SHOWN = 100
PASSES_SHOWN_MAX = 10_000
Shown = Annotated[int, Query(ge=1, le=PASSES_SHOWN_MAX)]
ShownSent = Annotated[int, Form(ge=1, le=PASSES_SHOWN_MAX)]
PassQuery = Annotated[str, Query(max_length=60)]
PassForm = Annotated[str, Form(max_length=60)]
CsrfForm = Annotated[str, Form(max_length=100)]


@router.get("/visitors", response_class=HTMLResponse)
def visitors_page(request: Request, db: Db, q: PassQuery = "", shown: Shown = PASSES_SHOWN) -> Response:
    """The visitors page. Its search is sent as a form (visitors_search); `q` and `shown` are for an
    address typed by hand or a script's, which the pages never make."""
    who = page_user(request, db)
    return _visitors_answer(request, db, who, q, shown)


@router.post("/visitors", response_class=HTMLResponse)
def visitors_search(
    request: Request, db: Db, q: PassForm = "", shown: ShownSent = PASSES_SHOWN, csrf: CsrfForm = ""
) -> Response:
    """A search of the visitors page (查找, 显示更多): posted, as the lookup's is, so that what was
    typed (a visitor's name, her phone) is never in the address nor the shared tablet's history."""
    who = page_user(request, db)
    if not _sent_from_own_page(request, who, csrf):
        return RedirectResponse("/visitors", status_code=303)
    return _visitors_answer(request, db, who, q, shown, searched=True)


def _visitors_answer(
    request: Request, db: sqlite3.Connection, who: Principal, q: str, shown: int, searched: bool = False
) -> HTMLResponse:
    gw = guard_app(request).gw
    now = gw.now()
    # The default window's; the page's script asks again for the window the guard types.
    rules = visitor_rules_for(gw, pass_window(gw, None, None, now), now)
    listed = _pass_list(request, db, "visitor", q, shown, searched)
    return render(request, db, who, "visitors.html", "visitors", rules=rules, **listed)


@router.get("/contractors", response_class=HTMLResponse)
def contractors_page(request: Request, db: Db, q: PassQuery = "", shown: Shown = PASSES_SHOWN) -> Response:
    who = page_user(request, db)
    listed = _pass_list(request, db, "contractor", q, shown, False)
    return render(request, db, who, "contractors.html", "contractors", **listed)


@router.post("/contractors", response_class=HTMLResponse)
def contractors_search(
    request: Request, db: Db, q: PassForm = "", shown: ShownSent = PASSES_SHOWN, csrf: CsrfForm = ""
) -> Response:
    """A search of the contractors page, sent as the visitors page's is."""
    who = page_user(request, db)
    if not _sent_from_own_page(request, who, csrf):
        return RedirectResponse("/contractors", status_code=303)
    listed = _pass_list(request, db, "contractor", q, shown, True)
    return render(request, db, who, "contractors.html", "contractors", **listed)


def _pass_list(
    request: Request, db: sqlite3.Connection, kind: pass_store.PassKind, q: str, shown: int, searched: bool
) -> dict[str, Any]:
    """The first `shown` current passes of `kind` a search `q` finds (every one for none), as
    _pass_list.html lists them: how many in all, and what a check-out's reload sends again."""
    gw = guard_app(request).gw
    found = wanted(q, _car_searched(q))
    listed = pass_store.current_passes(db, kind, gw.now(), shown, seen_leaving(gw), found)
    return {
        "passes": [pass_out(gw, r) for r in listed.passes],
        "total": listed.total,
        "q": q.strip(),
        "shown": shown,
        "more_shown": min(shown + PASSES_SHOWN, PASSES_SHOWN_MAX),
        "list_path": f"/{kind}s",
        "searched": searched,
    }


@router.get("/passes/{pass_id}", response_class=HTMLResponse)
def pass_page(request: Request, db: Db, pass_id: Id) -> Response:
    who = page_user(request, db)
    gw = guard_app(request).gw
    row = pass_store.get_pass(db, pass_id)
    p = pass_out(gw, row, with_qr=True)
    active = "contractors" if p.kind == "contractor" else "visitors"
    # All of them: the first cabinets carried out on a three-month job are not to drop off the list.
    carried = materials_store.list_materials(db, pass_id=pass_id, limit=None)
    return render(
        request,
        db,
        who,
        "pass.html",
        active,
        p=p,
        qr=Markup(qr_svg(p.qr or "")),
        materials=[materials_view(gw, m) for m in carried],
        # A pass for no unit, or one nobody lives in: the guard names the owner's, as the API asks.
        ask_owner=materials_store.owner_to_name(db, p.host_building, p.host_unit, gw.now()),
        # 延期 Extend: an admin's, on a pass not ended and not the centre's (which extends its own).
        extend=who.is_admin and row["ref"] is None and not row["checked_out_at"],
    )


@router.get("/lookup", response_class=HTMLResponse)
def lookup_page(request: Request, db: Db, q: Annotated[str, Query(max_length=60)] = "") -> Response:
    """The lookup page. Its search is sent as a form (lookup_search); `q` is for an address typed
    by hand or a script's, which the pages never make."""
    who = page_user(request, db)
    return _lookup_answer(request, db, who, q)


@router.post("/lookup", response_class=HTMLResponse)
def lookup_search(
    request: Request,
    db: Db,
    q: Annotated[str, Form(max_length=60)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A search sent from the lookup page. Posted, so that what was typed (a resident's phone
    number) is never in the address, nor so in the shared tablet's history; the answer is the page
    at /lookup. A session ended meanwhile goes to the login with /lookup alone as `next`."""
    who = page_user(request, db)
    if not _sent_from_own_page(request, who, csrf):
        # One drawn before a login on another tab, or a form on another site: nothing searched,
        # the page drawn afresh with this session's token.
        return RedirectResponse("/lookup", status_code=303)
    return _lookup_answer(request, db, who, q)


def _sent_from_own_page(request: Request, who: Principal, csrf: str) -> bool:
    """Whether a form came from a page drawn for this session: its token, from this gateway."""
    return bool(who.csrf) and hmac.compare_digest(who.csrf.encode(), csrf.encode()) and same_origin(request)


def _lookup_answer(request: Request, db: sqlite3.Connection, who: Principal, q: str) -> HTMLResponse:
    gw = guard_app(request).gw
    ten_digits, readings = register_ten_digits(gw.site.config), typed_readings(gw.site.config)
    found = (
        registry.search(db, gw.secrets, q, ten_digits=ten_digits, readings=readings)
        if q.strip()
        else registry.Found([], 0)
    )
    results = [resident_out(gw, who, r) for r in found.residents]
    # A slot's zone by the name the occupancy page gives it (车库/B001), not its id (main/B001).
    zone_names = {z.id: z.name for z in gw.site.config.zones}
    return render(
        request,
        db,
        who,
        "lookup.html",
        "lookup",
        q=q,
        results=results,
        total=found.total,
        zone_names=zone_names,
    )


CARS_INSIDE_SHOWN = 200  # the newest; a search by plate finds the rest
_DIGITS = re.compile(r"[0-9]+")
# The mark on such a car's row in English (ticket.button), typed as read: found nothing, while an
# English keyboard cannot type 无牌车 (Review 66 F2). Any case, a space, a hyphen or none.
_NO_PLATE_IN_ENGLISH = re.compile(r"no[\s-]*plate", re.IGNORECASE)


def _car_searched(text: str) -> tuple[str, ...]:
    """What a guard typed into 按车牌查找 as the pieces of a stored plate it searches, a car found by
    any (none: every car): 无牌车 or No plate (the mark on such a car's row) as every ticket; a
    ticket, or its number, as the exit takes it (0303 01, 030301, 0303—01, 0303-1000) and a piece of
    one (无牌-0303, a long ticket's first line on the LED; 0303-1) as the ticket is stored, with its
    dashes, which the plate grammar's reading drops; else the plate as the grammar reads it (粤B12).
    Digits alone that are a ticket's number are a plate's piece too (030301 in 使030301): both are
    searched. A plate, or a piece, with an I or O in its serial is searched with them read as 1 or
    0 as well (苏E1OOO1 finds 苏E10001, as the lookup reads it: registry.search)."""
    if says_no_plate(text) or _NO_PLATE_IN_ENGLISH.fullmatch(typed(text)):
        return (PREFIX,)
    plate = normalize_plate(text)
    ticket = as_ticket_or_number(text)
    if ticket is not None:
        return (ticket, plate) if _DIGITS.fullmatch(typed(text)) else (ticket,)
    piece = ticket_piece(text)
    if piece:
        return (piece,)
    return tuple(p for p in dict.fromkeys((plate, serial_as_digits(text))) if p)


@router.get("/occupancy", response_class=HTMLResponse)
def occupancy_page(
    request: Request, db: Db, plate: Annotated[str, Query(max_length=PLATE_TYPED_MAX)] = ""
) -> Response:
    """The counts per zone and class, and the cars recorded inside (newest first, or those whose
    plate holds what was typed); an admin records a car found inside, or marks one as left."""
    who = page_user(request, db)
    gw = guard_app(request).gw
    names = {z.id: z.name for z in gw.site.config.zones}
    parts = _car_searched(plate)
    cars = open_stays(db, limit=CARS_INSIDE_SHOWN, parts=parts)
    for car in cars:
        car["entered_at"] = local(gw, car["entered_at"])
    return render(
        request,
        db,
        who,
        "occupancy.html",
        "occupancy",
        zones=occupancy(db, gw.site.capacity, names, gw.stays_leaving),  # as the entrance counts
        people_inside=people_inside(db),
        cars=cars,
        cars_total=count_open_stays(db, parts),
        plate=plate,
        zone_names=names,
    )


SET_ASIDE_SHOWN = 100  # the oldest; "send all again" takes every one


@router.get("/alarms", response_class=HTMLResponse)
def alarms_page(request: Request, db: Db, all: bool = False) -> Response:
    who = page_user(request, db)
    gw = guard_app(request).gw
    lane_names = gw.site.lane_names()
    alarms = recent_alarms(db, all, language=who.language, lane_names=lane_names)
    for row in alarms:
        row["clips"] = alarm_clips(gw.clips, db, row)
        row["raised_at"] = local(gw, row["raised_at"])  # type: ignore[arg-type]
        row["cleared_at"] = local(gw, row["cleared_at"])  # type: ignore[arg-type]
        # Who acknowledged it as the pages name him: 张师傅, the centre's 监控中心（zhang.wei）, in
        # English Monitoring centre (zhang.wei).
        by = row["acknowledged_by"]
        row["acknowledged_by"] = by and shown_actor(db, str(by), who.language)
    known = {k for k in TEXTS if k.startswith("alarm.")}
    held = set_aside(db, SET_ASIDE_SHOWN) if who.is_admin else []  # an admin sends them again here
    held_at = {row.seq: local(gw, row.set_aside_at or None) or "" for row in held}
    return render(
        request,
        db,
        who,
        "alarms.html",
        "alarms",
        alarms=alarms,
        alarm_total=count_alarms(db, all),
        show_all=all,
        known_alarms=known,
        lane_names=lane_names,  # an alarm's source line names a lane as the config does too
        set_aside=held,
        set_aside_at=held_at,
        set_aside_total=count_set_aside(db) if held else 0,
    )


AUDIT_PAGE = 300  # audit rows to a page of the audit trail
# Older rows than a page's counted at most: the page says 共 3300 条以上 (3,300 or more) past it. A
# filter's rows are counted one by one, and a year's trail holds some 330,000 (Review 64E).
AUDIT_COUNTED = 3000


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    db: Db,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Who changed what, newest first, a page at a time: a payment a driver disputes a week later
    is a few thousand `payment.take` rows back, and cut at one page it could not be reached."""
    who = page_user(request, db)
    gw = guard_app(request).gw
    # Read as the login reads a user name (ｇｕａｒｄ１, `guard1 ` from a tablet's keyboard is guard1).
    by, what = typed_username(actor or "") or None, typed(action or "") or None
    # One row more than the page: "older" is offered only where there is an older row to show.
    rows = recent_audit(db, AUDIT_PAGE + 1, by, what, before=before)
    older = rows[AUDIT_PAGE - 1]["id"] if len(rows) > AUDIT_PAGE else None
    rows = rows[:AUDIT_PAGE]
    t, lane_names = translator(who.language), gw.site.lane_names()
    for row in rows:
        row["clips"] = opening_clips(gw.clips, db, row)
        row["at"] = local(gw, row["at"])
        if row["action"] == "payment.take" and row["detail"]:  # stored as the centre reads it
            row["detail"] = payment_detail(row["detail"], t, lane_names)
        elif row["action"] == "payment.method" and row["detail"]:
            row["detail"] = method_detail(row["detail"], t)
        elif row["action"] == "vehicle.update" and row["detail"]:
            row["detail"] = vehicle_detail(row["detail"], t)
        elif row["action"] == "shift.handover" and row["detail"]:
            row["detail"] = handover_detail(row["detail"], t)
    # Where its rows stand in the whole list: those newer than this page (none on the first), and
    # those older, as many as there are up to AUDIT_COUNTED.
    newer = count_audit(db, by, what, start=before) if before else 0
    further = count_audit(db, by, what, before=older, most=AUDIT_COUNTED) if older else 0
    kept = {k: v for k, v in (("actor", by), ("action", what)) if v}
    return render(
        request,
        db,
        who,
        "audit.html",
        "audit",
        rows=rows,
        actor=actor,
        action=action,
        worded=AUDIT_ACTIONS,
        total=newer + len(rows) + further,
        at_least=further >= AUDIT_COUNTED,
        newer=newer,
        older_href=f"/audit?{urlencode({**kept, 'before': older})}" if older else None,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, db: Db) -> Response:
    who = page_user(request, db)
    if not who.is_admin:
        return HTMLResponse(translator(who.language)("admin.only"), status_code=403)
    gw = guard_app(request).gw
    tokens = list_tokens(db)
    for row in tokens:
        for key in ("created_at", "expires_at", "revoked_at"):
            row[key] = local(gw, row[key])
    accounts = list_accounts(db)
    # Each account's making and last login, in the site's time to the minute (the row's small line).
    account_times = {
        a.id: tuple((local(gw, at) or "")[:16].replace("T", " ") for at in (a.created_at, a.last_login_at))
        for a in accounts
    }
    return render(
        request,
        db,
        who,
        "admin.html",
        "admin",
        accounts=accounts,
        account_times=account_times,
        tokens=tokens,
        zones=gw.site.config.zones,
    )
