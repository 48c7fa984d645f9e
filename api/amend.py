"""A resident's correction of the complaint they have just filed.

The bot files a complaint as soon as it knows enough, then reads back what it stored; what the
resident corrects then ("不对，是梨园村的", "算了，还是别写我名字") amends that case. Only the
conversation that filed it can: the request must carry the filing's idempotency key, and only
while the case is fresh and untouched by staff. A wrong number or key gets the same answer as a
case that does not exist, so the endpoint tells nobody anything about other cases.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from api.clock import aware, now
from api.handoff_text import HEADER
from api.history import record
from api.intake import ADDENDUM_MARK, LATER_MARK, mentions_village_cadres, reporter_for
from api.lifecycle import State
from api.models import Case
from api.triage import set_due_date
from classifiers.redact import redact
from classifiers.taxonomy import Taxonomy

# Long enough for a read-back to be heard and answered; short enough that staff are not
# working a case whose facts then change under them.
AMEND_WINDOW = timedelta(minutes=30)

_FIELD_WORDS = {
    "resident_category": "事项",
    "place": "地点",
    "anonymous": "匿名/留名",
    "name": "姓名",
    "phone": "电话",
    "addendum": "补充内容",
}


# The same words as a filing made with the request (routes/public.py).
NO_PHONE_HANDOFF = "居民请求人工服务，但没留电话，无法回电"


class NotAmendable(LookupError):
    """No such case for this key (or none at all): answered like a missing case."""


class AmendClosed(ValueError):
    """The case is past the window or already in staff hands."""


@dataclass(frozen=True, slots=True)
class Amendment:
    """What the resident changed; None leaves a field as filed."""

    resident_category: str | None = None
    township: str | None = None
    village: str | None = None
    village_group: str | None = None
    village_flagged: bool | None = None
    anonymous: bool | None = None
    name: str | None = None
    phone: str | None = None
    clear_phone: bool = False
    addendum: str | None = None  # more words said with the correction, added to the text
    asked_for_person: bool = False  # a person asked for after the filing, with no phone


def amend(
    factory: sessionmaker[Session],
    number: str,
    key: str,
    change: Amendment,
    taxonomy: Taxonomy,
) -> tuple[Case, list[str]]:
    """Apply a resident's correction to the case they filed with ``key``; returns the case
    and the words for what changed. The history says which parts changed, never their values
    (a name or phone must not reach a handler through it)."""
    with factory() as session, session.begin():
        case = session.scalars(select(Case).where(Case.number == number)).first()
        if (
            case is None
            or not case.idempotency_key
            or not hmac.compare_digest(case.idempotency_key.encode(), key.encode())
        ):
            raise NotAmendable(number)
        if case.state != State.ACCEPTED or now() - aware(case.received_at) > AMEND_WINDOW:
            raise AmendClosed(number)
        changed = _apply(session, case, change, taxonomy)
        if changed:
            words = "、".join(_FIELD_WORDS[c] for c in changed)
            record(session, case, "resident", "amended", f"居民听复述后更正了：{words}")
        if change.asked_for_person:
            record(session, case, "resident", "handoff", NO_PHONE_HANDOFF)
        session.flush()
        session.expunge(case)
    return case, changed


def _apply(session: Session, case: Case, change: Amendment, taxonomy: Taxonomy) -> list[str]:
    changed: list[str] = []
    code = change.resident_category
    if code and code != case.resident_category:
        case.resident_category = code
        if case.triage_status == "done" and not case.category_confirmed:
            # Triage already ran: the resident's item replaces the model's, still for review.
            case.category = code
            case.needs_review = True
            set_due_date(case, taxonomy)
            case.cluster_status = "pending"  # its event is looked for again under this item
        changed.append("resident_category")
    place = {
        "township": change.township,
        "village": change.village,
        "village_group": change.village_group,
    }
    if any(v is not None and v != getattr(case, k) for k, v in place.items()):
        for field, value in place.items():
            if value is not None:
                setattr(case, field, value)
        if change.village is not None and change.village_group is None:
            case.village_group = None  # a group of the old village is none of the new one's
        if change.village_flagged is not None:
            case.village_flagged = change.village_flagged
        changed.append("place")
    anonymous = case.anonymous if change.anonymous is None else change.anonymous
    reporter = case.reporter
    name = None if anonymous else (change.name or (reporter.name if reporter else None))
    phone = None if change.clear_phone else (change.phone or (reporter.phone if reporter else None))
    old_name = None if case.anonymous or reporter is None else reporter.name
    old_phone = reporter.phone if reporter else None
    if anonymous != case.anonymous:
        changed.append("anonymous")
    if name != old_name and not anonymous:
        changed.append("name")
    if phone != old_phone:
        changed.append("phone")
    if {"anonymous", "name", "phone"} & set(changed):
        case.anonymous = anonymous
        case.reporter = reporter_for(session, phone, name)
    if change.addendum:
        _add_words(case, change.addendum)
        changed.append("addendum")
        if not case.category_confirmed:
            # Classified again on the whole text: a request for a person with the story after
            # it was classified on the request's words alone.
            case.triage_status = "pending"
            case.triage_next_at = None
            case.cluster_status = "pending"  # and clustered again on the whole text
            # Written even when it was read as pending: a classification of the old words
            # committed meanwhile must not stand.
            flag_modified(case, "triage_status")
    return changed


def _add_words(case: Case, words: str) -> None:
    """Append what the resident added, masked as at intake; the words as said go only to the
    audited original text."""
    masked = redact(words)
    original = case.text_original
    if masked.found and original is None:
        original = case.text  # nothing was masked before: the stored text is the original
    # No read-back comes before a request for a person: its story is simply told later.
    mark = LATER_MARK if case.text.startswith(HEADER) else ADDENDUM_MARK
    case.text = f"{case.text}\n{mark}{masked.text}"
    if original is not None:
        case.text_original = f"{original}\n{mark}{words}"
    case.about_cadres = case.about_cadres or mentions_village_cadres(words)
