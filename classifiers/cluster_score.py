"""How strongly a new complaint belongs to an open event: a sum of evidence staff can read.

Agreement on what identifies an event (same village, same cadre, same pond, same sum, same year,
the same rare detail such as 小舅子) adds; a contradiction subtracts (another village, another
cadre, another year, a bridge where the event is about a road). Same-event complaints share few
words, so words count only when they are rare, and never alone decide.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from classifiers.cluster_config import Weights
from classifiers.cluster_features import KINDS, Features, matter_vector, usual_objects
from classifiers.cluster_vocab import WEAK_FAMILIES
from classifiers.entities import amount_range

# Offices that may be one person: 书记 and 主任 often are (一肩挑), a candidate runs for them.
_OFFICE = {
    "secretary": "head",
    "director": "head",
    "candidate": "head",
    "accountant": "staff",
    "clerk": "staff",
    "group_leader": "group_leader",
    "township_head": "township_head",
    "official": "official",
    "contractor": "contractor",
    "doctor": "doctor",
}
_EMPTY: frozenset = frozenset()
# Object keys that only say a firm is involved; its name tells which.
_GENERIC_ORG = frozenset({"facility/cooperative"})
# Below this cosine the matter still counts, but is too slight to show staff as a reason.
MATTER_SHOWN = 0.15


class Profile:
    """What a complaint or an event is known by: the union of the keys of its complaints per
    kind, with the summaries scoring needs kept up to date as complaints join, so scoring a large
    event costs no more than a small one."""

    __slots__ = (
        "_sets",
        "families",
        "full_names",
        "matter",
        "matter_norm2",
        "officials",
        "surnames",
        "usual",
    )

    def __init__(self, members: Iterable[tuple[Features, str | None]] = ()) -> None:
        self._sets: dict[str, set] = {}
        self.full_names: set[str] = set()  # person keys of two or more syllables
        self.surnames: set[str] = set()
        self.officials: dict[str, set[str]] = {}  # surname -> offices (刘主任, 会计姓赵)
        self.families: dict[str, set[str]] = {}  # object family -> "family/kind" keys
        self.matter: dict[str, float] = {}  # sum of its complaints' matter vectors
        self.matter_norm2 = 0.0
        self.usual: set[str] = set()  # objects its items' complaints usually name
        for f, item in members:
            self.add(f, item)

    def add(self, f: Features, item: str | None = None) -> None:
        """Take in one complaint; ``item`` (its supervision item) weighs its matter."""
        for kind in KINDS:
            values = getattr(f, kind)
            if values:
                self._sets.setdefault(kind, set()).update(values)
        self.full_names.update(k for k in f.person if " " in k)
        for key in f.surname:
            surname, _, role = key.partition("/")
            if not role:
                self.surnames.add(surname)
            elif role in _OFFICE:
                self.officials.setdefault(surname, set()).add(_OFFICE[role])
        for key in f.object:
            self.families.setdefault(key.split("/", 1)[0], set()).add(key)
        if item:
            self.usual.update(usual_objects().get(item, ()))
        centroid = self.matter
        for gram, weight in matter_vector(f.gram, item).items():
            old = centroid.get(gram, 0.0)
            centroid[gram] = old + weight
            self.matter_norm2 += (old + weight) ** 2 - old * old

    def matter_cosine(self, other: Profile) -> float | None:
        """Cosine of the two matter centroids; None when either says nothing."""
        if not self.matter_norm2 or not other.matter_norm2:
            return None
        small, large = sorted((self.matter, other.matter), key=len)
        dot = sum(v * large.get(k, 0.0) for k, v in small.items())
        return dot / math.sqrt(self.matter_norm2 * other.matter_norm2)

    def __getitem__(self, kind: str) -> set | frozenset:
        return self._sets.get(kind, _EMPTY)


def profile_of(members: Iterable[tuple[Features, str | None]]) -> Profile:
    """The profile of an event with these complaints (each with its supervision item)."""
    return Profile(members)


@dataclass
class Match:
    score: float
    evidence: list[tuple[str, str, float]] = field(default_factory=list)  # (kind, detail, weight)

    def add(self, kind: str, detail: str, weight: float) -> None:
        if weight:
            self.evidence.append((kind, detail, weight))
            self.score += weight


def _close(a: int, b: int) -> bool:
    """Two amount keys that may be one sum: 8.6万 and 86000, 八万多 and 86000 (not 80000 and
    86000, both said exactly)."""
    if a >= 0 and b >= 0:
        return abs(a - b) <= 0.05 * max(a, b)
    (a_low, a_high), (b_low, b_high) = amount_range(a), amount_range(b)
    return a_low < b_high and b_low < a_high


def _differences(amounts: Iterable[int]) -> set[int]:
    """What is missing between two sums said exactly: 标准4万2, 到手3万1 -> 11000 扣了."""
    exact = sorted({a for a in amounts if a > 0})
    return {b - a for i, a in enumerate(exact) for b in exact[i + 1 :] if b - a >= 10}


def shared_amounts(new: set[int], event: set[int]) -> list[int]:
    """The new complaint's sums that the event tells of too: the same sum, or the gap between
    two of the event's (or the new complaint's gap and one of the event's)."""
    theirs = set(event) | _differences(event)
    mine = set(new) | _differences(new)
    return sorted(a for a in mine if any(_close(a, b) for b in theirs))


