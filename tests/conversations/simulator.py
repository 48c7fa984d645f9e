"""A simulated resident that plays one scenario (see README.md here) against the running stack.

The resident is adaptive on purpose: it sends its opening messages, then answers whatever the
bot asks, read from the conversation's slots (``requested_slot``, ``awaiting``) rather than from
the reply's wording, so rewording the bot never breaks a scenario, and asking one question
too many shows up as extra turns instead of a crash. At the end the result is checked through
the staff API (what the case service stored), not through what the bot claims.

Pure parts (loading and validating scenarios, placeholders, the next message from the slots,
comparing expectations) take no network and are unit-tested; ``Simulator.play`` does the I/O.
No pytest dependency: the runner (``run.py``) and ``hotline bot test --conversations`` use it.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.case_numbers import is_valid as is_valid_case_number

# -- the scenario format ---------------------------------------------------------------------------

PERSONAS = frozenset(
    {
        "elderly_dialect",
        "terse",
        "formal",
        "angry",
        "multi_message",
        "correction",
        "anonymity",
        "out_of_list",
        "status",
        "policy",
        "human",
        "rating",
        "asr",
        "proxy",
    }
)
TASKS = frozenset({"file", "status", "rate", "policy", "human"})
KNOWS_KEYS = frozenset(
    {
        "story",
        "village",
        "township",
        "anonymity",
        "name",
        "phone",
        "case_number",
        "yes",
        "other",
        "rating",
    }
)
SETUP_STATES = ("已受理", "已转办", "办理中", "已办结")
SETUP_KEYS = frozenset({"text", "village", "phone", "state", "public_answer"})
CASE_KEYS = frozenset(
    {
        "category",
        "village",
        "township",
        "group",
        "anonymous",
        "name",
        "phone",
        "text_has",
        "text_lacks",
        "village_flagged",
    }
)
EXPECT_KEYS = frozenset({"case", "reply_has", "reply_lacks", "rating", "handoff", "max_turns"})
RATINGS = frozenset({"满意", "基本满意", "不满意"})
PLACEHOLDERS = frozenset(
    {"number", "number_spaced", "number_spoken", "number_typo", "phone", "phone_spoken"}
)
SCENARIO_KEYS = frozenset(
    {"id", "persona", "task", "says", "knows", "corrections", "then", "setup", "expect"}
)
DEFAULT_MAX_TURNS = 12  # only for scenarios that set none; the format asks for one
EXTRA_TURNS = 4  # the hard cap is max_turns + this, so a confused bot never loops forever
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class ScenarioError(ValueError):
    """A scenario file that does not follow the format; the message names the file and id."""


@dataclass(frozen=True)
class SetupCase:
    """A case the harness files and moves along before the conversation (status, rate)."""

    text: str
    village: str | None
    phone: str
    state: str
    public_answer: str | None


@dataclass(frozen=True)
class Scenario:
    id: str
    persona: str
    task: str
    says: tuple[str, ...]
    knows: dict[str, str]
    corrections: tuple[str, ...]
    then: tuple[str, ...]
    setup: SetupCase | None
    expect: dict[str, Any]
    source: Path

    @property
    def max_turns(self) -> int:
        return int(self.expect.get("max_turns") or DEFAULT_MAX_TURNS)

    @property
    def setup_phone(self) -> str | None:
        return self.setup.phone if self.setup else None

    @property
    def wants_person(self) -> bool:
        return self.task == "human" or bool(self.expect.get("handoff"))


def _text(value: Any, where: str) -> str:
    """Scenario strings; bare YAML numbers (a phone left unquoted) are read as their digits."""
    if isinstance(value, bool) or value is None:
        raise ScenarioError(f"{where}: expected text, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: expected non-empty text, got {value!r}")
    return value


def _texts(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: expected a list, got {type(value).__name__}")
    return tuple(_text(v, f"{where}[{i}]") for i, v in enumerate(value))


def _check_placeholders(text: str, where: str, has_setup: bool) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name not in PLACEHOLDERS:
            raise ScenarioError(f"{where}: unknown placeholder {{{name}}}")
        if not has_setup:
            raise ScenarioError(f"{where}: {{{name}}} needs a setup case")


def _check_expect(expect: Any, where: str) -> dict[str, Any]:
    if expect is None:
        return {}
    if not isinstance(expect, dict):
        raise ScenarioError(f"{where}: expect must be a mapping")
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown expect keys {sorted(unknown)}")
    case = expect.get("case")
    if case is not None:
        if not isinstance(case, dict):
            raise ScenarioError(f"{where}: expect.case must be a mapping")
        unknown = set(case) - CASE_KEYS
        if unknown:
            raise ScenarioError(f"{where}: unknown expect.case keys {sorted(unknown)}")
        category = case.get("category")
        if category is not None and not isinstance(category, str | list):
            raise ScenarioError(f"{where}: expect.case.category must be a code or a list")
        for key in ("text_has", "text_lacks"):
            if key in case:
                _texts(case[key], f"{where}: expect.case.{key}")
        for key in ("anonymous", "village_flagged"):
            if key in case and not isinstance(case[key], bool):
                raise ScenarioError(f"{where}: expect.case.{key} must be true or false")
    for key in ("reply_has", "reply_lacks"):
        if key in expect:
            _texts(expect[key], f"{where}: expect.{key}")
    if "rating" in expect and expect["rating"] not in RATINGS:
        raise ScenarioError(f"{where}: expect.rating must be one of {sorted(RATINGS)}")
    if "handoff" in expect and not isinstance(expect["handoff"], bool):
        raise ScenarioError(f"{where}: expect.handoff must be true or false")
    turns = expect.get("max_turns")
    if turns is not None and (isinstance(turns, bool) or not isinstance(turns, int) or turns < 1):
        raise ScenarioError(f"{where}: expect.max_turns must be a positive integer")
    return expect


def parse_scenario(raw: Any, source: Path, index: int, prefix: str | None = None) -> Scenario:
    """One scenario from its YAML mapping; every mistake is a ScenarioError naming file and id."""
    where = f"{source}: scenario #{index + 1}"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a mapping, got {type(raw).__name__}")
    sid = raw.get("id")
    if not isinstance(sid, str) or not sid:
        raise ScenarioError(f"{where}: missing id")
    where = f"{source}: {sid}"
    if prefix and not sid.startswith(f"{prefix}-"):
        raise ScenarioError(f"{where}: id must start with '{prefix}-'")
    unknown = set(raw) - SCENARIO_KEYS
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    persona = raw.get("persona")
    if persona not in PERSONAS:
        raise ScenarioError(f"{where}: unknown persona {persona!r}")
    task = raw.get("task")
    if task not in TASKS:
        raise ScenarioError(f"{where}: task must be one of {sorted(TASKS)}, got {task!r}")
    says = _texts(raw.get("says"), f"{where}: says")
    if not says:
        raise ScenarioError(f"{where}: says is empty")

    knows_raw = raw.get("knows") or {}
    if not isinstance(knows_raw, dict):
        raise ScenarioError(f"{where}: knows must be a mapping")
    knows: dict[str, str] = {}
    for key, value in knows_raw.items():
        # YAML 1.1 reads an unquoted `yes:` key as the boolean true.
        name = {True: "yes", False: "no"}.get(key, key) if isinstance(key, bool) else key
        if name not in KNOWS_KEYS:
            raise ScenarioError(f"{where}: unknown knows key {key!r}")
        knows[name] = _text(value, f"{where}: knows.{name}")

    corrections = _texts(raw.get("corrections") or [], f"{where}: corrections")
    then: list[str] = []
    for i, item in enumerate(raw.get("then") or []):
        say = item.get("say") if isinstance(item, dict) else item
        then.append(_text(say, f"{where}: then[{i}].say"))

    setup = None
    setup_raw = raw.get("setup")
    if setup_raw is not None:
        case = setup_raw.get("case") if isinstance(setup_raw, dict) else None
        if not isinstance(case, dict) or set(setup_raw) != {"case"}:
            raise ScenarioError(f"{where}: setup must hold exactly one `case` mapping")
        unknown = set(case) - SETUP_KEYS
        if unknown:
            raise ScenarioError(f"{where}: unknown setup.case keys {sorted(unknown)}")
        state = case.get("state", "已受理")
        if state not in SETUP_STATES:
            raise ScenarioError(f"{where}: setup.case.state must be one of {SETUP_STATES}")
        setup = SetupCase(
            text=_text(case.get("text"), f"{where}: setup.case.text"),
            village=_text(case["village"], f"{where}: setup.case.village")
            if case.get("village") is not None
            else None,
            phone=_text(case.get("phone"), f"{where}: setup.case.phone"),
            state=state,
            public_answer=_text(case["public_answer"], f"{where}: setup.case.public_answer")
            if case.get("public_answer") is not None
            else None,
        )
    if task in ("status", "rate") and setup is None:
        raise ScenarioError(f"{where}: task {task} needs a setup case")

    expect = _check_expect(raw.get("expect"), where)
    if "rating" in expect and setup is None:
        raise ScenarioError(f"{where}: expect.rating needs a setup case")
    for label, texts in (
        ("says", says),
        ("corrections", corrections),
        ("then", tuple(then)),
        ("knows", tuple(knows.values())),
    ):
        for text in texts:
            _check_placeholders(text, f"{where}: {label}", setup is not None)
    return Scenario(
        id=sid,
        persona=persona,
        task=task,
        says=says,
        knows=knows,
        corrections=corrections,
        then=tuple(then),
        setup=setup,
        expect=expect,
        source=source,
    )


def load_scenarios(folder: Path, prefix: str | None = None) -> list[Scenario]:
    """Every scenario in a folder's *.yml / *.yaml files, in file order; ids must be unique.
    ``prefix`` (dev, heldout) is the id prefix the format asks for."""
    files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")])
    scenarios: list[Scenario] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{path}: not valid YAML: {exc}") from exc
        if data is None:
            continue
        if not isinstance(data, list):
            raise ScenarioError(f"{path}: expected a list of scenarios")
        for i, raw in enumerate(data):
            scenario = parse_scenario(raw, path, i, prefix)
            if scenario.id in seen:
                raise ScenarioError(
                    f"{path}: {scenario.id}: duplicate id (also in {seen[scenario.id]})"
                )
            seen[scenario.id] = path
            scenarios.append(scenario)
    return scenarios


# -- placeholders ----------------------------------------------------------------------------------

# Spoken digits as operators say them: 幺 for 1 and 洞 for 0, the rest plain.
_SPOKEN = "洞幺二三四五六七八九"


def spoken(digits: str) -> str:
    return "".join(_SPOKEN[int(d)] if d.isdigit() else d for d in digits)


def typo_number(number: str) -> str:
    """The number with one digit changed (not the first, so it still looks like a case
    number); the Damm check digit catches every single wrong digit."""
    pos = len(number) // 2
    wrong = str((int(number[pos]) + 1) % 10)
    typo = number[:pos] + wrong + number[pos + 1 :]
    assert not is_valid_case_number(typo), typo
    return typo


def placeholder_values(number: str | None, phone: str | None) -> dict[str, str]:
    values: dict[str, str] = {}
    if number:
        values |= {
            "number": number,
            "number_spaced": " ".join(number),
            "number_spoken": spoken(number),
            "number_typo": typo_number(number),
        }
    if phone:
        values |= {"phone": phone, "phone_spoken": spoken(phone)}
    return values


def fill(text: str, values: dict[str, str]) -> str:
    """Replace {number}, {phone}, … ; an unknown or unavailable one is an error, never sent."""

    def one(m: re.Match) -> str:
        if m[1] not in values:
            raise ScenarioError(f"placeholder {{{m[1]}}} has no value in {text!r}")
        return values[m[1]]

    return _PLACEHOLDER.sub(one, text)


# -- what the resident says next -------------------------------------------------------------------

SLOT_KEYS = {
    "village": "village",
    "township": "township",
    "anonymity": "anonymity",
    "name": "name",
    "phone": "phone",
    "case_number": "case_number",
}


@dataclass
class ResidentState:
    """What the resident has used up: corrections are said once each, in order."""

    corrections_used: int = 0


def next_answer(
    scenario: Scenario, slots: dict[str, Any], state: ResidentState
) -> tuple[str, str] | None:
    """The resident's answer to what the bot is asking now (from the slots), with a short
    reason for the transcript; None when the bot asks nothing (or only offers a rating the
    resident has no word for)."""
    knows = scenario.knows
    unknown = knows.get("other", "不知道")
    requested = slots.get("requested_slot")
    awaiting = slots.get("awaiting")
    if requested:
        if requested == "complaint_text":
            return knows.get("story") or "，".join(scenario.says), "asked complaint_text"
        key = SLOT_KEYS.get(requested)
        if key and key in knows:
            return knows[key], f"asked {requested}"
        if key == "phone" and scenario.setup_phone:
            # Asked about a case of theirs, a resident knows their own phone.
            return scenario.setup_phone, "asked phone (their own)"
        return unknown, f"asked {requested} (not known)"
    if awaiting == "confirm":
        if state.corrections_used < len(scenario.corrections):
            state.corrections_used += 1
            return scenario.corrections[state.corrections_used - 1], "read-back: correction"
        return knows.get("yes", "对"), "read-back: yes"
    if awaiting == "amend":
        # The case is filed and its record read back: a resident with something to correct
        # says it now; one with nothing to correct is done (silence keeps the record).
        if state.corrections_used < len(scenario.corrections):
            state.corrections_used += 1
            return scenario.corrections[state.corrections_used - 1], "record read back: correction"
        return None
    if awaiting == "correction" and state.corrections_used:
        # The bot asks what is wrong: the last correction holds the fix.
        return scenario.corrections[state.corrections_used - 1], "asked what is wrong"
    if awaiting == "handoff_offer":
        return ("对", "person offered: yes") if scenario.wants_person else ("不用", "person: no")
    if awaiting == "resume":
        return "对", "asked to resume"
    if awaiting == "rating_offer":
        # Offered to rate after a status answer: a resident with an opinion gives it; one
        # without has what they came for and says nothing more.
        return (knows["rating"], "offered rating") if "rating" in knows else None
    if awaiting == "rating":
        if "rating" in knows:
            return knows["rating"], "asked rating"
        if scenario.task == "rate" and not scenario.then and "rating" in scenario.expect:
            # The opinion the resident came to give (said in the opening; asked again).
            return scenario.expect["rating"], "asked rating (their opinion)"
        return None  # the `then` messages carry the rating, or the resident has none
    if awaiting:
        return unknown, f"awaiting {awaiting} (not known)"
    return None


# -- reading replies -------------------------------------------------------------------------------

# Eight digits, possibly one space apart, not part of a longer run (a phone read back).
_CASE_NUMBER = re.compile(r"(?<!\d)(?<!\d )(\d(?: ?\d){7})(?! ?\d)")


def case_numbers_in(text: str) -> list[str]:
    """Valid case numbers (check digit included) in a reply, in order."""
    found = (m[1].replace(" ", "") for m in _CASE_NUMBER.finditer(text.translate(_FULLWIDTH)))
    return [n for n in found if is_valid_case_number(n)]


_FULLWIDTH = str.maketrans("０１２３４５６７８９　", "0123456789 ")


@dataclass(frozen=True)
class BotMessage:
    text: str
    buttons: tuple[str, ...] = ()

    @property
    def shown(self) -> str:
        """What the resident sees: the text and the button titles (searched by reply_has)."""
        return f"{self.text} [{' | '.join(self.buttons)}]" if self.buttons else self.text


# -- checking the outcome --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckFailure:
    check: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.check}: expected {self.expected!r}, got {self.actual!r}"


@dataclass
class Observed:
    """What the harness saw, for comparing with ``expect``."""

    case: dict[str, Any] | None = None  # the filed case as staff see it
    contact: dict[str, Any] | None = None  # its complainant (supervisor view)
    replies: str = ""  # every bot reply, as shown
    rating: str | None = None  # on the setup case
    handoff: bool = False
    turns: int = 0


def _digits(value: Any) -> str | None:
    return None if value is None else re.sub(r"\D", "", str(value))


def _classified(staff: httpx.Client, number: str, wait: float = 10.0) -> httpx.Response:
    """The case as staff see it once the triage worker has read it: a request for a person is
    classified in the background, a moment after the conversation ends (a filing at once)."""
    deadline = time.monotonic() + wait
    while True:
        r = staff.get(f"/api/v1/cases/{number}")
        if r.status_code != 200 or r.json().get("triage_status") != "待分类":
            return r
        if time.monotonic() > deadline:
            return r
        time.sleep(0.2)


def compare(expect: dict[str, Any], seen: Observed) -> list[CheckFailure]:
    """Every listed expectation that does not hold. Pure: the unit tests use it directly."""
    failures: list[CheckFailure] = []

    def check(name: str, ok: bool, expected: Any, actual: Any) -> None:
        if not ok:
            failures.append(CheckFailure(name, expected, actual))

    want_case = expect.get("case")
    if want_case is not None:
        case = seen.case
        if case is None:
            check("case", False, "a filed case", None)
        else:
            if "category" in want_case:
                codes = want_case["category"]
                codes = [codes] if isinstance(codes, str) else list(codes)
                check("case.category", case.get("category") in codes, codes, case.get("category"))
            for key in ("village", "township"):
                if key in want_case:
                    check(
                        f"case.{key}",
                        case.get(key) == want_case[key],
                        want_case[key],
                        case.get(key),
                    )
            if "group" in want_case:
                actual = case.get("village_group")
                check("case.group", actual == want_case["group"], want_case["group"], actual)
            if "anonymous" in want_case:
                actual = case.get("anonymous")
                check(
                    "case.anonymous",
                    actual is want_case["anonymous"],
                    want_case["anonymous"],
                    actual,
                )
            if "village_flagged" in want_case:
                actual = bool(case.get("village_flagged", False))
                check(
                    "case.village_flagged",
                    actual is want_case["village_flagged"],
                    want_case["village_flagged"],
                    actual,
                )
            text = case.get("text") or ""
            missing = [w for w in want_case.get("text_has", []) if str(w) not in text]
            check("case.text_has", not missing, want_case.get("text_has"), f"missing {missing}")
            present = [w for w in want_case.get("text_lacks", []) if str(w) in text]
            check("case.text_lacks", not present, want_case.get("text_lacks"), f"present {present}")
            contact = seen.contact or {}
            if "name" in want_case:
                check(
                    "case.name",
                    contact.get("name") == want_case["name"],
                    want_case["name"],
                    contact.get("name"),
                )
            if "phone" in want_case:
                want, got = _digits(want_case["phone"]), _digits(contact.get("phone"))
                check("case.phone", want == got, want_case["phone"], contact.get("phone"))
    missing = [w for w in expect.get("reply_has", []) if str(w) not in seen.replies]
    check("reply_has", not missing, expect.get("reply_has"), f"missing {missing}")
    present = [w for w in expect.get("reply_lacks", []) if str(w) in seen.replies]
    check("reply_lacks", not present, expect.get("reply_lacks"), f"present {present}")
    if "rating" in expect:
        check("rating", seen.rating == expect["rating"], expect["rating"], seen.rating)
    if "handoff" in expect:
        check("handoff", seen.handoff is expect["handoff"], expect["handoff"], seen.handoff)
    if "max_turns" in expect:
        check("max_turns", seen.turns <= expect["max_turns"], expect["max_turns"], seen.turns)
    return failures


# -- one played scenario ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of the transcript: who said it, what, and (for the resident) why."""

    who: str  # "resident" | "bot" | "harness"
    text: str
    note: str = ""

    def __str__(self) -> str:
        note = f"  [{self.note}]" if self.note else ""
        text = self.text.replace("\n", "\n" + " " * 10)
        return f"{self.who:>8}: {text}{note}"


