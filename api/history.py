"""Writing a case's history: every change gets a row with who, when and why."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api import outbox
from api.clock import now
from api.lifecycle import State, check_transition
from api.models import Case, CaseEvent


def record(
    session: Session,
    case: Case,
    actor: str,
    action: str,
    note: str | None = None,
    *,
    public: bool = True,
    from_state: str | None = None,
    to_state: str | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        at=now(),
        actor=actor,
        action=action,
        note=note,
        public=public,
        from_state=from_state,
        to_state=to_state,
    )
    session.add(event)
    return event


def move(session: Session, case: Case, target: State, actor: str, note: str | None = None) -> None:
    """Change a case's state if the state machine allows it (raises IllegalTransition). Every
    move goes through here, so every one the resident is told about queues its text message in
    the same transaction (``api.outbox``)."""
    check_transition(case.state, target)
    previous = case.state
    case.state = target
    if target in (State.DONE,):
        case.closed_at = now()
    if target in (State.REOPENED, State.ACCEPTED):
        case.closed_at = None
    record(session, case, actor, "state", note, from_state=previous, to_state=target)
    outbox.on_move(session, case, target, note)