def score_match(
    new: Profile,
    event: Profile,
    relation: str,
    gap_days: float,
    weights: Weights,
    idf: Callable[[str], float],
    label: Callable[[str, object], str] | None = None,
) -> Match:
    """Evidence that a complaint (profile ``new``) belongs to an event (profile ``event``).
    ``relation`` is "item" (same supervision item) or "group" (a related item of its group)."""
    w = weights

    def show(kind: str, keys: Iterable) -> str:
        """Details for the explanation, only when asked for (``label`` given)."""
        return "" if label is None else "、".join(label(kind, k) for k in sorted(keys))

    match = Match(0.0)
    match.add("item", relation, w.same_item if relation == "item" else w.same_group)

    for kind, plus, minus in (
        ("village", w.village, w.village_conflict),
        ("township", w.township, w.township_conflict),
        ("group", w.group, w.group_conflict),
    ):
        mine, theirs = new[kind], event[kind]
        if mine and theirs:
            shared = mine & theirs
            if shared:
                match.add(kind, show(kind, shared), plus)
            else:
                match.add(kind + "_conflict", "", minus)

    _score_persons(new, event, w, show, match)

    both_named = "org" in new.families and "org" in event.families
    usual = new.usual | event.usual
    for family in sorted(new.families.keys() & event.families.keys()):
        shared = new.families[family] & event.families[family]
        if both_named and shared and shared <= _GENERIC_ORG:
            continue  # 绿源合作社 and 丰收合作社: the names decide, not the shared 合作社
        if shared and shared <= usual:
            continue  # two 高龄津贴 complaints agree on nothing their item does not say
        shared -= usual
        weak = family in WEAK_FAMILIES
        plus, minus = (
            (w.organisation, w.organisation_conflict)
            if family == "org"
            else (w.relative, w.object_conflict)
            if family == "relative"
            else (w.wrongdoing, w.wrongdoing_conflict)
            if weak
            else (w.object, w.object_conflict)
        )
        if shared:
            match.add(f"object:{family}", show("object", shared), plus)
        else:
            match.add(f"object_conflict:{family}", "", minus)

    amounts = shared_amounts(new["amount"], event["amount"])
    if amounts:
        match.add("amount", show("amount", amounts[:3]), w.amount)

    # A year written in the new complaint (2020年) must fit the years of the event: those its
    # complaints write, or else the years they were received in (2020年发大水 is not this
    # summer's flood). 去年/今年 only ever add: they often date something else (去年走了).
    shared_years = new["year"] & event["year"]
    if shared_years:
        match.add("year", "、".join(str(y) for y in sorted(shared_years)), w.year)
    elif new["stated_year"] and event["era"] and new["stated_year"].isdisjoint(event["era"]):
        gap = min(abs(a - b) for a in new["stated_year"] for b in event["era"])
        if gap > 1:
            match.add("year_conflict", "", w.year_conflict)
        else:
            match.add("near_year_conflict", "", w.near_year_conflict)
    elif (
        not new["stated_year"]
        and event["stated_year"]
        and new["era"]
        and event["era"] == event["stated_year"]
        and min(abs(a - b) for a in new["era"] for b in event["era"]) > 1
    ):
        # The other way round: an event that is only ever dated years back (2021年那次选举) is
        # not the one a complaint received now tells of without a year.
        match.add("year_conflict", "", w.year_conflict)

    shared_words = [(v, k) for k in new["word"] & event["word"] if (v := idf(k)) > w.word_floor]
    if shared_words:
        rarity = sum(v - w.word_floor for v, _ in shared_words)
        top = [k for v, k in sorted(shared_words, reverse=True)[:4] if v >= w.word_floor + 2]
        match.add("word", show("word", top), min(w.word_cap, w.word_unit * rarity))

    if w.matter:
        _score_matter(new, event, w, match)

    if gap_days > w.grace_days:
        match.add("time", f"{gap_days:.0f}", w.per_month * (gap_days - w.grace_days) / 30)
    return match


