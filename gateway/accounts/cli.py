"""`gateway user ...` and `gateway token ...`: the first admin is made here, never by default."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.accounts.passwords import hash_password, password_refusal, username_problem
from gateway.config import load_config
from gateway.errors import GatewayError
from gateway.store import accounts as store
from gateway.store.database import DB_NAME, open_database
from gateway.timefmt import from_db


def add_arguments(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    user = sub.add_parser(
        "user",
        help="guard and admin accounts of the guard pages",
        description="Guard and admin accounts. The first admin is made here.",
    )
    users = user.add_subparsers(metavar="ACTION", required=True)

    add = users.add_parser("add", help="add an account (prompts for its password)")
    add.add_argument("-c", "--config", required=True, help="site config file (TOML)")
    add.add_argument("username")
    role = add.add_mutually_exclusive_group()
    role.add_argument(
        "--admin",
        action="store_const",
        dest="role",
        const="admin",
        help="an admin: manages accounts, residents, cards and contractor passes",
    )
    role.add_argument(
        "--guard", action="store_const", dest="role", const="guard", help="a guard (the default)"
    )
    add.add_argument(
        "--display-name",
        default="",
        help=f"shown in the audit trail, e.g. 张师傅 ({store.DISPLAY_NAME_LENGTH} characters at most)",
    )
    add.add_argument("--language", choices=["zh", "en"], help="the account's page language")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (for scripts)",
    )
    add.set_defaults(func=cmd_user_add, role="guard")

    passwd = users.add_parser("passwd", help="set an account's password (ends its sessions)")
    passwd.add_argument("-c", "--config", required=True)
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(func=cmd_user_passwd)

    listing = users.add_parser("list", help="list accounts")
    listing.add_argument("-c", "--config", required=True)
    listing.set_defaults(func=cmd_user_list)

    token = sub.add_parser(
        "token",
        help="API tokens for machine clients",
        description="API tokens for machine clients; shown once when made.",
    )
    tokens = token.add_subparsers(metavar="ACTION", required=True)
    tadd = tokens.add_parser("add", help="make a token and print it once")
    tadd.add_argument("-c", "--config", required=True)
    tadd.add_argument("name", help=f"names the client in the audit trail: {store.TOKEN_NAME_RULE}")
    tadd.add_argument("--role", choices=["guard", "admin"], default="guard")
    tadd.add_argument(
        "--days",
        help=f"expire after this many days, {store.TOKEN_DAYS[0]} to {store.TOKEN_DAYS[1]} "
        "(leave it out: never expires)",
    )
    tadd.set_defaults(func=cmd_token_add)


def cli_actor() -> str:
    """Who runs a command on the box, for the audit trail: `cli:USER`, or `cli:USER (sudo PERSON)`
    when run through sudo. README has every command run as `sudo -u estate-gateway gateway ...`,
    which makes USER the service's user for everyone; SUDO_USER names which of the staff it was."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid{os.getuid()}"
    # Printable and short: it is a line of the audit page, not the place for what the env holds.
    sudo = "".join(ch for ch in os.environ.get("SUDO_USER", "") if ch.isprintable()).strip()[:32]
    if sudo and sudo != user:
        return f"cli:{user} (sudo {sudo})"
    return f"cli:{user}"


