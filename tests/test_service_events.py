"""Many people, one event: the case service clusters complaints, flags joint review, and keeps
staff decisions across restarts (SQLite and PostgreSQL)."""

import time

import httpx
import pytest

SAME_EVENT = [
    ("13600000001", "河湾村的刘主任把他两个侄子都弄成了低保户，他们家开着小轿车"),
    ("13600000002", "我们河湾村低保评得不公平，村主任刘长贵的亲戚都吃上了低保"),
    ("13600000003", "喂那个我是和湾村的就是刘主任家亲戚吃低保的事情我们都不服"),
]
LOOK_ALIKE = ("13600000004", "柳树村的低保名额被村书记王德发给了他儿媳妇")


@pytest.fixture(scope="module")
def sup(service):
    return service.client(service.login("sup", "sup-pass-1"))


def _file(service, phone, text):
    r = httpx.post(service.url + "/api/v1/complaints", json={"text": text, "phone": phone})
    assert r.status_code == 201, r.text
    return r.json()["number"]


def _wait(sup, numbers, ready, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        cases = [sup.get(f"/api/v1/cases/{n}").json() for n in numbers]
        if ready(cases):
            return cases
        time.sleep(0.3)
    raise AssertionError(f"events not ready: {[(c['number'], c['event_id']) for c in cases]}")


def test_complaints_about_one_event_are_grouped_and_flagged(service, sup):
    numbers = [_file(service, phone, text) for phone, text in SAME_EVENT]
    other = _file(service, *LOOK_ALIKE)
    cases = _wait(
        sup,
        [*numbers, other],
        lambda cs: all(c["event_id"] for c in cs) and cs[0]["event_reporters"] == 3,
    )
    events = {c["event_id"] for c in cases[:3]}
    assert len(events) == 1
    assert cases[3]["event_id"] not in events
    assert all(c["event_reporters"] == 3 and c["joint_review"] for c in cases[:3])
    assert not cases[3]["joint_review"]
    listed = sup.get("/api/v1/events", params={"joint_review": True}).json()
    assert {"event": cases[0]["event_id"], "cases": 3, "reporters": 3}.items() <= listed[0].items()
    queue = sup.get("/api/v1/cases", params={"joint_review": True, "limit": 500}).json()
    assert set(numbers) <= {c["number"] for c in queue["items"]}


def test_staff_split_is_applied_and_survives_a_restart(service, sup):
    numbers = [
        _file(service, f"1350000000{k}", text.replace("河湾", "桃园").replace("和湾", "桃元"))
        for k, (_, text) in enumerate(SAME_EVENT)
    ]
    cases = _wait(
        sup,
        numbers,
        lambda cs: (
            len({c["event_id"] for c in cs if c["event_id"]}) == 1
            and all(c["event_id"] for c in cs)
        ),
    )
    event = cases[0]["event_id"]
    r = sup.post(f"/api/v1/cases/{numbers[2]}/split")
    assert r.status_code == 200, r.text
    # Cases are read one by one, so wait until every one shows the applied decision.
    cases = _wait(
        sup, numbers, lambda cs: cs[2]["event_id"] != event and cs[0]["event_reporters"] == 2
    )
    assert cases[0]["event_id"] == cases[1]["event_id"] == event
    assert cases[0]["event_reporters"] == 2 and not cases[0]["joint_review"]
    service.stop()
    service.start()
    # Later complaints about the same event must not pull the split case back in.
    late = _file(service, "13500000009", "桃园村刘主任的亲戚吃低保，我也要反映，太不公平了")
    fresh = service.client(service.login("sup", "sup-pass-1"))
    cases = _wait(
        fresh,
        [*numbers, late],
        lambda cs: cs[3]["event_id"] is not None and cs[0]["event_reporters"] == 3,
    )
    assert cases[3]["event_id"] == cases[0]["event_id"] == event
    assert cases[2]["event_id"] != event
    assert cases[0]["event_reporters"] == 3


def test_bare_requests_for_a_person_are_no_event_until_their_story_is_told(service, sup):
    """Three people asked for a person and told nothing: three events, never one 多人反映. Two
    then tell the same story (added by the bot to their open case): those two become one event
    once classified again; a staff correction to an unrelated item takes one out again."""
    opened = []
    for k in range(3):
        bot = {
            "X-Hotline-Internal-Token": service.env["HOTLINE_INTERNAL_TOKEN"],
            "X-Hotline-Client": f"bare-{k}",
        }
        r = httpx.post(
            service.url + "/api/v1/handoffs",
            json={
                "conversation_id": f"bare-{k}",
                "phone": f"1370000009{k}",
                "reason": "居民要求转人工",
                "transcript": [["人工"], ["转人工"], ["喂 人工"]][k],  # alike word for word
            },
            headers=bot,
            timeout=30,
        )
        assert r.status_code == 201, r.text
        opened.append((r.json(), bot))
    numbers = [body["number"] for body, _ in opened]
    cases = _wait(sup, numbers, lambda cs: all(c["event_id"] for c in cs))
    assert len({c["event_id"] for c in cases}) == 3
    assert not any(c["joint_review"] or c["event_reporters"] != 1 for c in cases)
    for (body, bot), (_, story) in zip(opened, SAME_EVENT[:2], strict=False):
        r = httpx.post(
            service.url + f"/api/v1/cases/{body['number']}/amend",
            json={
                "idempotency_key": body["idempotency_key"],
                "addendum": story.replace("河湾", "龙潭"),
            },
            headers=bot,
            timeout=30,
        )
        assert r.status_code == 200, r.text
    # Cases are read one by one: wait until both show the join (the first may be read while
    # it is still the event's only case).
    cases = _wait(
        sup,
        numbers,
        lambda cs: (
            cs[0]["event_id"] == cs[1]["event_id"]
            and cs[0]["event_reporters"] == cs[1]["event_reporters"] == 2
        ),
    )
    assert cases[0]["category"] == cases[1]["category"] != "OUT"
    assert "（居民随后补充）" in cases[0]["text"]  # no read-back came before the story
    assert cases[2]["event_id"] != cases[0]["event_id"] and cases[2]["event_reporters"] == 1
    r = sup.post(f"/api/v1/cases/{numbers[1]}/category", json={"category": "S26"})
    assert r.status_code == 200, r.text
    cases = _wait(
        sup,
        numbers,
        lambda cs: cs[1]["event_id"] != cs[0]["event_id"] and cs[0]["event_reporters"] == 1,
    )
    assert cases[1]["event_reporters"] == 1