@dataclass(repr=False)
class ScenarioResult:
    id: str
    persona: str
    task: str
    passed: bool
    failures: list[CheckFailure]
    transcript: list[Line]
    turns: int
    filed_number: str | None = None
    error: str | None = None  # the harness could not play it (setup refused, stack down)
    seconds: float = 0.0

    def report(self) -> str:
        """Failed checks and transcript: for dev scenarios only, never held-out ones."""
        lines = [f"FAIL {self.id} ({self.persona}, {self.turns} turns)"]
        if self.error:
            lines.append(f"  error: {self.error}")
        lines += [f"  - {f}" for f in self.failures]
        lines += [f"    {line}" for line in self.transcript]
        return "\n".join(lines)

    def __repr__(self) -> str:
        # Short on purpose: a test report printing results must not print transcripts.
        return f"<{self.id} ({self.persona}) {'passed' if self.passed else 'FAILED'}>"

    def blinded(self) -> ScenarioResult:
        """Without transcript, checks or error text: what a held-out result may keep."""
        return replace(
            self,
            failures=[CheckFailure("blind", None, None)] if not self.passed else [],
            transcript=[],
            error="harness error" if self.error else None,
        )


# -- talking to the stack --------------------------------------------------------------------------


@dataclass(frozen=True)
class StackEndpoints:
    """Where the running stack is and how the harness gets in."""

    rasa_url: str
    api_url: str
    rasa_token: str | None = None  # Rasa's --auth-token, for the tracker API
    admin_password: str | None = None

    @staticmethod
    def read_admin_password(home: Path) -> str:
        """The first supervisor's password, as the service wrote it in its state folder."""
        path = home / "initial-admin.txt"
        if not path.exists():
            raise RuntimeError(f"{path} missing: give the stack's --home or --admin-password")
        text = path.read_text(encoding="utf-8")
        match = re.search(r"password: (\S+)", text) or re.search(r"密码[：: ]*(\S+)", text)
        if not match:
            raise RuntimeError(f"no password in {home / 'initial-admin.txt'}")
        return match[1]


