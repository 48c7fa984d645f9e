"""Case-service jobs for the command line: accounts, units, the daily review."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from api.auth import Role, hash_password


def _context():
    from api.app import build_context
    from api.settings import Settings

    return build_context(Settings())


def cmd_create_user(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from api.models import Unit, User

    password = args.password or getpass.getpass("密码：")
    if len(password) < 8:
        sys.exit("hotline: 密码至少8位")
    phone = None
    if args.phone:
        from api.outbox import sms_number

        phone = args.phone.replace(" ", "").replace("-", "").removeprefix("+86")
        if sms_number(phone) is None:
            sys.exit("hotline: --phone 应为11位手机号")
    ctx = _context()
    with ctx.sessions() as session, session.begin():
        unit = None
        if args.unit:
            unit = session.scalars(select(Unit).where(Unit.name == args.unit)).first()
            if unit is None:
                sys.exit(f"hotline: 没有办理单位“{args.unit}”，先用 hotline create-unit 创建")
        if args.role == Role.HANDLER and unit is None:
            sys.exit("hotline: 办理人员必须属于一个办理单位（--unit）")
        if session.scalars(select(User).where(User.username == args.username)).first():
            sys.exit(f"hotline: 用户名{args.username}已存在")
        session.add(
            User(
                username=args.username,
                display_name=args.name or args.username,
                password_hash=hash_password(password),
                role=args.role,
                unit_id=unit.id if unit else None,
                township=args.township,
                phone=phone,
            )
        )
    print(f"created {args.role} {args.username}")
    return 0


def cmd_create_unit(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from api.models import Unit

    ctx = _context()
    with ctx.sessions() as session, session.begin():
        if session.scalars(select(Unit).where(Unit.name == args.name)).first():
            sys.exit(f"hotline: 办理单位“{args.name}”已存在")
        unit = Unit(name=args.name, kind=args.kind, township=args.township, village=args.village)
        session.add(unit)
    print(f"created unit {unit.id} {args.name}")
    return 0


def cmd_daily_review(args: argparse.Namespace) -> int:
    from api.daily_review import daily_review
    from api.job_health import record_run

    ctx = _context()
    try:
        with ctx.sessions() as session, session.begin():
            report = daily_review(session, ctx.rules, None, escalate=not args.dry_run)
    except Exception as exc:  # the 运行状态 panel shows the failure (api.job_health)
        record_run(ctx.sessions, "daily_review", False, f"{type(exc).__name__}: {exc}", every=0)
        raise
    if not args.dry_run:
        record_run(ctx.sessions, "daily_review", True, every=0)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0


def cmd_unlock_user(args: argparse.Namespace) -> int:
    """Lift a staff account's login lock (after too many wrong passwords), and optionally a
    client address's."""
    from sqlalchemy import select

    from api.logins import unlock, unlock_client
    from api.models import User

    ctx = _context()
    with ctx.sessions() as session:
        if session.scalars(select(User.id).where(User.username == args.username)).first() is None:
            sys.exit(f"hotline: 没有账号 {args.username}")
    lifted = unlock(ctx, args.username)
    print(f"{args.username}: {'已解锁' if lifted else '未被锁定'}")
    if args.client:
        lifted = unlock_client(ctx, "addr:" + args.client)
        print(f"{args.client}: {'已解锁' if lifted else '未被锁定'}")
    return 0


def ensure_first_supervisor(sessions) -> Path | None:
    """On a fresh database, create a supervisor account ``admin`` with a random password, kept
    only in var/initial-admin.txt (mode 600, never printed or logged) so the office can log in
    and create real accounts. Returns that file's path when the account was created."""
    import secrets

    from sqlalchemy import func, select

    from api.models import User
    from classifiers.paths import var_dir

    with sessions() as session, session.begin():
        if session.scalar(select(func.count()).select_from(User)):
            return None
        password = secrets.token_urlsafe(12)
        session.add(
            User(
                username="admin",
                display_name="初始管理员",
                role=Role.SUPERVISOR,
                password_hash=hash_password(password),
            )
        )
    note = var_dir() / "initial-admin.txt"
    note.touch(mode=0o600)
    note.chmod(0o600)  # before the password is in it
    note.write_text(f"username: admin\npassword: {password}\n", encoding="utf-8")
    return note


def register(sub) -> None:
    p = sub.add_parser("create-user", help="create a staff account")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--password", help="(prompted when absent)")
    p.add_argument("--name", help="display name")
    p.add_argument("--unit", help="handling unit name (handlers)")
    p.add_argument("--township")
    p.add_argument("--phone", help="mobile (a grid worker gets receipts for residents without)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("create-unit", help="create a handling unit")
    p.add_argument("name")
    p.add_argument("--kind", required=True, help="a taxonomy unit kind or village_committee")
    p.add_argument("--township")
    p.add_argument("--village")
    p.set_defaults(func=cmd_create_unit)

    p = sub.add_parser("unlock-user", help="lift a staff account's login lock")
    p.add_argument("username")
    p.add_argument("--client", help="also lift the lock of this client address (e.g. 10.0.0.5)")
    p.set_defaults(func=cmd_unlock_user)

    p = sub.add_parser("daily-review", help="日盘点: due soon and overdue; escalates overdue")
    p.add_argument("--dry-run", action="store_true", help="list only, escalate nothing")
    p.set_defaults(func=cmd_daily_review)
