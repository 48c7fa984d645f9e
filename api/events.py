"""Duplicate-issue clustering inside the case service (多人反映同一问题 → 研判).

One process (the elected triage worker) owns the incremental ``EventClusterer``: it adds each
classified case in arrival order, applies staff merge/split decisions, and writes the event id,
the number of distinct reporters and the joint-review flag onto the cases of the event. The
clusterer's state is saved under var/ so a restart continues where it stopped; cases clustered
after the last save are simply clustered again.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.clock import aware
from api.db import results_may_lag
from api.models import Case, ClusterDecision
from classifiers.cluster_config import ClusterConfig
from classifiers.cluster_engine import Complaint, EventClusterer
from classifiers.taxonomy import Taxonomy

log = logging.getLogger(__name__)
SAVE_EVERY_SECONDS = 30


class EventBridge:
    def __init__(
        self,
        factory: sessionmaker[Session],
        taxonomy: Taxonomy,
        state_path: Path,
        config: ClusterConfig | None = None,
    ) -> None:
        self.factory = factory
        self.taxonomy = taxonomy
        self.state_path = state_path
        self.config = config or ClusterConfig()
        self.clusterer: EventClusterer | None = None
        self.last_case_id = 0
        self.last_decision_id = 0
        self._saved_at = time.monotonic()
        self._dirty = False

    # -- start-up -----------------------------------------------------------------------------
    def restore(self) -> None:
        """Continue from the saved state; anything clustered or decided after it is redone."""
        self.clusterer, self.last_case_id, self.last_decision_id = None, 0, 0
        if self.state_path.exists():
            try:
                saved = json.loads(gzip.decompress(self.state_path.read_bytes()))
                self.clusterer = EventClusterer.from_state(saved["clusterer"], self.taxonomy)
                self.last_case_id = int(saved["last_case_id"])
                self.last_decision_id = int(saved["last_decision_id"])
            except (ValueError, OSError, KeyError) as exc:
                log.warning(
                    "event state %s unreadable (%s); clustering again", self.state_path, exc
                )
                self.clusterer, self.last_case_id, self.last_decision_id = None, 0, 0
        if self.clusterer is None:
            self.clusterer = EventClusterer(self.taxonomy, self.config)
        with self.factory() as session, session.begin():
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

    # -- work ---------------------------------------------------------------------------------
    def run_pass(self, batch: int = 200) -> int:
        """Cluster newly classified cases and apply new staff decisions; returns work done."""
        if self.clusterer is None:
            self.restore()
        done = self._add_pending(batch) + self._apply_decisions()
        if done:
            self._dirty = True
        if self._dirty and time.monotonic() - self._saved_at > SAVE_EVERY_SECONDS:
            self.save()
        return done

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
                )
                .where(Case.cluster_status == "pending", Case.triage_status == "done")
                .order_by(Case.id)
                .limit(batch)
            ).all()
        if not rows:
            return 0
        touched: set[str] = set()
        for case_id, number, text, category, reporter_id, received_at in rows:
            assignment = self.clusterer.add(
                Complaint(
                    id=number,
                    text=text,
                    category=category or "OUT",
                    # Anonymous complaints each count as their own reporter.
                    reporter=f"r{reporter_id}" if reporter_id else f"c{case_id}",
                    received_at=aware(received_at),
                )
            )
            touched.add(assignment.event_id)
            self.last_case_id = max(self.last_case_id, case_id)
        with self.factory() as session, session.begin():
            results_may_lag(session)  # lost results are clustered again after a restart
            session.execute(
                update(Case)
                .where(Case.id.in_([row[0] for row in rows]))
                .values(cluster_status="done")
            )
            self._write_events(session, touched)
        return len(rows)

    def _apply_decisions(self) -> int:
        clusterer = self.clusterer
        with self.factory() as session, session.begin():
            decisions = session.scalars(
                select(ClusterDecision)
                .where(ClusterDecision.applied.is_(False))
                .order_by(ClusterDecision.id)
            ).all()
            touched: set[str] = set()
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
        """Write the clusterer and how far it got, in one file, atomically."""
        if self.clusterer is None:
            return
        saved = {
            "clusterer": self.clusterer.to_state(),
            "last_case_id": self.last_case_id,
            "last_decision_id": self.last_decision_id,
        }
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_bytes(gzip.compress(json.dumps(saved, ensure_ascii=False).encode("utf-8")))
        tmp.replace(self.state_path)
        self._saved_at = time.monotonic()
        self._dirty = False


def _is_pending(session: Session, decision: ClusterDecision) -> bool:
    """Whether a case the decision names is still waiting to be clustered."""
    numbers = [n for n in (decision.case_number, decision.other_number) if n]
    return bool(
        session.scalar(
            select(Case.id).where(Case.number.in_(numbers), Case.cluster_status == "pending")
        )
    )