def _score_matter(new: Profile, event: Profile, w: Weights, match: Match) -> None:
    """The matter beside the entities: the same village and item about another thing (宅基地
    not approved vs a cadre's son building on farmland) shares few of its words with the event;
    reports of one matter share many, in whatever register."""
    cosine = new.matter_cosine(event)
    if cosine is None:
        return
    weight = w.matter * (cosine - w.matter_center)
    weight = max(w.matter_floor, min(w.matter_cap, weight))
    if abs(weight) >= 0.05:
        match.add("matter" if weight > 0 else "matter_conflict", f"{cosine:.2f}", weight)


def _score_persons(
    new: Profile, event: Profile, w: Weights, show: Callable[[str, Iterable], str], match: Match
) -> None:
    """Same full name or same surname adds; different officials (刘主任 and 黄会计), or two
    different full names of one surname, subtract. Names without a title (relatives, 王某) only
    add: the same event may name a cadre in one complaint and his relative in another."""
    mine_off, their_off = new.officials, event.officials
    shared_full = new.full_names & event.full_names
    shared = new.surnames & event.surnames
    if shared_full:
        match.add("full_name", show("person", shared_full), w.full_name)
    elif shared:
        mine_same = any(k.split(" ")[0] in shared for k in new.full_names)
        their_same = any(k.split(" ")[0] in shared for k in event.full_names)
        offices_differ = all(
            mine_off.get(s) and their_off.get(s) and not mine_off[s] & their_off[s] for s in shared
        )
        if (mine_same and their_same) or offices_differ:
            match.add("person_conflict", "", w.person_conflict)  # 刘长贵 vs 刘洪, 刘会计 vs 刘主任
            return
        match.add("surname", show("surname", shared), w.surname)
    elif mine_off and their_off:
        match.add("person_conflict", "", w.person_conflict)
        return
    else:
        return
    if any(mine_off.get(s, _EMPTY) & their_off.get(s, _EMPTY) for s in shared):
        match.add("role", "", w.role)


_KIND_NAMES = {
    "village": "同村",
    "township": "同乡镇",
    "group": "同组",
    "full_name": "同一人员",
    "surname": "同姓人员",
    "role": "职务相同",
    "amount": "金额相近",
    "year": "年份一致",
    "matter": "所说之事相近",
    "word": "共同细节",
    "object:facility": "同一对象",
    "object:programme": "同一项目",
    "object:livestock": "同一养殖",
    "object:crop": "同一作物",
    "object:cause": "同一起因",
    "object:machine": "同一农机",
    "object:matter": "同一事由",
    "object:wrongdoing": "同类问题",
    "object:org": "同一单位",
    "object:relative": "同一干部亲属",
}
_CONFLICT_NAMES = {
    "village_conflict": "村名不同",
    "township_conflict": "乡镇不同",
    "group_conflict": "组别不同",
    "person_conflict": "涉及人员不同",
    "year_conflict": "年份不同",
    "near_year_conflict": "年份相差一年",
    "matter_conflict": "所说之事不同",
    "object_conflict:facility": "对象不同",
    "object_conflict:programme": "项目不同",
    "object_conflict:livestock": "养殖品种不同",
    "object_conflict:crop": "作物不同",
    "object_conflict:cause": "起因不同",
    "object_conflict:machine": "农机不同",
    "object_conflict:matter": "事由不同",
    "object_conflict:wrongdoing": "问题性质不同",
    "object_conflict:org": "单位不同",
    "object_conflict:relative": "干部亲属不同",
}


def explain(match: Match, item_name: str = "") -> str:
    """The evidence as staff read it: 同一事项（最低生活保障）；同村（河湾）；…"""
    parts = []
    for kind, detail, weight in match.evidence:
        if kind == "item":
            name = "同一事项" if detail == "item" else "相关事项"
            parts.append(f"{name}（{item_name}）" if item_name else name)
        elif kind == "time":
            if weight <= -0.1:
                parts.append(f"相隔{detail}天{weight:+.1f}")
        elif (kind == "word" and not detail) or (kind == "matter" and float(detail) < MATTER_SHOWN):
            continue  # nothing to name, or too slight to give as a reason
        elif kind in _KIND_NAMES:
            parts.append(f"{_KIND_NAMES[kind]}（{detail}）" if detail else _KIND_NAMES[kind])
        elif kind in _CONFLICT_NAMES:
            parts.append(f"{_CONFLICT_NAMES[kind]}{weight:+.1f}")
    return "；".join(parts)


def best_match(
    scored: Sequence[tuple[str, Match]], threshold: float
) -> tuple[str | None, Match | None]:
    """The highest-scoring event at or above the threshold (ties: the most recent, listed last)."""
    best_id, best = None, None
    for event_id, m in scored:
        if m.score >= threshold and (best is None or m.score >= best.score):
            best_id, best = event_id, m
    return best_id, best
