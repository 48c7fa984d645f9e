"""The case lifecycle as an explicit state machine: which moves are allowed, and what each means.

已受理 → 已转办 → 办理中 → 已办结 → 已评价, plus 清单外转办 (referred elsewhere with a reason),
重新办理 (reopened after an unsatisfied rating) and 已合并 (joined to an event's lead case).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    ACCEPTED = "已受理"
    ASSIGNED = "已转办"
    IN_PROGRESS = "办理中"
    DONE = "已办结"
    RATED = "已评价"
    REFERRED = "清单外转办"
    REOPENED = "重新办理"
    MERGED = "已合并"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.ACCEPTED: frozenset({State.ASSIGNED, State.REFERRED, State.MERGED}),
    State.ASSIGNED: frozenset({State.IN_PROGRESS, State.ASSIGNED, State.MERGED, State.REFERRED}),
    State.IN_PROGRESS: frozenset({State.DONE, State.ASSIGNED, State.MERGED}),
    State.DONE: frozenset({State.RATED, State.REOPENED}),
    State.RATED: frozenset({State.REOPENED}),
    State.REFERRED: frozenset({State.ACCEPTED}),  # staff found it is in the list after all
    State.REOPENED: frozenset({State.ASSIGNED, State.IN_PROGRESS}),
    State.MERGED: frozenset({State.ACCEPTED}),  # split back out of the event
}

OPEN_STATES = frozenset({State.ACCEPTED, State.ASSIGNED, State.IN_PROGRESS, State.REOPENED})
CLOSED_STATES = frozenset({State.DONE, State.RATED})

# What the resident hears about each state (plain words for elderly people).
PLAIN = {
    State.ACCEPTED: "您反映的问题已经收到，正在安排",
    State.ASSIGNED: "已经交给负责的单位办理",
    State.IN_PROGRESS: "负责的单位正在办理",
    State.DONE: "已经办完了，请您评价是否满意",
    State.RATED: "已经办完，您也评价过了",
    State.REFERRED: "这件事不归村级小微权力监督管，已经转给对口部门",
    State.REOPENED: "您不满意，已经重新办理",
    State.MERGED: "和别人反映的同一件事合在一起办理",
}


class IllegalTransition(ValueError):
    def __init__(self, current: State, target: State) -> None:
        super().__init__(f"案件当前状态为“{current}”，不能变更为“{target}”")
        self.current, self.target = current, target


def check_transition(current: str, target: str) -> State:
    """Return the target state if the move is allowed, else raise IllegalTransition."""
    cur, tgt = State(current), State(target)
    if tgt not in TRANSITIONS[cur]:
        raise IllegalTransition(cur, tgt)
    return tgt