class ChannelAdapter(ABC):
    """How a resident reaches the bot. ``web`` is the bot's hotline_web channel; SMS and voice
    (signed Twilio webhooks to /webhooks/hotline_sms|hotline_voice/webhook, in bot/channels) plug
    in with ``register_channel``: ``new_conversation`` returns the id Rasa keys the tracker by
    (for those channels the caller's number, so it must be fresh per scenario and run), and
    ``send`` posts one message and turns the answer (TwiML, SMS text) into BotMessages."""

    name: str = ""

    def __init__(self, stack: StackEndpoints) -> None:
        self.stack = stack

    @abstractmethod
    def new_conversation(self, scenario: Scenario, run_id: str) -> str:
        """A conversation id unique to this run (it is also the tracker's sender id)."""

    @abstractmethod
    def send(self, client: httpx.Client, conversation: str, text: str) -> list[BotMessage]:
        """One resident message; the bot's replies to it."""

    def line_of(self, scenario: Scenario) -> str | None:
        """The phone line a scenario is played from, when the channel knows residents by it:
        two scenarios on one line are played one after the other (one phone holds one call
        at a time), never as one conversation."""
        return None


class WebChannel(ChannelAdapter):
    name = "web"

    def new_conversation(self, scenario: Scenario, run_id: str) -> str:
        return f"sim-{run_id}-{scenario.id}"

    def send(self, client: httpx.Client, conversation: str, text: str) -> list[BotMessage]:
        r = client.post(
            f"{self.stack.rasa_url}/webhooks/hotline_web/webhook",
            json={"sender": conversation, "message": text},
        )
        r.raise_for_status()
        return [
            BotMessage(
                text=m.get("text") or "",
                buttons=tuple(b.get("title", "") for b in m.get("buttons") or []),
            )
            for m in r.json()
        ]


