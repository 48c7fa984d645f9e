"""Incremental event clustering: many people, one event, reviewed jointly.

Each new complaint is compared with the *open* events (last reported within the window) of the
same or a related supervision item that share something identifying with it: an inverted index
from village, township, person, object (the well, a named cooperative) and rare-word keys to
events gives the candidates, so the cost of one insert depends on how many events share those
keys, not on how many cases exist. The best
candidate at or above the threshold is joined; otherwise the complaint starts its own event.

Staff decisions are constraints that outlive the run: ``merge(a, b)`` says cases a and b are one
event, ``split(c)`` says c is not part of the event it was in. Both are applied at once and kept
(``decisions``, ``to_state``); a clusterer restored from its state, or one given the decisions and
fed the same complaints again, honours them: a case joins the event of a case it was merged with
and never the event of a case it was split from.
"""

from __future__ import annotations

import gzip
import heapq
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from classifiers.cluster_config import ClusterConfig
from classifiers.cluster_features import Features, WordRarity, background_df, complaint_features
from classifiers.cluster_score import (
    Match,
    Profile,
    best_match,
    explain,
    profile_of,
    score_match,
)
from classifiers.cluster_vocab import WEAK_FAMILIES
from classifiers.entities import Lexicon
from classifiers.taxonomy import Taxonomy

STATE_FORMAT = 1
MATCHED_SHOWN = 100  # "matched" lists at most this many other cases, the latest
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Complaint:
    """One complaint as the clusterer sees it. ``alternatives`` are further likely items when the
    category was predicted with little confidence."""

    id: str
    text: str
    category: str
    reporter: str | None = None
    received_at: datetime | None = None
    alternatives: tuple[str, ...] = ()
    # Tells no matter yet (a request for a person, the story still to come): an event of its
    # own that nothing joins, or every such request would look like one event.
    alone: bool = False


@dataclass(frozen=True)
class Assignment:
    """Where one complaint went, and why."""

    case_id: str
    event_id: str
    matched: tuple[str, ...]  # the other cases of the event now (the latest MATCHED_SHOWN)
    score: float | None
    why: str
    reporters: int
    joint_review: bool

    def as_output(self) -> dict:
        return {
            "id": self.case_id,
            "cluster": self.event_id if self.matched else None,
            "matched": list(self.matched),
            "why": self.why,
            "score": None if self.score is None else round(self.score, 2),
            "reporters": self.reporters,
            "joint_review": self.joint_review,
        }


@dataclass(frozen=True)
class EventView:
    """An event as the case service stores it."""

    id: str
    members: tuple[str, ...]
    categories: tuple[str, ...]
    reporters: int
    joint_review: bool
    first_at: str
    last_at: str
    open: bool


class _Case:
    __slots__ = ("alone", "event", "features", "id", "items", "reporter", "t")

    def __init__(
        self,
        case_id: str,
        event: str,
        t: float,
        reporter: str,
        items: tuple[str, ...],
        features: Features,
        alone: bool = False,
    ) -> None:
        self.id, self.event, self.t, self.reporter = case_id, event, t, reporter
        self.items, self.features, self.alone = items, features, alone


class _Event:
    __slots__ = (
        "alts",
        "first",
        "id",
        "items",
        "last",
        "members",
        "open",
        "profile",
        "reporters",
    )

    def __init__(self, event_id: str) -> None:
        self.id = event_id
        self.members: list[str] = []
        self.reporters: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.alts: Counter[str] = Counter()  # items its unsure complaints may also be about
        self.first = float("inf")
        self.last = float("-inf")
        self.profile: Profile | None = None  # built when first scored, dropped when closed
        self.open = True


def _is_anchor(object_key: str) -> bool:
    """Objects an event is found by (the well, the solar plant, a named firm), not the kind of
    wrongdoing, which many events share: a report naming no place still reaches its event."""
    return object_key.split("/", 1)[0] not in WEAK_FAMILIES


