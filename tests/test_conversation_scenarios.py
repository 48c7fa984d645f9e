"""Simulated residents (tests/conversations) against the real stack: the held-out split must
reach the task-success thresholds below; the dev split is played and reported. The unit tests
at the end check the simulator's pure parts and need no stack.

Held-out failures are reported by id and persona only: nobody tunes the bot on them."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from api.case_numbers import is_valid, new_case_number
from tests.conversations.run import failure_line, load_split, table
from tests.conversations.simulator import (
    BotMessage,
    Line,
    Observed,
    ResidentState,
    Scenario,
    ScenarioError,
    ScenarioResult,
    Simulator,
    StackEndpoints,
    case_numbers_in,
    compare,
    fill,
    load_scenarios,
    next_answer,
    parse_scenario,
    placeholder_values,
    summarize,
    typo_number,
)

# Thresholds on the held-out split: a guard against going back, set under what the bot reaches
# today (0.91 overall since 2026-12-05, 48 of 53; the weakest personas at 2 of 3) with room for
# a scenario or two that depends on timing (one of a persona's three may slip). The issue's
# target is 0.95 overall and 0.9 for every persona; it is not met yet and is reported, not
# hidden here.
HELDOUT_MIN_SUCCESS = 0.85
HELDOUT_MIN_PERSONA_SUCCESS = 0.3
JOBS = 4
HERE = Path(__file__).resolve().parent / "conversations"


# -- against the running stack ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoints(model_path, tmp_path_factory):
    from classifiers.paths import PROJECT_ROOT
    from hotline.bot_commands import train_bot
    from hotline.processes import service_env
    from hotline.stack import Stack

    home = tmp_path_factory.mktemp("conversation-stack")
    env = service_env(home, model_path, None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    running = Stack(home, env, train_bot()).start()
    yield StackEndpoints(
        rasa_url=running.rasa_url,
        api_url=running.api_url or "",
        rasa_token=running.token,
        admin_password=StackEndpoints.read_admin_password(home),
    )
    running.stop()


@pytest.fixture(scope="module")
def played(endpoints) -> dict[str, list[ScenarioResult]]:
    """Held-out first (on the freshest stack), then dev; one simulator, a few threads."""
    simulator = Simulator(endpoints)
    scenarios = [s for _, s in load_split("heldout")]
    results = {"heldout": [r.blinded() for r in simulator.play_all(scenarios, jobs=JOBS)]}
    scenarios = [s for _, s in load_split("dev")]
    results["dev"] = simulator.play_all(scenarios, jobs=JOBS)
    return results


def test_heldout_task_success(played):
    results = played["heldout"]
    summary = summarize(results)
    print(table(summary, "heldout"))
    failed = [failure_line("heldout", r) for r in results if not r.passed]  # id and persona only
    rate = summary.rate
    assert summary.total > 0
    assert rate >= HELDOUT_MIN_SUCCESS, "\n".join(failed)
    low = {
        persona: f"{summary.persona_rate(persona):.0%}"
        for persona in summary.per_persona
        if summary.persona_rate(persona) < HELDOUT_MIN_PERSONA_SUCCESS
    }
    assert not low, f"personas under {HELDOUT_MIN_PERSONA_SUCCESS:.0%}: {low}\n" + "\n".join(failed)


def test_dev_split_plays_to_the_end(played):
    """Dev is for tuning: its numbers and failures (with transcripts) are printed; only a
    harness error (setup refused, stack unreachable) fails this test."""
    results = played["dev"]
    print(table(summarize(results), "dev"))
    for result in results:
        if not result.passed:
            print(failure_line("dev", result))
    errors = [f"{r.id}: {r.error}" for r in results if r.error]
    assert results and not errors, "\n".join(errors)


# -- the simulator's pure parts --------------------------------------------------------------------


def scenario(**fields) -> Scenario:
    raw = {"id": "selftest-x", "persona": "terse", "task": "file", "says": ["低保不公 李庄"]}
    raw.update(fields)
    return parse_scenario(raw, Path("inline.yml"), 0)


def test_placeholders_spaced_and_spoken():
    values = placeholder_values("34377550", "13902145678")
    assert values["number_spaced"] == "3 4 3 7 7 5 5 0"
    assert values["number_spoken"] == "三四三七七五五洞"
    assert values["phone_spoken"] == "幺三九洞二幺四五六七八"
    assert fill("编号{number}，电话{phone}", values) == "编号34377550，电话13902145678"


def test_typo_numbers_fail_the_check_digit():
    for _ in range(200):
        number = new_case_number()
        typo = typo_number(number)
        assert not is_valid(typo)
        assert len(typo) == 8 and sum(a != b for a, b in zip(number, typo, strict=True)) == 1
        assert fill("{number_typo}", placeholder_values(number, None)) == typo


def test_unknown_placeholder_is_an_error():
    with pytest.raises(ScenarioError, match="number"):
        fill("{number}", placeholder_values(None, "13900000000"))
    with pytest.raises(ScenarioError, match="needs a setup case"):
        scenario(says=["查询 {number}"])
    with pytest.raises(ScenarioError, match="unknown placeholder"):
        scenario(says=["{numbr}"])


def test_case_numbers_in_replies():
    number = new_case_number()
    assert case_numbers_in(f"已登记，案件号是：{' '.join(number)}，请记好") == [number]
    assert case_numbers_in(f"登记号{number}") == [number]
    assert case_numbers_in("电话 1 3 9 1 2 3 4 5 6 7 8 对吗") == []
    assert case_numbers_in(f"编号{typo_number(number)}") == []


def test_validation_names_file_and_id(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("- id: dev-bad-001\n  persona: grumpy\n  task: file\n  says: [x]\n")
    with pytest.raises(ScenarioError, match=r"bad\.yml: dev-bad-001: unknown persona"):
        load_scenarios(tmp_path, prefix="dev")
    bad.write_text("- id: wrong-001\n  persona: terse\n  task: file\n  says: [x]\n")
    with pytest.raises(ScenarioError, match="must start with 'dev-'"):
        load_scenarios(tmp_path, prefix="dev")
    bad.write_text(
        "- {id: dev-a, persona: terse, task: file, says: [x]}\n"
        "- {id: dev-a, persona: terse, task: file, says: [y]}\n"
    )
    with pytest.raises(ScenarioError, match="duplicate id"):
        load_scenarios(tmp_path, prefix="dev")
    with pytest.raises(ScenarioError, match="needs a setup case"):
        scenario(task="status")
    with pytest.raises(ScenarioError, match=r"unknown expect\.case keys"):
        scenario(expect={"case": {"villag": "李庄村"}})


def test_unquoted_yes_key_and_bare_number_phone():
    s = scenario(knows={True: "中", "phone": 13912345678})
    assert s.knows == {"yes": "中", "phone": "13912345678"}


@pytest.mark.parametrize("split", ["selftest", "dev", "heldout"])
def test_scenario_files_are_valid(split):
    if not any((HERE / split).glob("*.y*ml")):
        pytest.skip(f"no {split} scenarios yet")
    assert load_scenarios(HERE / split, prefix=split)


def test_next_answer_follows_the_slots():
    s = scenario(
        says=["我要举报", "低保的事"],
        knows={"village": "李庄", "yes": "是的", "other": "啥意思"},
        corrections=["不对，是西风村"],
    )
    state = ResidentState()
    assert next_answer(s, {"requested_slot": "village"}, state)[0] == "李庄"
    assert next_answer(s, {"requested_slot": "phone"}, state)[0] == "啥意思"
    assert next_answer(s, {"requested_slot": "complaint_text"}, state)[0] == "我要举报，低保的事"
    assert next_answer(s, {"awaiting": "confirm"}, state)[0] == "不对，是西风村"
    assert next_answer(s, {"awaiting": "correction"}, state)[0] == "不对，是西风村"
    assert next_answer(s, {"awaiting": "confirm"}, state)[0] == "是的"
    assert next_answer(s, {"awaiting": "handoff_offer"}, state)[0] == "不用"
    assert next_answer(s, {"awaiting": "resume"}, state)[0] == "对"
    assert next_answer(s, {"awaiting": "rating"}, state) is None


def test_after_the_record_only_a_correction_is_said():
    """Filed and read back (``awaiting`` amend): a resident with a correction says it once;
    one with none says nothing more."""
    s = scenario(says=["低保不公"], corrections=["不对，是西风村"])
    state = ResidentState()
    assert next_answer(s, {"awaiting": "amend"}, state)[0] == "不对，是西风村"
    assert next_answer(s, {"awaiting": "amend"}, state) is None
    assert next_answer(s, {"requested_slot": None, "awaiting": None}, state) is None
    plain = scenario(task="human", knows={"story": "征地的钱"})
    assert next_answer(plain, {"requested_slot": "complaint_text"}, state)[0] == "征地的钱"
    assert next_answer(plain, {"requested_slot": "name"}, state)[0] == "不知道"
    assert next_answer(plain, {"awaiting": "handoff_offer"}, state)[0] == "对"
    rater = scenario(knows={"rating": "基本满意"})
    assert next_answer(rater, {"awaiting": "rating"}, state)[0] == "基本满意"
    setup = {"case": {"text": "修路的钱被挪用", "phone": "13912345678", "state": "已办结"}}
    opinion = scenario(task="rate", setup=setup, expect={"rating": "不满意"})
    assert next_answer(opinion, {"awaiting": "rating"}, state)[0] == "不满意"
    later = scenario(
        task="rate", setup=setup, then=[{"say": "不满意"}], expect={"rating": "不满意"}
    )
    assert next_answer(later, {"awaiting": "rating"}, state) is None  # `then` says it


CASE = {
    "category": "S01",
    "village": "张家湾村",
    "township": "万佛湖镇",
    "anonymous": True,
    "text": "村长把小舅子弄上了低保",
}
CONTACT = {"name": None, "phone": "13912345678"}


def test_compare_passes_when_everything_holds():
    expect = {
        "case": {
            "category": ["S01", "S02"],
            "village": "张家湾村",
            "township": "万佛湖镇",
            "anonymous": True,
            "name": None,
            "phone": "139 1234 5678",
            "text_has": ["低保", "小舅子"],
            "text_lacks": ["/check_case"],
            "village_flagged": False,  # absent from the case: false
        },
        "reply_has": ["已登记"],
        "reply_lacks": ["请核实"],
        "handoff": False,
        "max_turns": 5,
    }
    seen = Observed(case=CASE, contact=CONTACT, replies="已登记，谢谢", turns=5)
    assert compare(expect, seen) == []


def test_compare_lists_each_failed_check():
    expect = {
        "case": {
            "category": "S02",
            "anonymous": False,
            "name": "王秀英",
            "phone": None,
            "text_has": ["五保"],
            "text_lacks": ["小舅子"],
            "village_flagged": True,
        },
        "reply_has": ["办结"],
        "reply_lacks": ["登记"],
        "rating": "不满意",
        "handoff": True,
        "max_turns": 3,
    }
    seen = Observed(case=CASE, contact=CONTACT, replies="已登记", rating=None, turns=4)
    failed = {f.check: f for f in compare(expect, seen)}
    assert set(failed) == {
        "case.category",
        "case.anonymous",
        "case.name",
        "case.phone",
        "case.text_has",
        "case.text_lacks",
        "case.village_flagged",
        "reply_has",
        "reply_lacks",
        "rating",
        "handoff",
        "max_turns",
    }
    assert failed["case.category"].expected == ["S02"] and failed["case.category"].actual == "S01"
    assert failed["max_turns"].actual == 4
    assert compare({"case": {"village": "x"}}, Observed())[0].check == "case"


def test_summary_and_heldout_lines_show_no_transcript():
    def result(rid: str, persona: str, passed: bool, turns: int, task: str = "file"):
        return ScenarioResult(rid, persona, task, passed, [], [], turns, filed_number="1" * 8)

    results = [
        result("heldout-a", "terse", True, 3),
        result("heldout-b", "terse", False, 7),
        result("heldout-c", "formal", True, 2),
        result("heldout-d", "status", True, 2, task="status"),
    ]
    summary = summarize(results)
    assert summary.rate == 0.75 and summary.persona_rate("terse") == 0.5
    assert summary.median_filing_turns == 3
    assert failure_line("heldout", results[1]) == "FAIL heldout-b (terse)"
    secret = ScenarioResult("heldout-e", "terse", "file", False, [], [], 9, error="boom")
    secret.transcript.append(Line("resident", "秘密的话"))
    blind = secret.blinded()
    assert not blind.passed and blind.transcript == [] and "boom" not in str(blind.error)
    assert "秘密" not in repr([secret, blind])
    assert BotMessage("请选择", ("匿名", "留名")).shown == "请选择 [匿名 | 留名]"


# -- the whole loop against a stand-in stack (no Rasa, no service) ---------------------------------


class FakeStack:
    """A scripted bot behind Rasa's REST webhook and tracker API, and the staff API: asks the
    village, anonymity and phone, reads back, files on 对. ``stubborn`` asks the village forever.
    """

    def __init__(self, number: str, stubborn: bool = False) -> None:
        self.number = number
        self.stubborn = stubborn
        self.slots: dict[str, dict] = {}
        self.said: list[str] = []
        self.calls: list[str] = []

    def bot(self, sender: str, text: str) -> list[dict]:
        slots = self.slots.setdefault(sender, {"requested_slot": None, "awaiting": None})
        self.said.append(text)
        asked = slots["requested_slot"]
        if self.stubborn or (asked is None and slots["awaiting"] is None):
            if slots.get("filed_number"):
                return [{"text": "还有别的事吗？"}]
            slots["requested_slot"] = "village"
            return [{"text": "哪个村？"}]
        if asked == "village":
            slots["requested_slot"] = "anonymity"
            return [{"text": "匿名吗？", "buttons": [{"title": "匿名", "payload": "/anon"}]}]
        if asked == "anonymity":
            slots["requested_slot"] = "phone"
            return [{"text": "电话？"}]
        if asked == "phone":
            slots["requested_slot"], slots["awaiting"] = None, "confirm"
            return [{"text": "对吗？"}]
        if text.startswith("不对"):
            return [{"text": "改好了，对吗？"}]
        slots["awaiting"], slots["filed_number"] = None, self.number
        return [{"text": f"案件号是 {' '.join(self.number)}"}]

    def handle(self, request) -> httpx.Response:
        import json

        path = request.url.path
        self.calls.append(f"{request.method} {path}")
        body = json.loads(request.content) if request.content else {}
        if path == "/webhooks/hotline_web/webhook":
            return httpx.Response(200, json=self.bot(body["sender"], body["message"]))
        if path.startswith("/conversations/"):
            return httpx.Response(200, json={"slots": self.slots[path.split("/")[2]]})
        if path == "/api/v1/auth/token":
            return httpx.Response(200, json={"access_token": "t"})
        if path == f"/api/v1/cases/{self.number}":
            village = "西风村" if any("西风村" in t for t in self.said) else "东风村"
            case = {
                "category": "S01",
                "village": village,
                "anonymous": True,
                "text": "低保给了亲戚",
                "state": "已受理",
                "history": [],
            }
            return httpx.Response(200, json=case)
        if path == f"/api/v1/cases/{self.number}/contact":
            return httpx.Response(200, json={"name": None, "phone": "13912345678"})
        if path == "/api/v1/units":
            return httpx.Response(201, json={"id": 1})
        return httpx.Response(200, json={})


def fake_simulator(fake: FakeStack) -> Simulator:
    stack = StackEndpoints("http://rasa", "http://api", "tok", "pw")
    return Simulator(stack, transport=httpx.MockTransport(fake.handle))


def test_plays_adaptively_and_checks_the_stored_case():
    number = new_case_number()
    fake = FakeStack(number)
    s = scenario(
        says=["低保给了亲戚"],
        knows={"village": "东风村", "anonymity": "匿名", "phone": "13912345678"},
        corrections=["不对，是西风村"],
        expect={
            "case": {"village": "西风村", "anonymous": True, "phone": "13912345678", "name": None},
            "handoff": False,
            "max_turns": 6,
        },
    )
    simulator = fake_simulator(fake)
    simulator.preflight()
    result = simulator.play(s)
    assert result.passed, result.report()
    assert result.filed_number == number and result.turns == 6
    notes = [line.note for line in result.transcript if line.who == "resident"]
    assert notes == [
        "says",
        "asked village",
        "asked anonymity",
        "asked phone",
        "read-back: correction",
        "read-back: yes",
    ]
    assert "匿名吗？ [匿名]" in [line.text for line in result.transcript]
    assert f"POST /api/v1/cases/{number}/transition" in fake.calls  # closed after the run


def test_a_bot_that_keeps_asking_stops_at_the_cap():
    fake = FakeStack(new_case_number(), stubborn=True)
    s = scenario(knows={"village": "李庄"}, expect={"case": {"village": "李庄村"}, "max_turns": 3})
    result = fake_simulator(fake).play(s)
    assert not result.passed and result.turns == 3 + 4
    assert {f.check for f in result.failures} == {"case", "max_turns"}
    assert "stopped at the cap" in result.transcript[-1].text