CHANNELS: dict[str, Callable[[StackEndpoints], ChannelAdapter]] = {"web": WebChannel}


def register_channel(name: str, factory: Callable[[StackEndpoints], ChannelAdapter]) -> None:
    """For the SMS and voice adapters (sign the Twilio webhook, parse the TwiML/text back)."""
    CHANNELS[name] = factory


HARNESS_UNIT = "对话模拟测试办理单位"
CLOSING_REPLY = "（对话模拟测试结束，案件关闭）"


class Simulator:
    """Plays scenarios against one running stack; safe to use from several threads."""

    def __init__(
        self,
        stack: StackEndpoints,
        channel: str = "web",
        *,
        cleanup: bool = True,
        timeout: float = 120,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if channel not in CHANNELS:
            raise ValueError(f"channel {channel!r} not available (have: {sorted(CHANNELS)})")
        self.stack = stack
        self.channel = CHANNELS[channel](stack)
        self.cleanup = cleanup
        self.timeout = timeout
        self.transport = transport  # a stand-in stack for the simulator's own tests
        self.run_id = secrets.token_hex(4)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._unit_id: int | None = None

    def preflight(self) -> None:
        """Fail once, clearly, when the Rasa API token or the admin password is wrong, rather
        than in every scenario."""
        params = {"token": self.stack.rasa_token} if self.stack.rasa_token else {}
        with self.client() as client:
            try:
                r = client.get(f"{self.stack.rasa_url}/status", params=params)
            except httpx.HTTPError as exc:
                raise RuntimeError(f"Rasa at {self.stack.rasa_url} unreachable: {exc}") from exc
        if r.status_code in (401, 403):
            raise RuntimeError("Rasa refused the API token (--rasa-token, HOTLINE_RASA_TOKEN)")
        try:
            self._staff_token()
        except httpx.HTTPError as exc:
            raise RuntimeError(f"no supervisor login at {self.stack.api_url}: {exc}") from exc

    # -- staff API --

    def _staff_token(self) -> str:
        with self._lock:
            if self._token is None:
                if not self.stack.admin_password:
                    raise RuntimeError("no supervisor password (initial-admin.txt) for the API")
                with self.client() as client:
                    r = client.post(
                        f"{self.stack.api_url}/api/v1/auth/token",
                        json={"username": "admin", "password": self.stack.admin_password},
                    )
                r.raise_for_status()
                self._token = r.json()["access_token"]
            return self._token

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(timeout=self.timeout, transport=self.transport, **kwargs)

    def staff(self) -> httpx.Client:
        return self.client(
            base_url=self.stack.api_url,
            headers={"Authorization": f"Bearer {self._staff_token()}"},
        )

    def _unit(self, staff: httpx.Client) -> int:
        """One handling unit for every setup case (created on first use)."""
        with self._lock:
            if self._unit_id is None:
                r = staff.post(
                    "/api/v1/units", json={"name": HARNESS_UNIT, "kind": "civil_affairs"}
                )
                if r.status_code == 409:
                    units = staff.get("/api/v1/units").json()
                    self._unit_id = next(u["id"] for u in units if u["name"] == HARNESS_UNIT)
                else:
                    _ok(r, "create unit")
                    self._unit_id = r.json()["id"]
            return self._unit_id

    def _move(self, staff: httpx.Client, number: str, state: str, reply: str | None) -> None:
        """From 已受理 along the lifecycle to ``state``, as an office would."""
        if state == "已受理":
            return
        _ok(
            staff.post(f"/api/v1/cases/{number}/assign", json={"unit_id": self._unit(staff)}),
            f"assign {number}",
        )
        if state == "已转办":
            return
        _ok(
            staff.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"}),
            f"{number} → 办理中",
        )
        if state == "办理中":
            return
        body = {"to": "已办结", "reply": reply or "经核查，已按规定处理。"}
        _ok(staff.post(f"/api/v1/cases/{number}/transition", json=body), f"{number} → 已办结")

    def file_setup_case(self, staff: httpx.Client, scenario: Scenario) -> str:
        setup = scenario.setup
        assert setup is not None
        body = {
            "text": setup.text,
            "channel": "web",
            "phone": setup.phone,
            "idempotency_key": f"sim-{self.run_id}-{scenario.id}"[:100],
        }
        if setup.village:
            body["village"] = setup.village
        with self.client() as public:  # residents file without a login
            r = public.post(
                f"{self.stack.api_url}/api/v1/complaints", params={"classify": "now"}, json=body
            )
        _ok(r, "file setup case")
        number = r.json()["number"]
        if r.json().get("joined_case"):
            # An earlier run's open case from the same phone: take this one out on its own.
            _ok(staff.post(f"/api/v1/cases/{number}/split"), f"split {number}")
        self._move(staff, number, setup.state, setup.public_answer)
        return number

    def _close(self, staff: httpx.Client, number: str) -> None:
        """Best effort: close what a run left open, so a rerun on the same stack (same phone,
        same item) is not joined to it as a repeat."""
        try:
            case = staff.get(f"/api/v1/cases/{number}").json()
            state = case.get("state")
            if state not in ("已受理", "已转办", "办理中", "重新办理"):
                return
            if state == "已受理" and case.get("category") == "OUT":
                staff.post(f"/api/v1/cases/{number}/refer", json={"reason": CLOSING_REPLY})
                return
            if state == "已受理":
                staff.post(f"/api/v1/cases/{number}/assign", json={"unit_id": self._unit(staff)})
            if state in ("已受理", "已转办", "重新办理"):
                staff.post(f"/api/v1/cases/{number}/transition", json={"to": "办理中"})
            staff.post(
                f"/api/v1/cases/{number}/transition", json={"to": "已办结", "reply": CLOSING_REPLY}
            )
        except httpx.HTTPError:
            pass

    # -- the conversation --

    def tracker_slots(self, client: httpx.Client, conversation: str) -> dict[str, Any]:
        params = {"token": self.stack.rasa_token} if self.stack.rasa_token else {}
        r = client.get(f"{self.stack.rasa_url}/conversations/{conversation}/tracker", params=params)
        r.raise_for_status()
        return r.json().get("slots") or {}

    def play(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        transcript: list[Line] = []
        failures: list[CheckFailure] = []
        seen = Observed()
        filed: str | None = None
        error = None
        try:
            with self.staff() as staff, self.client() as client:
                filed = self._play(scenario, staff, client, transcript, seen)
                expect = getattr(self.channel, "adjust", lambda e: e)(scenario.expect)
                failures = compare(expect, seen)
        except (httpx.HTTPError, RuntimeError, ScenarioError, KeyError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            failures.append(CheckFailure("harness", "the scenario played to the end", error))
        return ScenarioResult(
            id=scenario.id,
            persona=scenario.persona,
            task=scenario.task,
            passed=not failures,
            failures=failures,
            transcript=transcript,
            turns=seen.turns,
            filed_number=filed,
            error=error,
            seconds=round(time.monotonic() - started, 1),
        )

    def _play(
        self,
        scenario: Scenario,
        staff: httpx.Client,
        client: httpx.Client,
        transcript: list[Line],
        seen: Observed,
    ) -> str | None:
        setup_number = None
        values: dict[str, str] = {}
        if scenario.setup is not None:
            setup_number = self.file_setup_case(staff, scenario)
            values = placeholder_values(setup_number, scenario.setup.phone)
            transcript.append(
                Line("harness", f"setup case {setup_number} ({scenario.setup.state})")
            )
        conversation = self.channel.new_conversation(scenario, self.run_id)
        replies: list[BotMessage] = []
        cap = scenario.max_turns + EXTRA_TURNS

        def say(text: str, note: str) -> None:
            message = fill(text, values)
            transcript.append(Line("resident", message, note))
            seen.turns += 1
            answer = self.channel.send(client, conversation, message)
            replies.extend(answer)
            shown = [Line("bot", m.shown) for m in answer if m.shown]
            transcript.extend(shown or [Line("bot", "(no text reply)")])

        for text in scenario.says:
            if seen.turns >= cap:
                break
            say(text, "says")
        # Answer what is asked; once nothing is, say the `then` messages (after the goal, or as
        # the way to it: a person asked for after filing) and keep answering (a repeat complaint
        # is asked its details again).
        state = ResidentState()
        then_said = False
        # Cases filed, in the order the tracker held them (an SMS reply does not repeat the
        # number: the receipt text carries it).
        filed_in_order: list[str] = []
        while True:
            if seen.turns >= cap:
                transcript.append(Line("harness", f"stopped at the cap of {cap} messages"))
                break
            slots = self.tracker_slots(client, conversation)
            if (number := slots.get("filed_number")) and number not in filed_in_order:
                filed_in_order.append(number)
            answer = next_answer(scenario, slots, state)
            if answer is not None:
                say(*answer)
                continue
            if then_said:
                break
            if not self._goal_reached(scenario, staff, slots, replies, setup_number):
                transcript.append(Line("harness", "nothing asked and the goal is not reached"))
                if not scenario.then:
                    break
                # The `then` messages may be what reaches it ("登记完了是吧，能转个人吗").
            if not scenario.then:
                break
            for text in scenario.then:
                if seen.turns < cap:
                    say(text, "then")
            then_said = True
        slots = self.tracker_slots(client, conversation)

        seen.replies = "\n".join(m.shown for m in replies)
        # The case checked is the first this conversation filed: a second matter told later
        # is a case of its own ("还有个事，跟这个不是一码事…").
        filed = (
            _first_filed(staff, replies, setup_number)
            or next(iter(filed_in_order), None)
            or slots.get("filed_number")
        )
        # Every case this conversation made or was told about.
        numbers = [n for n in (filed, setup_number) if n] + [
            n for m in replies for n in case_numbers_in(m.text)
        ]
        if "handoff" in scenario.expect:
            seen.handoff = any(self._is_handoff(staff, n) for n in dict.fromkeys(numbers))
        if filed and "case" in scenario.expect:
            r = _classified(staff, filed)
            if r.status_code == 200:
                seen.case = r.json()
                contact = staff.get(f"/api/v1/cases/{filed}/contact")
                seen.contact = contact.json() if contact.status_code == 200 else None
            else:
                transcript.append(Line("harness", f"case {filed}: HTTP {r.status_code}"))
        if setup_number and "rating" in scenario.expect:
            seen.rating = staff.get(f"/api/v1/cases/{setup_number}").json().get("rating")
        if filed:
            transcript.append(Line("harness", f"filed case {filed}"))
        if self.cleanup:
            for number in dict.fromkeys(numbers):
                self._close(staff, number)
        return filed

    def _goal_reached(
        self,
        scenario: Scenario,
        staff: httpx.Client,
        slots: dict[str, Any],
        replies: list[BotMessage],
        setup_number: str | None,
    ) -> bool:
        """Whether the task is done once the bot asks nothing more: a case filed, a person
        recorded; a status, rating or policy answer needs no more than the bot's answer."""
        filed = slots.get("filed_number") or _last_number(replies, setup_number)
        if scenario.task == "file":
            return bool(filed)
        if scenario.task == "human":
            numbers = [n for n in (filed, setup_number) if n]
            numbers += [n for m in replies for n in case_numbers_in(m.text)]
            return any(self._is_handoff(staff, n) for n in dict.fromkeys(numbers))
        return True

    @staticmethod
    def _is_handoff(staff: httpx.Client, number: str) -> bool:
        """A case created for a person, or a handoff written into a case's history."""
        r = staff.get(f"/api/v1/cases/{number}")
        if r.status_code != 200:
            return False
        case = r.json()
        if "请求人工服务" in (case.get("text") or ""):
            return True
        return any((h.get("action") or "").startswith("handoff") for h in case.get("history") or [])

    def play_all(
        self,
        scenarios: Iterable[Scenario],
        jobs: int = 4,
        on_result: Callable[[ScenarioResult], None] | None = None,
    ) -> list[ScenarioResult]:
        """Play scenarios with a few threads; results in the scenarios' order."""
        from concurrent.futures import ThreadPoolExecutor

        todo = list(scenarios)
        lines: dict[str, list[int]] = {}
        for i, scenario in enumerate(todo):
            lines.setdefault(self.channel.line_of(scenario) or f"#{i}", []).append(i)

        def play_line(indexes: list[int]) -> list[ScenarioResult]:
            return [self.play(todo[i]) for i in indexes]

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            played = {
                i: result
                for indexes, future in [(ix, pool.submit(play_line, ix)) for ix in lines.values()]
                for i, result in zip(indexes, future.result(), strict=True)
            }
        results = [played[i] for i in range(len(todo))]
        for result in results:
            if on_result is not None:
                on_result(result)
        return results


def _last_number(replies: list[BotMessage], setup_number: str | None = None) -> str | None:
    """The case number in the last reply that has one (the read-back of a filing); the setup
    case's own number, read back in a status answer, is not a filing."""
    for message in reversed(replies):
        numbers = [n for n in case_numbers_in(message.text) if n != setup_number]
        if numbers:
            return numbers[-1]
    return None


def _first_filed(
    staff: httpx.Client, replies: list[BotMessage], setup_number: str | None = None
) -> str | None:
    """The first case number read out that is a stored case (not the setup case of a status
    check, nor a mistyped number the bot read back as not found)."""
    numbers = [n for m in replies for n in case_numbers_in(m.text) if n != setup_number]
    for number in dict.fromkeys(numbers):
        if staff.get(f"/api/v1/cases/{number}").status_code == 200:
            return number
    return None


def _ok(r: httpx.Response, what: str) -> None:
    if not r.is_success:
        raise RuntimeError(f"{what}: HTTP {r.status_code} {r.text[:300]}")


@dataclass
class Summary:
    """Task success per persona and overall, and how long filings took."""

    total: int
    passed: int
    per_persona: dict[str, tuple[int, int]] = field(default_factory=dict)  # passed, total
    filing_turns: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def persona_rate(self, persona: str) -> float:
        ok, n = self.per_persona[persona]
        return ok / n if n else 0.0

    @property
    def median_filing_turns(self) -> float | None:
        turns = sorted(self.filing_turns)
        if not turns:
            return None
        mid = len(turns) // 2
        return float(turns[mid]) if len(turns) % 2 else (turns[mid - 1] + turns[mid]) / 2


def summarize(results: list[ScenarioResult]) -> Summary:
    summary = Summary(total=len(results), passed=sum(r.passed for r in results))
    for r in results:
        ok, n = summary.per_persona.get(r.persona, (0, 0))
        summary.per_persona[r.persona] = (ok + r.passed, n + 1)
        if r.task == "file" and r.filed_number:
            summary.filing_turns.append(r.turns)
    summary.per_persona = dict(sorted(summary.per_persona.items()))
    return summary
