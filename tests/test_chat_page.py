"""The chat page's server side over real HTTP (the case service as a process, SQLite): the page
and its limits, the poster's village, the status page's lookup and lockout, the relay's answer
when the bot is down; and the QR posters `hotline qr` prints."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from api.chat_places import poster_place
from bot.channels.poster import poster_metadata
from classifiers.places import load_gazetteer
from hotline.processes import Service, service_env
from hotline.qr_commands import PosterError, chat_link, make_posters, villages_for
from tests.test_chat_browser import port_in

PAGE_BUDGET = 300 * 1024


@pytest.fixture(scope="module")
def service(model_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("chat-page")
    svc = Service(home, service_env(home, model_path, None), port=port_in(8700, 8800))
    # A Rasa address nobody listens on: the relay must answer 503, not hang or 500.
    svc.start(HOTLINE_RASA_URL=f"http://127.0.0.1:{port_in(5700, 5800)}")
    yield svc
    svc.stop()


def _file(service, phone: str) -> str:
    r = httpx.post(
        service.url + "/api/v1/complaints",
        json={"text": "村里低保名单没公示，村主任亲戚吃低保", "phone": phone},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return r.json()["number"]


def test_page_is_small_and_allows_only_its_own_style(service):
    page = httpx.get(service.url + "/chat")
    assert page.status_code == 200
    script = httpx.get(service.url + "/chat/static/chat.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(page.content) + len(script.content) < PAGE_BUDGET
    csp = page.headers["content-security-policy"]
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)[1]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp and "script-src 'self'" in csp
    assert httpx.get(service.url + "/chat/static/app.py").status_code == 404


def _poster(page: str):
    return json.loads(re.search(r'id="poster">(.*?)</script>', page)[1])


def test_poster_link_names_the_village_only_if_the_gazetteer_has_it(service):
    gazetteer = load_gazetteer()
    village = gazetteer.village("河湾村")
    query = parse_qs(urlsplit(chat_link("https://h.example.cn", village)).query)
    assert poster_place(query["v"][0], query["t"][0]) is not None
    page = httpx.get(service.url + "/chat", params={"v": "河湾村", "t": "城关镇"}).text
    assert _poster(page) == {"village": "河湾村", "township": "城关镇"}
    forged = httpx.get(service.url + "/chat", params={"v": "<b>假村</b>"})
    assert forged.status_code == 200 and _poster(forged.text) is None
    assert poster_place("河湾村", "桃溪镇") is None  # not that township's


def test_send_checks_its_input_and_says_when_the_bot_is_down(service):
    good = {"sender": "a" * 20, "id": "m12345", "message": "你好"}
    r = httpx.post(service.url + "/chat/send", json=good, timeout=30)
    assert r.status_code == 503 and "连不上" in r.json()["detail"]
    for bad in ({"sender": "13900001111aaaaaaaa"}, {"id": "x"}, {"message": ""}):
        r = httpx.post(service.url + "/chat/send", json={**good, **bad})
        assert r.status_code == 422, bad


def _status(service, number: str, phone: str) -> httpx.Response:
    return httpx.post(service.url + "/chat/status", data={"number": number, "phone": phone})


def test_status_page_answers_like_the_api_and_locks_like_it(service):
    phone = "137" + "".join(secrets.choice("0123456789") for _ in range(8))
    number = _file(service, phone)
    found = _status(service, number, phone)
    assert found.status_code == 200 and "已受理" in found.text
    wrong_phone = _status(service, number, "13700000000")
    other = _file(service, "13611112222")
    wrong_number = _status(service, other, phone)
    assert wrong_phone.status_code == wrong_number.status_code == 404
    error = re.compile(r'<p class="error"[^>]*>(.*?)</p>')
    assert error.search(wrong_phone.text)[1] == error.search(wrong_number.text)[1]
    for _ in range(4):  # 5 failures on one case number lock it, the right phone included
        _status(service, number, "13700000000")
    locked = _status(service, number, phone)
    assert locked.status_code == 429 and "分钟后再试" in locked.text
    api = httpx.post(service.url + "/api/v1/status", json={"number": number, "phone": phone})
    assert api.status_code == 429  # one lockout, whichever door was used
    assert _status(service, "", "").status_code == 422


def test_posters_for_a_township_and_a_village(tmp_path):
    gazetteer = load_gazetteer()
    villages = villages_for(gazetteer, "城关镇", None)
    posters, combined = make_posters("https://h.example.cn", tmp_path, villages)
    assert len(posters) == len(gazetteer.township("城关镇").villages)
    assert combined is not None
    assert len(re.findall(rb"/Type\s*/Page(?!s)", combined.read_bytes())) == len(posters)
    with Image.open(posters[0].png) as png:
        assert png.size == (1654, 2339)
    assert posters[0].pdf.read_bytes().startswith(b"%PDF")
    assert "v=%E6%B2%B3%E6%B9%BE%E6%9D%91" in posters[0].url  # 河湾村
    one, combined = make_posters("https://h.example.cn", tmp_path / "one", villages[:1])
    assert len(one) == 1 and combined is None
    with pytest.raises(PosterError):
        villages_for(gazetteer, None, "不存在村")


def test_web_channel_keeps_only_the_posters_place():
    body = {
        "sender": "x",
        "input_channel": "hotline_sms",
        "metadata": {"village": " 河湾村 ", "township": "城关镇", "phone": "13900001111"},
    }
    assert poster_metadata(body) == {"village": "河湾村", "township": "城关镇"}
    assert poster_metadata({"metadata": {"phone": "13900001111"}}) is None
    assert poster_metadata({"metadata": {"village": "村" * 21}}) is None
    assert poster_metadata({"metadata": "河湾村"}) is None
