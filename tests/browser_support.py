"""Helpers for the workbench tests: seed cases through the JSON API, and drive Debian's headless
Chromium with Playwright's sync API (no browser download: ``executable_path``)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from classifiers.paths import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
PASSWORDS = {name: f"{name}-pass-1" for name in ("sup", "civil", "farm", "ana", "grid")}

XSS = '<script>alert("xss")</script><img src=x onerror="alert(2)">'
# One event reported by three people (the clustering flags it for joint review).
SAME_EVENT = [
    ("13600000101", "河湾村的刘主任把他两个侄子都弄成了低保户，他们家开着小轿车"),
    ("13600000102", "我们河湾村低保评得不公平，村主任刘长贵的亲戚都吃上了低保"),
    ("13600000103", "喂那个我是和湾村的就是刘主任家亲戚吃低保的事情我们都不服"),
]


@dataclass
class Seeded:
    """Case numbers of the seeded cases, by what each is for."""

    numbers: dict[str, str] = field(default_factory=dict)
    event: list[str] = field(default_factory=list)
    event_id: str | None = None

    def __getitem__(self, key: str) -> str:
        return self.numbers[key]


def file_case(url: str, text: str, phone: str | None = None, **extra) -> dict:
    body = {"text": text, **extra}
    if phone:
        body["phone"] = phone
    r = httpx.post(url + "/api/v1/complaints", json=body, params={"classify": "now"}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def unit_ids(service, token: str) -> dict[str, int]:
    return {u["name"]: u["id"] for u in service.client(token).get("/api/v1/units").json()}


def seed(service) -> Seeded:
    """The cases the workbench tests work on, filed and moved through the JSON API."""
    url = service.url
    sup_token = service.login("sup", PASSWORDS["sup"])
    sup = service.client(sup_token)
    units = unit_ids(service, sup_token)
    out = Seeded()
    # A terse 清单外 text: too little to refer without a look, so it waits in 待审核.
    out.numbers["out"] = file_case(url, "邻居家狗天天叫", "13600000001")["number"]
    out.numbers["xss"] = file_case(
        url,
        f"{XSS}村里的光伏收益说是给大家分红，几年了一分钱没见到",
        "13600000002",
        name='<b onmouseover="alert(3)">王</b>',
        township="城关镇",
        village="柳树村",
    )["number"]
    out.numbers["contact"] = file_case(
        url, "特困供养金被村会计扣了两个月", "13600000003", name="李秀英", township="城关镇"
    )["number"]
    out.numbers["to_close"] = file_case(
        url,
        "我们柳树村低保评定不公平，村主任把名额给了他侄子",
        "13600000004",
        name="赵大姐",
        township="城关镇",
        village="柳树村",
    )["number"]
    out.numbers["farm"] = file_case(
        url, "村里集体厂房租给了书记的儿子，一年才收两千块", "13600000005", township="南港镇"
    )["number"]
    out.numbers["to_merge"] = file_case(
        url, "柳树村修路的钱被村长拿走一半，路到现在没修好", "13600000006", village="柳树村"
    )["number"]
    out.numbers["merge_lead"] = file_case(
        url, "柳树村那条路偷工减料，修路款不知去向", "13600000007", village="柳树村"
    )["number"]
    for phone, text in SAME_EVENT:
        out.event.append(file_case(url, text, phone, township="城关镇", village="河湾村")["number"])
    for key, unit in (
        ("contact", "城关镇民政办"),
        ("to_close", "城关镇民政办"),
        ("farm", "城关镇农经站"),
    ):
        r = sup.post(f"/api/v1/cases/{out[key]}/assign", json={"unit_id": units[unit]})
        assert r.status_code == 200, r.text
    out.event_id = _wait_for_event(sup, out.event)
    return out


def _wait_for_event(client: httpx.Client, numbers: list[str], seconds: float = 30) -> str:
    """The background clustering groups the three reports into one joint-review event."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cases = [client.get(f"/api/v1/cases/{n}").json() for n in numbers]
        ids = {c["event_id"] for c in cases}
        if len(ids) == 1 and None not in ids and all(c["joint_review"] for c in cases):
            return ids.pop()
        time.sleep(0.3)
    raise AssertionError(f"event not formed: {[(c['number'], c['event_id']) for c in cases]}")


def demo_accounts(database_url: str) -> None:
    """The demo units and accounts of tests/conftest.py's ``service`` fixture, written in this
    process (one schema migration and five password hashes) instead of by eight `hotline`
    commands, each of which loads the whole service: 1 s instead of about 30."""
    from api.auth import hash_password
    from api.db import make_engine, migrate, session_factory
    from api.models import Unit, User

    engine = make_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine)
    with session_factory(engine)() as session, session.begin():
        units = {
            name: Unit(name=name, kind=kind, township="城关镇", village=village)
            for name, kind, village in (
                ("城关镇民政办", "civil_affairs", None),
                ("河湾村村委会", "village_committee", "河湾村"),
                ("城关镇农经站", "rural_economy", None),
            )
        }
        session.add_all(units.values())
        for username, role, unit in (
            ("sup", "supervisor", None),
            ("civil", "handler", "城关镇民政办"),
            ("farm", "handler", "城关镇农经站"),
            ("ana", "analyst", None),
            ("grid", "grid_worker", None),
        ):
            session.add(
                User(
                    username=username,
                    display_name=username,
                    password_hash=hash_password(PASSWORDS[username]),
                    role=role,
                    unit=units[unit] if unit else None,
                    active=True,
                )
            )
    engine.dispose()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base: str, username: str, password: str | None = None) -> None:
    page.goto(base + "/workbench/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or PASSWORDS[username])
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/workbench/login" not in page.url, f"{username} could not log in"
