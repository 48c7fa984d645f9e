"""Duplicate-issue clustering inside the case service (多人反映同一问题 → 研判).

One process of the deployment (the ``clustering`` election of ``api.jobs``: an advisory lock on
PostgreSQL, a lock file on SQLite) owns the incremental ``EventClusterer``: it adds each
classified case in arrival order, applies staff merge/split decisions (once, for everyone: the
decision rows are marked applied in the same transaction), and writes the event id, the number
of distinct reporters, the joint-review flag and the clusterer's reason onto the cases.

The clusterer's state is saved in the database (``cluster_state``), so whichever process holds
the election next continues where the last one saved; cases clustered after that save are
clustered again. It is saved every 5 s while there is work, or less often when saving takes
long (at most a tenth of the loop's time goes to it). On PostgreSQL new event ids come from
the ``event_ids`` sequence, so no id is ever handed out twice (not by two hosts, not after a
restart). Each write checks the state row's
``generation``, which a new holder bumps when it takes over: a former holder that lost its lock
mid-pass has its late write rolled back instead of mixing two clusterers' results.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

from sqlalchemy import or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.clock import aware, now
from api.db import results_may_lag
from api.handoff_text import resident_words, tells_no_matter
from api.jobs import Election, Job, is_postgres
from api.models import Case, ClusterDecision
from api.shared_state import ClusterState
from classifiers.cluster_config import ClusterConfig
from classifiers.cluster_engine import Complaint, EventClusterer
from classifiers.cluster_items import alternatives
from classifiers.taxonomy import Taxonomy

log = logging.getLogger(__name__)
SAVE_EVERY_SECONDS = 5.0
STATE_ROW = 1
REASON_CHARS = 300


class Fenced(RuntimeError):
    """Another process took the clusterer over; this one's results are not to be written."""


