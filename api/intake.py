"""Intake: a complaint is committed before anything else happens to it.

The transaction that accepts a complaint writes the case, its reporter and its first history row
and nothing else; classification, repeat detection and escalation follow in
``api.triage.apply_triage``, retried until they succeed.

What identifies the complainant in the text (their own name, phone, ID and bank card numbers,
house address) is masked here, before anything else reads it: ``cases.text`` holds the masked
text every role and export sees; ``cases.text_original`` keeps the words as written, read only
through the audited contact view.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.case_numbers import new_case_number
from api.clock import now
from api.history import record
from api.lifecycle import State
from api.models import Case, Reporter
from api.staff_words import accepted_note
from classifiers.redact import redact

# Titles of village cadres: a complaint naming them must not be handled by their own village.
_CADRE = re.compile(
    r"书记|支书|村长|主任|村委|两委|会计|报账员|组长|村干部|委员|文书|网格长|监委会"
)


# Words a resident adds after the read-back are appended to the stored text after this mark;
# the story told after a request for a person that told none, after the second.
ADDENDUM_MARK = "（居民听复述后补充）"
LATER_MARK = "（居民随后补充）"
_ADDED = re.compile(f"\n(?:{re.escape(ADDENDUM_MARK)}|{re.escape(LATER_MARK)})")


def as_first_told(text: str) -> str:
    """A case's text without what was added later: what its key was first sent with (a
    resent filing or request of the same words is the same case, not a conflict)."""
    return _ADDED.split(text, maxsplit=1)[0]


class IdempotencyConflict(ValueError):
    """The idempotency key was already used for a different complaint."""


def mentions_village_cadres(text: str) -> bool:
    return bool(_CADRE.search(text))


def reporter_for(session: Session, phone: str | None, name: str | None) -> Reporter | None:
    """The person behind a phone. A name different from the one this phone gave before is
    another person (a family's one phone): their own reporter, so a case never shows a name
    its complainant did not give."""
    if phone is None and name is None:
        return None
    reporter = None
    if phone:
        known = session.scalars(
            select(Reporter).where(Reporter.phone == phone).order_by(Reporter.id)
        ).all()
        if name is None:
            reporter = known[0] if known else None
        else:
            reporter = next((r for r in known if r.name == name), None) or next(
                (r for r in known if r.name is None), None
            )
    if reporter is None:
        reporter = Reporter(phone=phone, name=name)
        session.add(reporter)
    elif name and not reporter.name:
        reporter.name = name
    return reporter


def accept(
    factory: sessionmaker[Session],
    *,
    text: str,
    channel: str,
    phone: str | None = None,
    name: str | None = None,
    anonymous: bool = False,
    township: str | None = None,
    village: str | None = None,
    village_group: str | None = None,
    village_flagged: bool = False,
    resident_category: str | None = None,
    audio_url: str | None = None,
    idempotency_key: str | None = None,
    filed_by_id: int | None = None,
    actor: str = "resident",
) -> tuple[Case, bool]:
    """Store a complaint; returns (case, created). A resent key returns the first case."""
    masked = redact(text)
    original = text if masked.found else None
    text = masked.text
    for _attempt in range(5):
        if idempotency_key:
            with factory() as session:
                existing = session.scalars(
                    select(Case).where(Case.idempotency_key == idempotency_key)
                ).first()
                if existing is not None:
                    if as_first_told(existing.text) != text:
                        raise IdempotencyConflict(idempotency_key)
                    return existing, False
        try:
            with factory() as session, session.begin():
                case = Case(
                    number=new_case_number(),
                    idempotency_key=idempotency_key,
                    text=text,
                    text_original=original,
                    channel=channel,
                    township=township,
                    village=village,
                    village_group=village_group,
                    village_flagged=village_flagged,
                    resident_category=resident_category,
                    audio_url=audio_url,
                    reporter=reporter_for(session, phone, None if anonymous else name),
                    anonymous=anonymous,
                    filed_by_id=filed_by_id,
                    received_at=now(),
                    state=State.ACCEPTED,
                    triage_status="pending",
                    about_cadres=mentions_village_cadres(original or text),
                )
                session.add(case)
                record(
                    session,
                    case,
                    actor,
                    "accepted",
                    accepted_note(channel),
                    to_state=State.ACCEPTED,
                )
            return case, True
        except IntegrityError:
            # A concurrent resend with the same key won, or (rarely) the random number was
            # taken: look again / draw again.
            continue
    raise RuntimeError("could not store the complaint after 5 attempts")
