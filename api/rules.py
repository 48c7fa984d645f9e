"""Office rules from ``config/rules.yml``: escalation thresholds, repeat window, due-soon span."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field


class EscalationRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    same_reporter_repeats: int = Field(2, ge=1)
    distinct_reporters: int = Field(3, ge=2)
    escalate_overdue: bool = True


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    escalation: EscalationRules = EscalationRules()
    repeat_window_days: int = Field(180, ge=1)
    due_soon_working_days: int = Field(2, ge=0)


def load_rules(path: Path) -> Rules:
    if not path.exists():
        return Rules()
    return Rules.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def escalation_reason(
    rules: EscalationRules, same_reporter_count: int, distinct_reporters: int
) -> str | None:
    """Why a case must be escalated now, or None. Counts include the complaint just received."""
    if same_reporter_count >= rules.same_reporter_repeats:
        return f"同一群众重复投诉{same_reporter_count}次，提级督办"
    if distinct_reporters >= rules.distinct_reporters:
        return f"{distinct_reporters}名群众反映同一问题，提级督办"
    return None