class EventBridge:
    def __init__(
        self,
        factory: sessionmaker[Session],
        taxonomy: Taxonomy,
        legacy_state_path: Path | None = None,
        config: ClusterConfig | None = None,
        save_every: float = SAVE_EVERY_SECONDS,
    ) -> None:
        self.factory = factory
        self.taxonomy = taxonomy
        self.legacy_state_path = legacy_state_path  # var/events-state.json.gz of older versions
        self.config = config or ClusterConfig()
        self.save_every = save_every
        self.clusterer: EventClusterer | None = None
        self.last_case_id = 0
        self.last_decision_id = 0
        self.generation = 0
        self._saved_at = time.monotonic()
        self._save_seconds = 0.0  # how long the last save took
        self._dirty = False

    # -- start-up -----------------------------------------------------------------------------
    def restore(self) -> None:
        """Take the clusterer over: continue from the saved state, claim it (a new generation),
        and mark anything clustered or decided after that save to be done again."""
        with self.factory() as session, session.begin():
            row = session.execute(
                select(ClusterState).where(ClusterState.id == STATE_ROW).with_for_update()
            ).scalar_one_or_none()
            saved = self._read(row)
            if row is None:
                row = ClusterState(
                    id=STATE_ROW, state=b"", last_case_id=0, last_decision_id=0, generation=0
                )
                session.add(row)
            row.generation = (row.generation or 0) + 1
            row.saved_at = now()
            self.generation = row.generation
            self._load(saved)
            session.execute(
                update(Case)
                .where(Case.id > self.last_case_id, Case.cluster_status == "done")
                .values(cluster_status="pending")
            )
            session.execute(
                update(ClusterDecision)
                .where(ClusterDecision.id > self.last_decision_id)
                .values(applied=False)
            )
        self._saved_at = time.monotonic()
        self._dirty = False

    def _read(self, row: ClusterState | None) -> dict | None:
        try:
            if row is not None and row.state:
                return json.loads(gzip.decompress(row.state))
            if self.legacy_state_path is not None and self.legacy_state_path.exists():
                return json.loads(gzip.decompress(self.legacy_state_path.read_bytes()))
        except (ValueError, OSError) as exc:
            log.warning("saved event state unreadable (%s); clustering again", exc)
        return None

    def _load(self, saved: dict | None) -> None:
        self.clusterer, self.last_case_id, self.last_decision_id = None, 0, 0
        if saved is not None:
            try:
                self.clusterer = EventClusterer.from_state(
                    saved["clusterer"], self.taxonomy, self.config
                )
                self.last_case_id = int(saved["last_case_id"])
                self.last_decision_id = int(saved["last_decision_id"])
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("saved event state unusable (%s); clustering again", exc)
                self.clusterer, self.last_case_id, self.last_decision_id = None, 0, 0
        if self.clusterer is None:
            self.clusterer = EventClusterer(self.taxonomy, self.config)
        self.clusterer.new_event_id = self._sequence_id()

    def _sequence_id(self):
        """New event ids from PostgreSQL's ``event_ids`` sequence (None: the clusterer's own
        counter, which is saved with it; one machine on SQLite)."""
        with self.factory() as session:
            if not is_postgres(session):
                return None

        def next_id() -> str:
            with self.factory() as session:
                number = session.scalar(text("SELECT nextval('event_ids')"))
            return f"E{number:06d}"

        return next_id

    def forget(self) -> None:
        """Another process holds the clusterer now: drop ours (it goes stale at once)."""
        self.clusterer = None

    # -- work ---------------------------------------------------------------------------------
    def run_pass(self, batch: int = 200) -> int:
        """Cluster newly classified cases and apply new staff decisions; returns work done."""
        if self.clusterer is None:
            self.restore()
        try:
            done = self._add_pending(batch) + self._apply_decisions()
        except Fenced:
            log.warning("another process took over clustering; this one stops")
            self.forget()
            return 0
        except Exception:
            # The clusterer in memory may now hold cases the database does not show as
            # clustered (a write that failed, a deadlock): start again from the saved state.
            self.forget()
            raise
        if done:
            self._dirty = True
        # Saving costs time in proportion to the state: never more than a tenth of the loop's.
        every = max(self.save_every, 10 * self._save_seconds)
        if self._dirty and time.monotonic() - self._saved_at > every:
            self.save()
        return done

    def _fence(self, session: Session) -> None:
        """Lock the state row for this transaction and check it is still ours."""
        generation = session.scalar(
            select(ClusterState.generation).where(ClusterState.id == STATE_ROW).with_for_update()
        )
        if generation != self.generation:
            raise Fenced()

    def _add_pending(self, batch: int) -> int:
        """Cluster the next classified cases. The clusterer runs outside the write transaction,
        which then only stores the results (SQLite has a single writer)."""
        with self.factory() as session:
            rows = session.execute(
                select(
                    Case.id,
                    Case.number,
                    Case.text,
                    Case.category,
                    Case.reporter_id,
                    Case.received_at,
                    Case.top,
                    Case.needs_review,
                )
                .where(Case.cluster_status == "pending", Case.triage_status == "done")
                .order_by(Case.id)
                .limit(batch)
            ).all()
        if not rows:
            return 0
        touched: set[str] = set()
        reasons: dict[int, str] = {}
        again = False
        for case_id, number, text_, category, reporter_id, received_at, top, unsure in rows:
            if number in self.clusterer:
                # Clustered before, and changed since (a story added, the item corrected).
                again = True
                left = self.clusterer.withdraw(number)
                if left:
                    touched.add(left)
            assignment = self.clusterer.add(
                Complaint(
                    id=number,
                    text=resident_words(text_),
                    category=category or "OUT",
                    # Anonymous complaints each count as their own reporter.
                    reporter=f"r{reporter_id}" if reporter_id else f"c{case_id}",
                    received_at=aware(received_at),
                    # Unsure items are also compared under the classifier's runners-up.
                    alternatives=alternatives(category or "OUT", top, bool(unsure)),
                    alone=tells_no_matter(text_),
                )
            )
            touched.add(assignment.event_id)
            reasons[case_id] = assignment.why[:REASON_CHARS]
            self.last_case_id = max(self.last_case_id, case_id)
        # A restart replays only cases newer than the saved state: one clustered again is saved
        # with its new place in the same transaction (serialised before it, not while locked).
        blob = self._state_blob() if again else None
        with self.factory() as session, session.begin():
            self._fence(session)
            results_may_lag(session)  # lost results are clustered again after a restart
            self._lock(session, touched, set(reasons))
            for case_id, why in reasons.items():
                session.execute(
                    update(Case)
                    .where(Case.id == case_id)
                    .values(cluster_status="done", cluster_reason=why)
                )
            self._write_events(session, touched)
            if blob is not None:
                self._store(session, blob)
        return len(rows)

    def _apply_decisions(self) -> int:
        clusterer = self.clusterer
        with self.factory() as session, session.begin():
            self._fence(session)
            decisions = session.scalars(
                select(ClusterDecision)
                .where(ClusterDecision.applied.is_(False))
                .order_by(ClusterDecision.id)
            ).all()
            touched: set[str] = set()
            if decisions:
                named = {n for d in decisions for n in (d.case_number, d.other_number) if n}
                events = {e for n in named if (e := _event_or_none(clusterer, n))}
                self._lock(session, events, set())
            for decision in decisions:
                try:
                    touched.add(clusterer.event_of(decision.case_number).id)
                    if decision.op == "merge" and decision.other_number:
                        touched.add(clusterer.event_of(decision.other_number).id)
                        event = clusterer.merge(
                            decision.case_number, decision.other_number, note=decision.note or ""
                        )
                    else:
                        event = clusterer.split(decision.case_number, note=decision.note or "")
                    touched.add(event)
                except (KeyError, ValueError) as exc:
                    if not _is_pending(session, decision):
                        log.warning("cluster decision %s not applicable: %s", decision.id, exc)
                        decision.applied = True  # nothing to apply it to
                    continue  # the case is not clustered yet: try again next pass
                decision.applied = True
                self.last_decision_id = max(self.last_decision_id, decision.id)
            self._write_events(session, touched)
            return len(decisions)

    def _lock(self, session: Session, event_ids: set[str], case_ids: set[int]) -> None:
        """Lock every case this transaction will write, in id order (the triage worker takes
        its rows in id order too), so the two jobs wait for each other instead of deadlocking."""
        numbers = set()
        for event_id in event_ids:
            try:
                numbers.update(self.clusterer.event(event_id).members)
            except KeyError:
                continue
        wanted = or_(Case.number.in_(numbers), Case.id.in_(case_ids))
        session.execute(select(Case.id).where(wanted).order_by(Case.id).with_for_update())

    def _write_events(self, session: Session, event_ids: set[str]) -> None:
        """Copy each touched event's id, reporter count and joint-review flag onto its cases."""
        for event_id in event_ids:
            try:
                view = self.clusterer.event(event_id)
            except KeyError:
                continue
            session.execute(
                update(Case)
                .where(Case.number.in_(view.members))
                .values(
                    event_id=view.id, event_reporters=view.reporters, joint_review=view.joint_review
                )
            )

    def save(self) -> None:
        """Write the clusterer and how far it got to the state row (if it is still ours)."""
        if self.clusterer is None:
            return
        started = time.monotonic()
        blob = self._state_blob()
        with self.factory() as session, session.begin():
            written = self._store(session, blob)
        if not written:
            log.warning("clustering state not saved: another process holds the clusterer")
            self.forget()
        self._saved_at = time.monotonic()
        self._save_seconds = self._saved_at - started
        self._dirty = False

    def _state_blob(self) -> bytes:
        """The clusterer and how far it got, compressed for the state row."""
        saved = {
            "clusterer": self.clusterer.to_state(),
            "last_case_id": self.last_case_id,
            "last_decision_id": self.last_decision_id,
        }
        return gzip.compress(json.dumps(saved, ensure_ascii=False).encode("utf-8"), 6)

    def _store(self, session: Session, blob: bytes) -> int:
        """Write ``blob`` to the state row if it is still ours; returns the rows written (0:
        another process holds the clusterer)."""
        return session.execute(
            update(ClusterState)
            .where(ClusterState.id == STATE_ROW, ClusterState.generation == self.generation)
            .values(
                state=blob,
                last_case_id=self.last_case_id,
                last_decision_id=self.last_decision_id,
                saved_at=now(),
            )
        ).rowcount


def _event_or_none(clusterer: EventClusterer, number: str) -> str | None:
    try:
        return clusterer.event_of(number).id
    except KeyError:
        return None


def _is_pending(session: Session, decision: ClusterDecision) -> bool:
    """Whether a case the decision names is still waiting to be clustered."""
    numbers = [n for n in (decision.case_number, decision.other_number) if n]
    return bool(
        session.scalar(
            select(Case.id).where(Case.number.in_(numbers), Case.cluster_status == "pending")
        )
    )


class ClusteringJob(Job):
    """The clusterer's loop: one process of the deployment runs it (``clustering``); winning
    the election restores the state from the database, losing it drops the in-memory state."""

    name = "clustering"

    def __init__(
        self,
        bridge: EventBridge,
        poll_seconds: float,
        election: Election | None = None,
    ) -> None:
        super().__init__(poll_seconds, election, health=bridge.factory)
        self.bridge = bridge

    def on_elected(self) -> None:
        self.bridge.restore()

    def on_lost(self) -> None:
        self.bridge.forget()

    def on_stop(self) -> None:
        self.bridge.save()

    def run_pass(self) -> int:
        return self.bridge.run_pass()
