"""Classification of stored cases, retried until it succeeds.

Runs right after intake and again from a background worker for anything still 待分类 (pending):
after a crash, while the model is missing or broken, or when a batch failed. A case is never
dropped; it only waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.clock import local_date
from api.db import results_may_lag
from api.deadlines import add_working_days
from api.handoff_text import resident_words
from api.history import move, record
from api.jobs import Election, Job, backoff, claim, due, later
from api.lifecycle import OPEN_STATES, State
from api.models import Case
from api.rules import Rules, escalation_reason
from classifiers.model import MAX_TEXT_CHARS, Prediction, TriageModel
from classifiers.paths import active_model_path
from classifiers.taxonomy import Taxonomy

log = logging.getLogger(__name__)
Classify = Callable[[Sequence[str]], list[Prediction]]


@dataclass(frozen=True)
class _Loaded:
    key: tuple  # (file, mtime, size): a different key is a different model
    path: Path
    model: TriageModel


class ModelHolder:
    """The triage model in force, swapped without a restart.

    With no fixed ``path`` (``HOTLINE_MODEL``) it follows the registry's ``active`` pointer,
    looking at most once every ``check_seconds``. A new model is loaded by a background thread
    while requests go on with the old one; then one reference assignment swaps it, so a request
    in flight finishes on the model it started with and none waits for the load."""

    def __init__(self, path: Path | None = None, check_seconds: float = 1.0, registry=None) -> None:
        self.fixed = path
        self.registry = registry  # the database's registry on PostgreSQL (api.model_store)
        self.check_seconds = check_seconds
        self._loaded: _Loaded | None = None
        self._next_check = 0.0
        self._loading: tuple | None = None
        self._failed: tuple | None = None
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        """Where the model in force is (the file, or the registry's active version)."""
        if self.fixed:
            return self.fixed
        if self.registry is not None:
            return self.registry.active_model_file()
        return active_model_path()

    @property
    def version(self) -> str | None:
        """The registry version of the model serving now (None: a fixed file, or none yet)."""
        loaded = self._loaded
        if loaded is None or loaded.path.parent.parent.name != "registry":
            return None
        return loaded.path.parent.name

    def _locate(self) -> tuple[tuple, Path]:
        path = self.path
        stat = path.stat()  # FileNotFoundError: no model yet
        return (str(path), stat.st_mtime_ns, stat.st_size), path

    def get(self) -> TriageModel:
        loaded = self._loaded
        if loaded is not None and time.monotonic() < self._next_check:
            return loaded.model
        if not self._lock.acquire(blocking=loaded is None):
            return loaded.model  # another request is checking right now
        try:
            loaded = self._loaded
            if loaded is not None and time.monotonic() < self._next_check:
                return loaded.model
            self._next_check = time.monotonic() + self.check_seconds
            try:
                key, path = self._locate()
            except FileNotFoundError:
                if loaded is None:
                    raise
                return loaded.model  # the file went away: keep the model we have
            if loaded is None:
                self._loaded = loaded = _Loaded(key, path, TriageModel.load(path))
            elif key not in (loaded.key, self._loading, self._failed):
                self._loading = key
                threading.Thread(
                    target=self._load, args=(key, path), name="model-loader", daemon=True
                ).start()
            return loaded.model
        finally:
            self._lock.release()

    def _load(self, key: tuple, path: Path) -> None:
        try:
            model = TriageModel.load(path)
        except Exception:
            log.exception("could not load the triage model %s; keeping the current one", path)
            self._failed = key
        else:
            self._loaded = _Loaded(key, path, model)  # the swap: one assignment
            log.info("triage model switched to %s", path)
        finally:
            self._loading = None

    def classify(self, texts: Sequence[str]) -> list[Prediction]:
        return self.get().predict(texts)


def set_due_date(case: Case, taxonomy: Taxonomy) -> None:
    item = taxonomy.by_code.get(case.category or "")
    if item is not None:
        case.due_date = add_working_days(local_date(case.received_at), item.deadline_days)


def apply_prediction(
    session: Session,
    case: Case,
    pred: Prediction,
    taxonomy: Taxonomy,
    rules: Rules,
    resident_category: str | None = None,
) -> None:
    """Store the model's answer, set the deadline, and join the case to the reporter's open case
    on the same matter (a repeat), escalating that case when the rules say so.

    ``resident_category`` is the item the resident confirmed when the bot read the complaint
    back: it overrides the model's guess but stays unconfirmed (needs_review) and is not a
    training label, so staff still look at it."""
    case.predicted_category = pred.category
    if not case.category_confirmed:
        case.category = pred.category
    case.confidence = pred.confidence
    case.top = [[code, round(p, 4)] for code, p in pred.top]
    case.terms = list(pred.terms)
    case.needs_review = pred.needs_review
    case.triage_status = "done"
    case.triage_error = None
    case.triage_next_at = None
    name = taxonomy.by_code[pred.category].name if pred.category in taxonomy.by_code else ""
    record(
        session,
        case,
        "system",
        "triaged",
        f"自动分类：{pred.category} {name}（置信度{pred.confidence:.2f}）",
        public=False,
    )
    resident_category = resident_category or case.resident_category
    if resident_category and not case.category_confirmed and resident_category != case.category:
        case.category = resident_category
        case.needs_review = True
        record(
            session,
            case,
            "resident",
            "resident_category",
            f"居民确认的事项：{resident_category} {taxonomy.name_of(resident_category)}",
            public=False,
        )
    set_due_date(case, taxonomy)
    lead = find_open_case_of_reporter(session, case, rules)
    if lead is not None:
        join_repeat(session, case, lead, rules)


# An item the classifier gave at least this much is one it thought the text could be about.
_PLAUSIBLE = 0.15


def plausible_items(case: Case) -> set[str]:
    """The case's item and the others the classifier found plausible: the same matter told again
    in other words often comes out as a neighbouring item (五保 vs 低保)."""
    codes = {code for code, p in (case.top or []) if p >= _PLAUSIBLE}
    return codes | {c for c in (case.category, case.predicted_category) if c}


def find_open_case_of_reporter(session: Session, case: Case, rules: Rules) -> Case | None:
    """The same resident's open case on the same matter: same reporter and place, and an item
    either case's classification found plausible (whatever the new text's top guess was)."""
    if case.reporter_id is None or case.category is None or case.state != State.ACCEPTED:
        return None
    since = case.received_at - timedelta(days=rules.repeat_window_days)
    query = (
        select(Case)
        .where(
            Case.id != case.id,
            Case.reporter_id == case.reporter_id,
            Case.state.in_([s.value for s in OPEN_STATES]),
            Case.lead_case_id.is_(None),
            Case.received_at >= since,
            Case.received_at <= case.received_at,
        )
        .order_by(Case.received_at)
        .limit(20)
    )
    if case.village:
        query = query.where(or_(Case.village == case.village, Case.village.is_(None)))
    mine = plausible_items(case)
    return next(
        (lead for lead in session.scalars(query) if mine & plausible_items(lead)),
        None,
    )


def join_repeat(session: Session, case: Case, lead: Case, rules: Rules) -> None:
    move(session, case, State.MERGED, "system", f"与案件{lead.number}为同一问题，合并办理")
    case.lead_case_id = lead.id
    case.repeat_of_id = lead.id
    record(session, lead, "system", "repeat", f"群众再次反映（案件{case.number}）")
    check_escalation(session, lead, case.reporter_id, rules)


def check_escalation(session: Session, lead: Case, reporter_id: int | None, rules: Rules) -> None:
    """Escalate (提级督办) when a repeat crosses a threshold; each threshold fires once."""
    members = select(Case).where(or_(Case.id == lead.id, Case.lead_case_id == lead.id))
    cases = session.scalars(members).all()
    same = sum(1 for c in cases if reporter_id is not None and c.reporter_id == reporter_id)
    distinct = len({c.reporter_id for c in cases if c.reporter_id is not None})
    esc = rules.escalation
    fired_same = same == esc.same_reporter_repeats
    fired_distinct = distinct == esc.distinct_reporters and (
        reporter_id is None or same == 1  # this reporter is the new distinct one
    )
    if fired_same or fired_distinct:
        reason = escalation_reason(
            esc, same if fired_same else 0, distinct if fired_distinct else 0
        )
        escalate(session, lead, "system", reason or "提级督办")


def escalate(session: Session, case: Case, actor: str, reason: str) -> None:
    case.escalation_level += 1
    record(session, case, actor, "escalated", reason)


def _claim(session: Session, case_id: int, text: str) -> Case | None:
    """Lock a still-pending case for this transaction (a row lock on PostgreSQL, the write lock on
    SQLite) so two classifiers never both apply a result; None when someone already did, or when
    the text classified is no longer the case's (words added meanwhile: it is classified again)."""
    claimed = claim(
        session,
        Case,
        case_id,
        {"triage_status": "pending", "text": text},
        {"triage_attempts": Case.triage_attempts},
    )
    return session.get(Case, case_id, populate_existing=True) if claimed else None


def model_version_of(classify: Classify) -> str | None:
    """The registry version behind ``classify`` when it is a ``ModelHolder``'s (else None): the
    version is read right after classifying, so a swap in between is the only (rare) mismatch."""
    holder = getattr(classify, "__self__", None)
    return holder.version if isinstance(holder, ModelHolder) else None


def triage_case(
    factory: sessionmaker[Session],
    case_id: int,
    classify: Classify,
    taxonomy: Taxonomy,
    rules: Rules,
    text: str | None = None,
    resident_category: str | None = None,
) -> Case | None:
    """Classify one pending case now. Returns the case as stored afterwards (classified, or
    still pending after a failure the worker will retry), or None if another classifier has
    already applied it. The model runs outside the write transaction, so the database (SQLite's
    single writer lock above all) is held only for the few statements that store the result."""
    if text is None:
        with factory() as session:
            text = session.scalar(
                select(Case.text).where(Case.id == case_id, Case.triage_status == "pending")
            )
        if text is None:
            return None
    try:
        pred, failure = classify([classifiable(text)])[0], None
    except Exception as exc:
        pred, failure = None, exc
    with factory() as session, session.begin():
        results_may_lag(session)
        case = _claim(session, case_id, text)
        if case is None:
            return None
        if failure is not None:
            _note_failure(session, case, failure)
        else:
            apply_prediction(session, case, pred, taxonomy, rules, resident_category)
            case.model_version = model_version_of(classify)
        return case


def _note_failure(session: Session, case: Case, exc: Exception) -> None:
    case.triage_attempts += 1
    delay = backoff(case.triage_attempts, 300)
    case.triage_next_at = later(session, delay)  # the database's clock on PostgreSQL
    case.triage_error = f"{type(exc).__name__}: {exc}"[:500]
    log.warning("classification of case %s failed (%s); retry in %s", case.number, exc, delay)


def classifiable(text: str) -> str:
    """What the classifier is given: the resident's words (a handoff case's header left out), at
    most the first ``MAX_TEXT_CHARS`` characters (it refuses longer texts; the item shows in the
    opening of a complaint). The stored text is untouched."""
    return resident_words(text)[:MAX_TEXT_CHARS]


def _classify_each(classify: Classify, texts: list[str]) -> list[Prediction | Exception]:
    """One text at a time, so one bad text fails alone."""
    out: list[Prediction | Exception] = []
    for text in texts:
        try:
            out.append(classify([text])[0])
        except Exception as exc:
            out.append(exc)
    return out


def _classify_batch(classify: Classify, texts: list[str]) -> list[Prediction | Exception]:
    """The whole batch at once (cheapest), falling back to one by one if the batch fails."""
    if not texts:
        return []
    try:
        return list(classify(texts))
    except Exception as exc:
        log.warning("batch classification of %d cases failed (%s); one by one", len(texts), exc)
        return _classify_each(classify, texts)


def triage_pending(
    factory: sessionmaker[Session],
    classify: Classify,
    taxonomy: Taxonomy,
    rules: Rules,
    batch: int = 200,
) -> int:
    """Classify a batch of pending cases whose retry time has come; returns how many succeeded.
    Batches are where the classifier is cheapest (about 0.5 ms a text against 1-2 ms alone).
    A case that failed before is retried on its own, and a batch that fails is redone one by
    one, so a case the classifier cannot take never holds up the others: it waits alone, with
    its own backoff."""
    with factory() as session:
        rows = session.execute(
            select(Case.id, Case.text, Case.triage_attempts)
            .where(Case.triage_status == "pending", due(session, Case.triage_next_at))
            .order_by(Case.id)
            .limit(batch)
        ).all()
    if not rows:
        return 0
    said = {case_id: text for case_id, text, _tries in rows}
    fresh = [(case_id, classifiable(text)) for case_id, text, tries in rows if not tries]
    retried = [(case_id, classifiable(text)) for case_id, text, tries in rows if tries]
    batch_out = _classify_batch(classify, [text for _, text in fresh])
    alone_out = _classify_each(classify, [text for _, text in retried])
    results = [
        *zip([case_id for case_id, _ in fresh], batch_out, strict=True),
        *zip([case_id for case_id, _ in retried], alone_out, strict=True),
    ]
    done = 0
    version = model_version_of(classify)
    with factory() as session, session.begin():
        results_may_lag(session)
        for case_id, outcome in results:
            case = _claim(session, case_id, said[case_id])
            if case is None:
                continue  # classified meanwhile by the request that filed it, or amended
            if isinstance(outcome, Exception):
                _note_failure(session, case, outcome)
            else:
                apply_prediction(session, case, outcome, taxonomy, rules)
                case.model_version = version
                done += 1
    return done


def retry_pending_now(factory: sessionmaker[Session]) -> int:
    """Forget the backoff of every pending case: after a restart (often with a repaired model
    or database) they should be tried at once, not minutes later."""
    with factory() as session, session.begin():
        return session.execute(
            update(Case).where(Case.triage_status == "pending").values(triage_next_at=None)
        ).rowcount


class TriageWorker(Job):
    """A background thread that keeps classifying whatever is pending (``api.jobs``: one process
    runs it, per machine on SQLite, per deployment on PostgreSQL; the per-case claim keeps it and
    the filing requests from applying a result twice)."""

    name = "triage"
    stop_timeout = 10.0

    def __init__(
        self,
        factory,
        classify: Classify,
        taxonomy: Taxonomy,
        rules: Rules,
        poll_seconds: float,
        election: Election | None = None,
    ) -> None:
        super().__init__(poll_seconds, election, health=factory)
        self.args = (factory, classify, taxonomy, rules)
        self.then: Callable[[], None] = lambda: None  # what to wake after classifying some

    def on_elected(self) -> None:
        retry_pending_now(self.args[0])

    def run_pass(self) -> int:
        done = triage_pending(*self.args)
        if done:
            self.then()  # the clusterer: these cases are ready for it
        return done
