"""Reply templates for residents (``config/replies.yml``), by item and target state.

The office edits the file, not code. Templates are checked when loaded: an unknown state or
placeholder stops the service from starting with a message saying where, rather than showing a
broken reply to a resident later.

Filling is a plain substitution of the six named placeholders ({number}, {item} …) and nothing
else: staff also write replies by hand (and bulk replies are filled per case), so the text must
never reach Python's ``str.format``, which evaluates attribute and index lookups.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

from api.lifecycle import State
from classifiers.paths import PROJECT_ROOT
from classifiers.taxonomy import Taxonomy

REPLIES_FILE = Path(os.environ.get("HOTLINE_REPLIES", PROJECT_ROOT / "config" / "replies.yml"))
STATES = (State.IN_PROGRESS.value, State.DONE.value, State.REFERRED.value)
PLACEHOLDERS = frozenset({"number", "item", "unit", "village", "township", "due"})


class RepliesError(ValueError):
    """The reply template file is malformed; the message says where."""


@dataclass(frozen=True)
class Template:
    title: str
    text: str


@dataclass(frozen=True)
class Replies:
    defaults: dict[str, tuple[Template, ...]]
    groups: dict[str, dict[str, tuple[Template, ...]]]
    items: dict[str, dict[str, tuple[Template, ...]]]

    def for_case(self, code: str | None, taxonomy: Taxonomy, state: str) -> list[Template]:
        """Item-specific templates first, then the item group's, then the general ones."""
        item = taxonomy.by_code.get(code or "")
        found: list[Template] = []
        if item is not None:
            found += self.items.get(item.code, {}).get(state, ())
            found += self.groups.get(item.group, {}).get(state, ())
        found += self.defaults.get(state, ())
        return found


_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_BRACED = re.compile(r"\{([^{}]*)\}")


def fill(template: Template, values: dict[str, str | None]) -> str:
    """The text with each known placeholder that has a value replaced by it. Anything else in
    braces (an unknown name, ``{0}``, ``{a.b}``, a lone brace) stays as written, for the writer
    to see and fix; nothing in the text is ever evaluated."""
    known = {k: str(v) for k, v in values.items() if v and k in PLACEHOLDERS}
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), template.text)


def placeholders(text: str) -> set[str]:
    """The names in braces in a template (to check them against ``PLACEHOLDERS``)."""
    return {m.group(1).strip() for m in _BRACED.finditer(text)}


def case_values(
    number: str,
    item_name: str | None,
    unit: str | None,
    village: str | None,
    township: str | None,
    due: date | None,
) -> dict[str, str | None]:
    return {
        "number": number,
        "item": item_name,
        "unit": unit,
        "village": village,
        "township": township,
        "due": f"{due.year}年{due.month}月{due.day}日" if due else None,
    }


# How close an edited template still counts as that template (a date or a word changed).
SAME_TEMPLATE = 0.85


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def misfit(
    replies: Replies,
    code: str | None,
    taxonomy: Taxonomy,
    target: str,
    values: dict[str, str | None],
    text: str | None,
) -> str | None:
    """The title of a template written for another target state that ``text`` is, as filled in
    or nearly (an edited date); None when it is one of ``target``'s own or the staff's own
    words. Closing a case with "已受理，正在核实…" is the mistake this catches."""
    if not text or not text.strip():
        return None
    said = _squash(text)
    own = replies.for_case(code, taxonomy, target)
    if any(said in (_squash(fill(t, values)), _squash(t.text)) for t in own):
        return None
    for state in STATES:
        if state == target:
            continue
        for t in replies.for_case(code, taxonomy, state):
            for candidate in (_squash(fill(t, values)), _squash(t.text)):
                if difflib.SequenceMatcher(None, said, candidate).ratio() >= SAME_TEMPLATE:
                    return t.title
    return None


def misfit_for_case(case, taxonomy: Taxonomy, target: str, text: str | None) -> str | None:
    """``misfit`` for a stored case (``api.models.Case``), with its own placeholders."""
    item = taxonomy.by_code.get(case.category or "")
    values = case_values(
        case.number,
        item.name if item else None,
        case.unit.name if case.unit else None,
        case.village,
        case.township,
        case.due_date,
    )
    return misfit(load_replies(), case.category, taxonomy, target, values, text)


def _templates(raw, where: str) -> dict[str, tuple[Template, ...]]:
    if not isinstance(raw, dict):
        raise RepliesError(f"{where}: expected a mapping of state -> templates")
    out: dict[str, tuple[Template, ...]] = {}
    for state, entries in raw.items():
        if state not in STATES:
            raise RepliesError(f"{where}: unknown state {state!r} (use one of {STATES})")
        if not isinstance(entries, list):
            raise RepliesError(f"{where}.{state}: expected a list of templates")
        checked = []
        for n, entry in enumerate(entries):
            if not isinstance(entry, dict) or not entry.get("title") or not entry.get("text"):
                raise RepliesError(f"{where}.{state}[{n}]: needs a title and a text")
            text = str(entry["text"])
            if any(c in _BRACED.sub("", text) for c in "{}"):
                raise RepliesError(f"{where}.{state}[{n}]: a brace without its pair in {text!r}")
            unknown = placeholders(text) - PLACEHOLDERS
            if unknown:
                raise RepliesError(
                    f"{where}.{state}[{n}]: unknown placeholder {sorted(unknown)} "
                    f"(allowed: {sorted(PLACEHOLDERS)})"
                )
            checked.append(Template(str(entry["title"]), text))
        out[state] = tuple(checked)
    return out


def parse(data: dict) -> Replies:
    if not isinstance(data, dict):
        raise RepliesError("the reply template file must be a mapping")
    return Replies(
        defaults=_templates(data.get("defaults") or {}, "defaults"),
        groups={
            str(k): _templates(v or {}, f"groups.{k}")
            for k, v in (data.get("groups") or {}).items()
        },
        items={
            str(k): _templates(v or {}, f"items.{k}") for k, v in (data.get("items") or {}).items()
        },
    )


@lru_cache(maxsize=4)
def load_replies(path: Path = REPLIES_FILE) -> Replies:
    if not path.exists():
        return Replies({}, {}, {})
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, ValueError) as exc:
        raise RepliesError(f"{path}: {exc}") from exc
    return parse(data)
