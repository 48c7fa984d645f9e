"""The residents' chat page in a real browser (Debian's Chromium at a phone's 390×844) against
the real stack: case service, Rasa and the action server as `hotline up` runs them. A filing
from a village poster by taps and a few typed messages, the village picker, a lost connection,
the status page, a rating, and axe-core's accessibility check. Screenshots go to
test-artifacts/screenshots/chat-*.png."""

from __future__ import annotations

import re
import secrets
import socket
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack
from tests import browser_support as bs

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE_VIEW = {"width": 390, "height": 844}
POSTER = "/chat?v=" + quote("河湾村") + "&t=" + quote("城关镇")
STORY = "村主任把他两个侄子都弄成了低保户，人家开着小轿车，真正困难的王大爷却没评上"


def port_in(low: int, high: int) -> int:
    """A free port in this suite's range (8700–8799 for the service, 5700–5799 for Rasa)."""
    for port in range(low + secrets.randbelow(high - low), high):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@pytest.fixture(scope="module")
def stack(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("chat-stack")
    running = Stack(
        home,
        service_env(home, model_path, None),
        train_bot(),
        api_port=port_in(8700, 8800),
        actions_port=port_in(5700, 5750),
        rasa_port=port_in(5750, 5800),
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def staff(stack) -> httpx.Client:
    password = re.search(r"password: (\S+)", (stack.home / "initial-admin.txt").read_text())[1]
    token = httpx.post(
        f"{stack.api_url}/api/v1/auth/token", json={"username": "admin", "password": password}
    ).json()["access_token"]
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = bs.launch(playwright)
    yield chromium
    chromium.close()
    playwright.stop()


class Phone:
    """One resident's phone: a fresh browser profile (its own localStorage)."""

    def __init__(self, browser, base: str) -> None:
        self.context = browser.new_context(
            viewport=PHONE_VIEW,
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
        )
        self.context.set_default_timeout(30_000)
        self.page = self.context.new_page()
        self.base = base
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.actions = 0  # taps and typed messages sent

    def open(self, path: str = "/chat") -> None:
        self.page.goto(self.base + path)

    def bot_count(self) -> int:
        return self.page.locator("#log .bot").count()

    def _wait_answer(self, before: int) -> None:
        self.page.wait_for_function(
            "n => document.querySelectorAll('#log .bot').length > n"
            " && !document.querySelector('#log .waiting')",
            arg=before,
        )

    def _answer(self, before: int) -> str:
        """What the bot said in answer (every message after the ``before`` first)."""
        self._wait_answer(before)
        return "\n".join(self.page.locator("#log .bot").all_inner_texts()[before:])

    def tap(self, title: str) -> str:
        before = self.bot_count()
        self.page.locator("#choices button", has_text=re.compile(f"^{title}$")).click()
        self.actions += 1
        return self._answer(before)

    def type(self, text: str) -> str:
        before = self.bot_count()
        self.page.fill("#text", text)
        self.page.locator("#say button[type=submit]").click()
        self.actions += 1
        return self._answer(before)

    def last_bot(self) -> str:
        return self.page.locator("#log .bot").last.inner_text()

    def choices(self) -> list[str]:
        return self.page.locator("#choices button").all_inner_texts()

    def axe(self) -> list[tuple[str, list]]:
        # Evaluated over the DevTools protocol: the page's CSP (no inline script) stays on.
        self.page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
        result = self.page.evaluate("() => axe.run(document)")
        return [
            (v["id"], [n["target"] for n in v["nodes"]])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


def _case(staff: httpx.Client, number: str) -> dict:
    r = staff.get(f"/api/v1/cases/{number}")
    assert r.status_code == 200, r.text
    return r.json()


def test_filing_from_a_village_poster(stack, staff, browser):
    phone = Phone(browser, stack.api_url)
    phone.open(POSTER)
    assert "城关镇河湾村" in phone.page.locator("header").inner_text()
    assert phone.choices() == ["反映问题", "查询进度", "政策咨询", "转人工"]
    size = phone.page.evaluate("getComputedStyle(document.body).fontSize")
    assert float(size.rstrip("px")) >= 18
    bs.shot(phone.page, "chat-1-start")
    phone.tap("反映问题")
    phone.type(STORY)
    after_story = phone.actions
    # The poster told the village: the next question is 匿名/留名, never the village.
    assert phone.choices() == ["匿名", "留名"], phone.last_bot()
    # Closed and opened again mid-way: what was said and the open question are still there,
    # and the bot carries on with the same conversation.
    phone.page.reload()
    assert STORY in phone.page.locator("#log").inner_text()
    assert phone.choices() == ["匿名", "留名"]
    phone.tap("匿名")
    resident_phone = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    phone.type(resident_phone)
    # Nothing else missing: filed at once, then what was stored, to correct if wrong.
    assert "河湾村" in phone.last_bot() and phone.choices() == ["没问题", "要改"]
    bs.shot(phone.page, "chat-2-filed-record")
    card = phone.page.locator("#log .case")
    number = card.locator(".num").inner_text()
    assert re.fullmatch(r"\d{8}", number)
    assert "保存" in card.inner_text()
    phone.tap("没问题")
    assert "就按这个办" in phone.page.locator("#log").inner_text()
    assert phone.actions - after_story <= 5
    phone.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card.get_by_role("button", name="复制案件号").click()
    card.get_by_role("button", name="已复制").wait_for()
    assert phone.page.evaluate("navigator.clipboard.readText()") == number
    bs.shot(phone.page, "chat-3-filed")
    stored = _case(staff, number)
    assert (stored["township"], stored["village"]) == ("城关镇", "河湾村")
    assert stored["anonymous"] is True and stored["channel"] == "web"
    assert "低保" in stored["text"]
    assert phone.axe() == []
    phone.page.reload()
    assert phone.page.locator("#log .case .num").inner_text() == number
    phone.close()


def test_village_picked_by_taps(stack, browser):
    phone = Phone(browser, stack.api_url)
    phone.open()
    phone.tap("反映问题")
    phone.type("村里修路的钱公示了三十万，路只修了一半就停了")
    assert "城关镇" in phone.choices()  # the picker: townships first
    phone.page.locator("#choices button", has_text="桃溪镇").click()
    assert "西风村" in phone.choices()
    bs.shot(phone.page, "chat-4-village-picker")
    phone.tap("西风村")
    assert phone.choices() == ["匿名", "留名"], phone.last_bot()
    phone.close()


def test_a_message_sent_offline_is_delivered_when_back(stack, browser):
    phone = Phone(browser, stack.api_url)
    phone.open()
    phone.context.set_offline(True)
    phone.page.fill("#text", "你好")
    phone.page.locator("#say button[type=submit]").click()
    phone.page.wait_for_function(
        "() => document.getElementById('sending').textContent.indexOf('重发') >= 0"
    )
    assert phone.page.locator("#log .waiting").count() == 1
    bs.shot(phone.page, "chat-5-retrying")
    phone.context.set_offline(False)
    phone.page.wait_for_selector("#log .waiting", state="detached")
    assert phone.bot_count() == 2
    phone.close()


def _filed(stack, phone_number: str) -> str:
    r = httpx.post(
        f"{stack.api_url}/api/v1/complaints",
        json={
            "text": "村里五保户的供养金被扣了一部分，问村会计也不说清楚",
            "phone": phone_number,
            "township": "城关镇",
            "village": "桃园村",
        },
        params={"classify": "now"},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()["number"]


def test_status_page_and_a_rating_in_the_chat(stack, staff, browser):
    resident_phone = "138" + "".join(secrets.choice("0123456789") for _ in range(8))
    number = _filed(stack, resident_phone)
    phone = Phone(browser, stack.api_url)
    phone.open("/chat/status")
    phone.page.fill("#number", number)
    phone.page.fill("#phone", "13800000000")
    phone.page.locator("form button").click()
    assert "没有查到" in phone.page.locator(".error").inner_text()
    phone.page.fill("#phone", resident_phone)
    phone.page.locator("form button").click()
    assert "已受理" in phone.page.locator(".result").inner_text()
    assert phone.axe() == []
    bs.shot(phone.page, "chat-6-status")
    unit = staff.post("/api/v1/units", json={"name": f"民政办{number}", "kind": "civil_affairs"})
    staff.post(f"/api/v1/cases/{number}/assign", json={"unit_id": unit.json()["id"]})
    staff.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"})
    done = staff.post(
        f"/api/v1/cases/{number}/transition",
        json={"to": "已办结", "reply": "经核查，扣下的供养金已经补发到户。"},
    )
    assert done.status_code == 200, done.text
    phone.page.locator("form button").click()
    assert "补发到户" in phone.page.locator(".result").inner_text()  # the public answer
    phone.open()
    phone.tap("查询进度")
    phone.type(number)
    phone.type(resident_phone)
    assert "满意" in phone.choices()
    assert "谢谢您的评价：满意" in phone.tap("满意")
    bs.shot(phone.page, "chat-7-rated")
    assert _case(staff, number)["state"] == "已评价"
    phone.close()


def test_a_resent_message_is_one_turn(stack):
    """A phone that never got the answer sends the same message id again: same answer, and
    the bot's conversation holds the message once."""
    sender = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(20))
    body = {"sender": sender, "id": "resend01", "message": "我要反映问题"}
    first = httpx.post(f"{stack.api_url}/chat/send", json=body, timeout=60)
    again = httpx.post(f"{stack.api_url}/chat/send", json=body, timeout=60)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["messages"]
    tracker = httpx.get(
        f"{stack.rasa_url}/conversations/web-{sender}/tracker", params={"token": stack.token}
    ).json()
    said = [e for e in tracker["events"] if e["event"] == "user"]
    assert [e["text"] for e in said] == ["我要反映问题"]
    assert said[0]["input_channel"] == "hotline_web"