def _password(username: str, from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        try:
            password = getpass.getpass(f"password for {username}: ")
            again = getpass.getpass("again: ")
        except EOFError:  # Ctrl-D at the prompt: given up, as with Ctrl-C (exit 130, nothing changed)
            print(file=sys.stderr)  # the shell's prompt on a line of its own, not after ours
            raise KeyboardInterrupt from None
        if again != password:
            raise GatewayError("the two passwords differ", fix="run the command again")
    refusal = password_refusal(username, password)
    if refusal:
        problem, fix = refusal
        raise GatewayError(problem, fix=fix)
    return password


def _open(config: str) -> tuple[object, ZoneInfo]:
    cfg = load_config(config)
    db = open_database(cfg.site.data_dir / DB_NAME, sync=cfg.storage.sync)
    return db, ZoneInfo(cfg.site.timezone)


def cmd_user_add(args: argparse.Namespace) -> int:
    problem = username_problem(args.username)
    if problem:
        raise GatewayError(problem, fix="choose another user name")
    # Said before the password is typed: the store refuses such a name too, but only after it.
    name_problem = store.display_name_problem(args.display_name)
    if name_problem:
        raise GatewayError(
            name_problem,
            fix=f"give a --display-name of {store.DISPLAY_NAME_LENGTH} characters or fewer, e.g. 张师傅",
        )
    db, tz = _open(args.config)
    conn = db.conn  # type: ignore[attr-defined]
    try:
        taken = store.find_account(conn, args.username)
        if taken is not None and taken.disabled:
            # A former guard's: the audit trail names what he did under it, so it is never handed on.
            raise GatewayError(
                f"the user name {args.username!r} belongs to a disabled account (a former user)",
                fix=f"choose another user name for the new person, e.g. {args.username}2",
            )
        if taken is not None:
            raise GatewayError(
                f"the user name {args.username!r} is taken",
                fix=f"choose another user name; to set that account's password, "
                f"`gateway user passwd -c {args.config} {taken.username}`",
            )
        hashed = hash_password(_password(args.username, args.password_stdin))
        store.create_account(
            conn,
            datetime.now(tz),
            cli_actor(),
            args.username,
            args.display_name,
            args.role,
            hashed,
            args.language,
        )
    finally:
        conn.close()
    print(f"added {args.role} {args.username}; log in on the guard page with this password")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    db, tz = _open(args.config)
    conn = db.conn  # type: ignore[attr-defined]
    try:
        account = store.find_account(conn, args.username)
        if account is None:
            raise GatewayError(
                f"no account {args.username!r}",
                fix=f"list them with `gateway user list -c {args.config}`",
            )
        # A new password would not let a disabled account log in, and would ready a dismissed
        # guard's account for whoever enables it: refused, saying why the login fails; before the
        # password is typed, and again as it is written (disabled on the admin page meanwhile).
        disabled = GatewayError(
            f"the account {account.username!r} is disabled: it cannot log in, whatever its password",
            fix="if that person still works here, an admin enables it on the admin page "
            "(管理 → 账号 → 启用 Enable; a new password can be set there too); for a new person, "
            f"`gateway user add -c {args.config} {account.username}2`",
        )
        if account.disabled:
            raise disabled
        hashed = hash_password(_password(args.username, args.password_stdin))
        store.update_account(
            conn,
            datetime.now(tz),
            cli_actor(),
            account.id,
            password_hash=hashed,
            refused_if_disabled=disabled,
        )
    finally:
        conn.close()
    print(f"password of {args.username} changed; its sessions have ended")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    db, tz = _open(args.config)
    conn = db.conn  # type: ignore[attr-defined]
    try:
        accounts = store.list_accounts(conn)
    finally:
        conn.close()
    if not accounts:
        print(f"no accounts yet: add the first admin with `gateway user add -c {args.config} --admin NAME`")
    for a in accounts:
        state = " (disabled)" if a.disabled else ""
        # Who made it and when, and its last login: the installer's old account told apart later.
        made = f"made {_minute(a.created_at, tz)} by {a.created_by or '?'}"
        last = f"last login {_minute(a.last_login_at, tz)}" if a.last_login_at else "never logged in"
        print(f"{a.username:<20} {a.role:<6} {a.display_name}{state}  ({made}; {last})")
    return 0


def _minute(stored: str, tz: ZoneInfo) -> str:
    at = from_db(stored)
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "?"


def _token_days(text: str | None) -> int | None:
    """--days as the admin page takes it, or a GatewayError (exit 1, as README says) with the range
    and the fix: `--days 90d` was argparse's usage line and exit 2, unlike `--days 0`."""
    if text is None:
        return None
    fewest, most = store.TOKEN_DAYS
    never = "or leave --days out for a token that never expires (until revoked)"
    try:
        days = int(text)
    except ValueError:
        raise GatewayError(
            f"--days {text}: not a whole number of days",
            fix=f"give the days as a number, {fewest} to {most} (--days 90), {never}",
        ) from None
    days_problem = store.token_days_problem(days)
    if days_problem:
        bound = f"{fewest} or more" if days < fewest else f"{most} or fewer"
        raise GatewayError(f"--days {days}: {days_problem}", fix=f"give --days {bound}, {never}")
    return days


def cmd_token_add(args: argparse.Namespace) -> int:
    # The admin page's rules (store.token_*_problem): a name that names the client in the audit
    # trail, and a life Python's dates can hold (--days 9999999 ended in an OverflowError).
    name_problem = store.token_name_problem(args.name)
    if name_problem:
        raise GatewayError(name_problem, fix="give the client's name, e.g. property-tools or booth-2")
    days = _token_days(args.days)
    db, tz = _open(args.config)
    conn = db.conn  # type: ignore[attr-defined]
    now = datetime.now(tz)
    try:
        expires = now + timedelta(days=days) if days is not None else None
        _, token = store.create_token(conn, now, cli_actor(), args.name, args.role, expires)
    finally:
        conn.close()
    print(f"API token {args.name} ({args.role}); store it now, it is not shown again:")
    print(token)
    return 0
