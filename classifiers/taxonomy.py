"""The supervision-item taxonomy as validated project data.

Counties edit ``nlu_data/taxonomy.yml`` (add an item, change a deadline or a handling unit) and
retrain; nothing in code lists the items, so everything reads them from here.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from classifiers.paths import PROJECT_ROOT

OUT_CODE = "OUT"
DEFAULT_TAXONOMY_PATH = PROJECT_ROOT / "nlu_data" / "taxonomy.yml"
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")


class TaxonomyError(ValueError):
    """The taxonomy file is missing or inconsistent; the message says where."""


class Item(BaseModel):
    """One supervision item (or the out-of-list class)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    group: str
    name: str = Field(min_length=1)
    scope: str = Field(min_length=1)
    deadline_days: int = Field(ge=1, le=90)
    unit: str

    @model_validator(mode="after")
    def _code_shape(self) -> Item:
        if not _CODE_RE.match(self.code):
            raise ValueError(f"item code {self.code!r} must be 2-8 upper-case letters/digits")
        return self


class Taxonomy(BaseModel):
    """All items with their groups and handling-unit kinds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | str
    groups: dict[str, str]
    units: dict[str, str]
    items: list[Item] = Field(min_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        seen: set[str] = set()
        for item in self.items:
            if item.code in seen:
                raise ValueError(f"duplicate item code {item.code}")
            seen.add(item.code)
            if item.group not in self.groups:
                raise ValueError(f"item {item.code}: unknown group {item.group!r}")
            if item.unit not in self.units:
                raise ValueError(f"item {item.code}: unknown unit {item.unit!r}")
        if OUT_CODE not in seen:
            raise ValueError(f"the taxonomy must contain the out-of-list item {OUT_CODE}")
        return self

    @cached_property
    def by_code(self) -> dict[str, Item]:
        return {item.code: item for item in self.items}

    @property
    def codes(self) -> list[str]:
        return [item.code for item in self.items]

    def name_of(self, code: str) -> str:
        return self.by_code[code].name


def taxonomy_path() -> Path:
    """The taxonomy in use: ``HOTLINE_TAXONOMY`` if set, else the project's default copy."""
    return Path(os.environ.get("HOTLINE_TAXONOMY", DEFAULT_TAXONOMY_PATH))


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read and validate a taxonomy file, raising TaxonomyError with a readable reason."""
    path = Path(path) if path is not None else taxonomy_path()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TaxonomyError(f"taxonomy file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise TaxonomyError(f"taxonomy file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise TaxonomyError(f"taxonomy file {path} must be a mapping")
    try:
        return Taxonomy.model_validate(raw)
    except ValidationError as exc:
        raise TaxonomyError(f"taxonomy file {path} is invalid:\n{exc}") from exc
