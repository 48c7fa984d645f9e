"""Policy answers from the project's own item list (nlu_data/policies.yml next to
taxonomy.yml): what an item covers, where to apply, what a resident can do. The bot never makes
up an amount; the texts say who can tell the county's standard."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).resolve().parent.parent / "nlu_data"


@dataclass(frozen=True)
class Policy:
    code: str
    name: str
    aliases: tuple[str, ...]
    described: tuple[re.Pattern[str], ...]
    covers: str
    apply: str
    resident_can: str
    unit: str


@lru_cache(maxsize=4)
def load_policies(data_dir: Path = DATA_DIR) -> dict[str, Policy]:
    taxonomy = yaml.safe_load((data_dir / "taxonomy.yml").read_text(encoding="utf-8"))
    texts = yaml.safe_load((data_dir / "policies.yml").read_text(encoding="utf-8"))["policies"]
    units = taxonomy.get("units", {})
    policies = {}
    for item in taxonomy["items"]:
        text = texts.get(item["code"])
        if text is None:
            continue
        policies[item["code"]] = Policy(
            code=item["code"],
            name=item["name"],
            aliases=tuple(dict.fromkeys([item["name"], *text.get("aliases", [])])),
            described=tuple(re.compile(p) for p in text.get("described", [])),
            covers=text["covers"],
            apply=text["apply"],
            resident_can=text["resident_can"],
            unit=units.get(item.get("unit", ""), ""),
        )
    return policies


_MONEY_OF = re.compile(r"(?:的|那个|这个|那份)?(?:钱|补贴)")


def item_named_in(text: str, policies: dict[str, Policy]) -> str | None:
    """The item whose longest alias appears in the text ('五保户有啥待遇' → S02), else the one
    item the text describes; None if neither. Out-of-list (OUT) is never picked by name."""
    text = unicodedata.normalize("NFKC", text)
    # "种粮的钱", "残疾人那个钱", "种地的补贴": the programme named by its money.
    text += "\n" + _MONEY_OF.sub("补贴", text)
    best: tuple[int, str] | None = None
    for policy in policies.values():
        if policy.code == "OUT":
            continue
        for alias in policy.aliases:
            if alias and alias in text and (best is None or len(alias) > best[0]):
                best = (len(alias), policy.code)
    if best:
        return best[1]
    # "八十岁以上的老人国家有个啥钱": described by who gets it, not named.
    described = [p.code for p in policies.values() if any(r.search(text) for r in p.described)]
    return described[0] if len(described) == 1 else None


def answer(policy: Policy) -> str:
    return f"关于“{policy.name}”：{policy.covers}{policy.apply}{policy.resident_can}"