def to_days(moment: datetime) -> float:
    """Days since 1970 (naive times are taken as they are, in one consistent clock)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH).total_seconds() / 86400


def _iso(days: float) -> str:
    return (_EPOCH + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventClusterer:
    """Groups complaints about the same event; see the module docstring."""

    def __init__(
        self,
        taxonomy: Taxonomy,
        config: ClusterConfig | None = None,
        *,
        decisions: Iterable[dict] = (),
    ) -> None:
        self.taxonomy = taxonomy
        self.config = config or ClusterConfig()
        self.lexicon = Lexicon()
        self.rarity = WordRarity(background_df() if self.config.use_background else None)
        self._cases: dict[str, _Case] = {}
        self._events: dict[str, _Event] = {}
        self._alias: dict[str, str] = {}  # merged-away event id -> surviving id
        self._postings: dict[str, list[str]] = {}  # index key -> event ids, oldest first
        self._expiry: list[tuple[float, str]] = []  # (last report, event id): a heap
        self._links: dict[str, dict[str, int]] = {}  # case -> other case -> +1 same / -1 apart
        self._decisions: list[dict] = []
        self._seq = 0
        # Where new event ids come from when not this clusterer's own counter (the case service
        # on PostgreSQL: a sequence, so no id is handed out twice by two hosts or a restart).
        self.new_event_id: Callable[[], str] | None = None
        self._now = float("-inf")
        # A labelled set is replayed whatever today's date is; a service refuses a report dated
        # in the future (one wrong clock would close every open event).
        self.accept_future = False
        self.stats = Counter()  # "scored": candidate events scored, over all inserts
        for decision in decisions:
            self._record_links(decision)
            self._decisions.append(dict(decision))

    # -- public API ---------------------------------------------------------------------------
    def add(self, complaint: Complaint) -> Assignment:
        """Cluster one complaint (in arrival order) and say where it went."""
        if complaint.id in self._cases:
            raise ValueError(f"案件编号重复：{complaint.id}")
        items = (complaint.category, *complaint.alternatives)
        if complaint.category not in self.taxonomy.by_code:
            raise ValueError(f"未知事项编码：{complaint.category}")
        t = to_days(complaint.received_at) if complaint.received_at else self._default_time()
        if not self.accept_future and t > to_days(datetime.now(UTC)) + 1:
            # One wrong clock would close every open event: refuse it.
            raise ValueError(f"received_at在未来：{complaint.received_at}")
        received = complaint.received_at.date() if complaint.received_at else None
        features, entities = complaint_features(complaint.text, received, self.lexicon)
        self.lexicon.learn(entities)
        reporter = complaint.reporter or f"#{complaint.id}"
        case = _Case(
            complaint.id,
            "",
            t,
            reporter,
            tuple(i for i in items if i in self.taxonomy.by_code),
            features,
            complaint.alone,
        )

        forced, forbidden = self._constraints(case.id)
        match: Match | None = None
        if case.alone and not forced:
            event = self._new_event()
        elif forced:
            target = forced[0]
            for other in forced[1:]:
                target = self._merge_events(target, other)
            event = self._events[target]
        else:
            mine = Profile([(features, complaint.category)])
            scored = [
                (ev.id, m)
                for ev in self._candidates(case)
                if ev.id not in forbidden
                if (m := self._score(case, mine, ev)) is not None
            ]
            self.stats["scored"] += len(scored)
            best_id, match = best_match(scored, self.config.weights.threshold)
            if best_id:
                event = self._events[best_id]
                match = self._score(case, mine, event, explain=True)  # details for staff
            else:
                event = self._new_event()
        self._cases[case.id] = case
        self._join(event, case)
        self._index(event.id, case)
        self.rarity.observe((*features.word, *features.gram))
        if complaint.received_at is not None:  # only real times move the clock
            self._now = max(self._now, t)
            self._close_stale()
        return self._assignment(case, event, match, forced=bool(forced))

    def merge(self, a: str, b: str, *, note: str = "") -> str:
        """Staff: the events of cases ``a`` and ``b`` are one. Returns the surviving event id."""
        ea, eb = self._event_of(a), self._event_of(b)
        decision = {
            "op": "merge",
            "a": a,
            "b": b,
            "note": note,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # A merge overrides earlier splits between the two sides.
        for x in ea.members:
            for y in eb.members:
                if self._links.get(x, {}).get(y) == -1:
                    self._links[x].pop(y, None)
                    self._links[y].pop(x, None)
        self._record_links(decision)
        self._decisions.append(decision)
        return ea.id if ea is eb else self._merge_events(ea.id, eb.id)

    def split(self, case_id: str, *others: str, note: str = "") -> str:
        """Staff: ``case_id`` (with ``others`` of the same event, if given) is not part of its
        event. They become an event of their own; returns its id."""
        event = self._event_of(case_id)
        moving = [case_id, *others]
        for other in others:
            if self._event_of(other) is not event:
                raise ValueError(f"{other} 不在 {case_id} 所在的事件中")
        staying = [m for m in event.members if m not in moving]
        decision = {
            "op": "split",
            "cases": moving,
            "from": staying,
            "note": note,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._record_links(decision)
        self._decisions.append(decision)
        if not staying:
            return event.id
        new = self._new_event()
        self._rebuild(event, [self._cases[m] for m in staying])
        self._rebuild(new, [self._cases[m] for m in moving])
        for m in moving:
            self._index(new.id, self._cases[m])
        return new.id

    def withdraw(self, case_id: str) -> str | None:
        """Take a case out of its event, to be added again as it reads now (a story told after
        a request for a person, a corrected item). Staff decisions about it stay and bind it
        when it is added again. Returns the event it left, or None when that event is gone."""
        event = self._event_of(case_id)
        del self._cases[case_id]
        staying = [self._cases[m] for m in event.members if m != case_id]
        if not staying:
            del self._events[event.id]  # the index and the expiry heap skip a missing event
            return None
        self._rebuild(event, staying)
        return event.id

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._cases

    def event_of(self, case_id: str) -> EventView:
        return self._view(self._event_of(case_id))

    def event(self, event_id: str) -> EventView:
        return self._view(self._events[self._resolve(event_id)])

    def events(self) -> Iterator[EventView]:
        for ev in self._events.values():
            yield self._view(ev)

    def case_category(self, case_id: str) -> str:
        """The item the case was clustered under."""
        if case_id not in self._cases:
            raise KeyError(f"没有编号为 {case_id} 的案件")
        return self._cases[case_id].items[0]

    def clusters(self) -> dict[str, str]:
        """Case id -> event id, for every case."""
        return {cid: case.event for cid, case in self._cases.items()}

    @property
    def decisions(self) -> list[dict]:
        return [dict(d) for d in self._decisions]

    def __len__(self) -> int:
        return len(self._cases)

    # -- persistence --------------------------------------------------------------------------
    def to_state(self) -> dict:
        """Everything needed to continue later: cases with their features, events, decisions."""
        return {
            "format": STATE_FORMAT,
            "config": self.config.to_dict(),
            "seq": self._seq,
            "now": self._now if self._now != float("-inf") else None,
            "cases": [
                [c.id, c.event, c.t, c.reporter, list(c.items), c.features.to_list(), c.alone]
                for c in self._cases.values()
            ],
            "aliases": self._alias,
            "decisions": self._decisions,
            "lexicon": self.lexicon.to_dict(),
            "rarity": {"n": self.rarity.n_seen, "seen": dict(self.rarity.seen)},
        }

    @classmethod
    def from_state(
        cls, state: dict, taxonomy: Taxonomy, config: ClusterConfig | None = None
    ) -> EventClusterer:
        """The events as saved. ``config`` (the running code's) replaces the saved one: an
        upgrade's new weights then apply to new complaints, and no event is renumbered."""
        if state.get("format") != STATE_FORMAT:
            raise ValueError("聚类状态文件格式不符，无法读取")
        self = cls(
            taxonomy,
            config or ClusterConfig.from_dict(state["config"]),
            decisions=state.get("decisions", ()),
        )
        self._seq = int(state["seq"])
        self._now = float(state["now"]) if state.get("now") is not None else float("-inf")
        self._alias = dict(state.get("aliases", {}))
        self.lexicon = Lexicon.from_dict(state.get("lexicon", {}))
        self.rarity.n_seen = int(state["rarity"]["n"])
        self.rarity.seen = Counter(state["rarity"]["seen"])
        for cid, eid, t, reporter, items, feats, *rest in state["cases"]:
            alone = bool(rest and rest[0])  # states saved before "alone" existed have none
            features = Features.from_list(feats)
            case = _Case(cid, "", float(t), reporter, tuple(items), features, alone)
            self._cases[cid] = case
            event = self._events.get(eid)
            if event is None:
                event = self._events[eid] = _Event(eid)
            self._join(event, case)
        for event in self._events.values():
            event.open = self._now - event.last <= self.config.window_days
        for case in self._cases.values():  # in arrival order, as the index was built
            if self._events[case.event].open:
                self._index(case.event, case)
        return self

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = json.dumps(self.to_state(), ensure_ascii=False).encode("utf-8")
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy) -> EventClusterer:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        return cls.from_state(json.loads(raw), taxonomy)

    # -- internals ----------------------------------------------------------------------------
    def _default_time(self) -> float:
        if self._now != float("-inf"):
            return self._now
        return to_days(datetime.now(UTC))

    def _resolve(self, event_id: str) -> str:
        root = event_id
        while root in self._alias:
            root = self._alias[root]
        while event_id in self._alias and self._alias[event_id] != root:
            self._alias[event_id], event_id = root, self._alias[event_id]
        return root

    def _event_of(self, case_id: str) -> _Event:
        if case_id not in self._cases:
            raise KeyError(f"没有编号为 {case_id} 的案件")
        return self._events[self._cases[case_id].event]

    def _new_event(self) -> _Event:
        if self.new_event_id is not None:  # the case service: ids from a database sequence
            event = _Event(self.new_event_id())
        else:
            self._seq += 1
            event = _Event(f"E{self._seq:06d}")
        self._events[event.id] = event
        return event

    def _groups(self, items: Iterable[str]) -> set[str]:
        by_code = self.taxonomy.by_code
        return {by_code[i].group for i in items if i in by_code}

    def _keys(self, case: _Case, for_query: bool) -> list[str]:
        f = case.features
        keys = []
        for group in sorted(self._groups(case.items)):
            keys.extend(f"v|{group}|{k}" for k in f.village)
            keys.extend(f"p|{group}|{k}" for k in f.person)
            keys.extend(f"s|{group}|{k}" for k in f.surname)
            keys.extend(f"t|{group}|{k}" for k in f.township)
            keys.extend(f"o|{group}|{k}" for k in f.object if _is_anchor(k))
            words = f.word
            if for_query:
                words = tuple(w for w in words if self.rarity.df(w) <= self.config.rare_word_df)
            keys.extend(f"w|{group}|{k}" for k in words)
        # Every event is listed under its items; a complaint that names no place (征地款一亩被扣了
        # 一万一) reads the latest few of its items' events, and the matter and the rest decide.
        if not for_query:
            keys.extend(f"i|{item}" for item in case.items[:1])
        elif not (f.village or f.township):
            keys.extend(f"i|{item}" for item in case.items)
        return keys

    def _index(self, event_id: str, case: _Case) -> None:
        if case.alone:
            return  # found by nothing: it tells no matter to be found by
        keep = self.config.scan_per_key
        for key in self._keys(case, for_query=False):
            postings = self._postings.setdefault(key, [])
            if not postings or postings[-1] != event_id:
                postings.append(event_id)
                if len(postings) > 2 * keep:
                    del postings[:-keep]  # only the most recent are ever read

    def _candidates(self, case: _Case) -> list[_Event]:
        window = self.config.window_days
        found: dict[str, _Event] = {}
        # A complaint that names its village needs the broad keys (surname, township) only for
        # events that name none; the most recent few suffice.
        broad = self.config.scan_per_key // 4 if case.features.village else self.config.scan_per_key
        for key in self._keys(case, for_query=True):
            postings = self._postings.get(key)
            if not postings:
                continue
            depth = (
                self.config.scan_per_item
                if key[0] == "i"
                else broad
                if key[0] in "st"
                else self.config.scan_per_key
            )
            for event_id in reversed(postings[-depth:]):
                event = self._events.get(self._resolve(event_id))
                if event is None or not event.open or event.id in found:
                    continue
                if case.t - event.last > window or event.first - case.t > window:
                    continue
                found[event.id] = event
                if len(found) >= self.config.max_candidates:
                    return list(found.values())
        return list(found.values())

    def _score(
        self, case: _Case, mine: Profile, event: _Event, explain: bool = False
    ) -> Match | None:
        """The evidence for ``case`` joining ``event``; None when it cannot: an unrelated item, or
        another village (the same item elsewhere is another event)."""
        if any(i in event.items for i in case.items):
            relation = "item"
        elif case.items[0] in event.alts or self._groups(case.items) & self._groups(event.items):
            # A related item, or this item where the event's classifier was unsure of its own.
            relation = "group"
        else:
            return None
        villages = case.features.village
        if villages and event.profile is None and len(event.members) == 1:
            theirs = self._cases[event.members[0]].features.village  # no profile needed yet
            if theirs and set(theirs).isdisjoint(villages):
                return None
        profile = self._profile(event)
        if villages and profile["village"] and profile["village"].isdisjoint(villages):
            return None
        gap = max(0.0, case.t - event.last, event.first - case.t)
        return score_match(
            mine,
            profile,
            relation,
            gap,
            self.config.weights,
            self.rarity.idf,
            self._labeller(case, event) if explain else None,
        )

    def _labeller(self, case: _Case, event: _Event) -> Callable[[str, object], str]:
        """How a shared key reads to staff: as the event first wrote it, and as this complaint
        does when that differs (河湾/和湾, 刘/流)."""
        members = [self._cases[m].features for m in event.members[:20]]

        def label(kind: str, key: object) -> str:
            mine = case.features.label(kind, key)
            wanted = f"{kind}:{key}"
            theirs = next((text for f in members for k, text in f.labels if k == wanted), mine)
            return theirs if theirs == mine else f"{theirs}/{mine}"

        return label

    def _profile(self, event: _Event) -> Profile:
        if event.profile is None:
            event.profile = profile_of(
                (self._cases[m].features, self._cases[m].items[0] if self._cases[m].items else None)
                for m in event.members
            )
        return event.profile

    def _join(self, event: _Event, case: _Case) -> None:
        case.event = event.id
        event.members.append(case.id)
        event.reporters[case.reporter] += 1
        event.items.update(case.items[:1])
        event.alts.update(case.items[1:])
        event.first = min(event.first, case.t)
        if case.t > event.last or not event.open:  # (re)schedule its closing
            event.last = max(event.last, case.t)
            heapq.heappush(self._expiry, (event.last, event.id))
        if event.profile is not None:
            event.profile.add(case.features, case.items[0] if case.items else None)
        event.open = True

    def _rebuild(self, event: _Event, cases: list[_Case]) -> None:
        event.members, event.reporters, event.items = [], Counter(), Counter()
        event.alts = Counter()
        event.first, event.last, event.profile = float("inf"), float("-inf"), None
        for case in cases:
            self._join(event, case)

    def _merge_events(self, keep_id: str, other_id: str) -> str:
        keep, other = self._events[self._resolve(keep_id)], self._events[self._resolve(other_id)]
        if keep is other:
            return keep.id
        if (other.first, other.id) < (keep.first, keep.id):
            keep, other = other, keep
        cases = sorted((self._cases[m] for m in keep.members + other.members), key=lambda c: c.t)
        self._rebuild(keep, cases)
        self._alias[other.id] = keep.id
        del self._events[other.id]
        for m in keep.members:
            self._index(keep.id, self._cases[m])
        return keep.id

    def _record_links(self, decision: dict) -> None:
        def link(x: str, y: str, sign: int) -> None:
            if x != y:
                self._links.setdefault(x, {})[y] = sign
                self._links.setdefault(y, {})[x] = sign

        if decision.get("op") == "merge":
            link(decision["a"], decision["b"], +1)
        elif decision.get("op") == "split":
            moving = list(decision.get("cases", ()))
            for x in moving:
                for y in decision.get("from", ()):
                    link(x, y, -1)
                for y in moving:
                    link(x, y, +1)
        else:
            raise ValueError(f"未知的人工决定：{decision.get('op')!r}")

    def _constraints(self, case_id: str) -> tuple[list[str], set[str]]:
        """(events this case must join, events it must not join), from staff decisions."""
        forced: list[str] = []
        forbidden: set[str] = set()
        for other, sign in self._links.get(case_id, {}).items():
            if other not in self._cases:
                continue
            event_id = self._cases[other].event
            if sign > 0 and event_id not in forced:
                forced.append(event_id)
            elif sign < 0:
                forbidden.add(event_id)
        return forced, forbidden - set(forced)

    def _close_stale(self) -> None:
        """Close the events last reported before the window (their profiles are dropped; the
        index forgets them as it goes)."""
        horizon = self._now - self.config.window_days
        while self._expiry and self._expiry[0][0] < horizon:
            _, event_id = heapq.heappop(self._expiry)
            event = self._events.get(event_id)
            if event is not None and event.open and event.last < horizon:
                event.open = False
                event.profile = None

    def _assignment(
        self, case: _Case, event: _Event, match: Match | None, forced: bool
    ) -> Assignment:
        members = event.members
        others = tuple(
            members[-MATCHED_SHOWN - 1 : -1]
            if members[-1] == case.id
            else [m for m in members[-MATCHED_SHOWN - 1 :] if m != case.id]
        )
        earlier = len(members) - 1
        if forced:
            why = "按人工合并决定归入此事件"
        elif case.alone:
            why = "尚未讲述具体事项（只请求了人工服务），不与其他反映归并"
        elif match is not None:
            names = [self.taxonomy.name_of(i) for i in case.items[:1]]
            why = explain(match, names[0] if names else "")
            first = "、".join(members[:3] if members[-1] == case.id else others[:3])
            more = f"等{earlier}件" if earlier > 3 else ""
            why = f"与{first}{more}同属一事：{why}"
        else:
            why = "未发现同一事件的其他反映"
        reporters = len(event.reporters)
        return Assignment(
            case.id,
            event.id,
            others,
            None if match is None else match.score,
            why,
            reporters,
            reporters >= self.config.joint_review_reporters,
        )

    def _view(self, event: _Event) -> EventView:
        reporters = len(event.reporters)
        return EventView(
            event.id,
            tuple(event.members),
            tuple(c for c, _ in event.items.most_common()),
            reporters,
            reporters >= self.config.joint_review_reporters,
            _iso(event.first),
            _iso(event.last),
            event.open,
        )


def parse_time(value: object) -> datetime | None:
    """ISO 8601 date or date-time (``2024-03-05``, ``2024-03-05T10:22:00+08:00``), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str):
        raise ValueError("received_at应为ISO格式的日期时间字符串")
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"received_at无法识别：{value!r}（应如 2024-03-05T10:22:00+08:00）"
        ) from exc
