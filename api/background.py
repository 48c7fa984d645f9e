"""The background jobs the case service runs, wired to their elections (``api.jobs``).

Every service process starts all of them; each runs only in the process holding its election:
one per machine on SQLite (lock files in var/), one per deployment on PostgreSQL (advisory
locks), so two hosts behind a load balancer never both cluster, text or review.

- ``triage``: classifies cases still 待分类 (``api.triage``);
- ``clustering``: groups classified cases into events (``api.events``);
- ``sms``: sends the outbox when Twilio is configured (``api.sms_sender``);
- ``daily_review``: 日盘点 once each working day at ``HOTLINE_DAILY_REVIEW_AT`` (Beijing time,
  e.g. 08:30; unset: not run by the service, only by ``hotline daily-review``), escalating
  overdue cases; the day it ran is kept in ``job_schedule``, claimed
  by a conditional update, so it runs once however many processes or hosts are up.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date, time

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from api.clock import now
from api.context import ServiceContext
from api.deadlines import is_workday
from api.events import ClusteringJob, EventBridge
from api.jobs import Election, Job, election_for, is_postgres
from api.rules import Rules
from api.shared_state import JobSchedule
from api.sms_sender import OutboxSender, TwilioSender
from api.triage import TriageWorker
from classifiers.paths import var_dir

log = logging.getLogger(__name__)


def daily_review_time() -> time | None:
    raw = os.environ.get("HOTLINE_DAILY_REVIEW_AT")
    if not raw:
        return None
    hour, minute = (int(part) for part in raw.split(":", 1))
    return time(hour, minute)


def claim_day(session: Session, name: str, day: date) -> bool:
    """Mark job ``name`` as run on ``day``; False if some process already did."""
    insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        insert(JobSchedule)
        .values(name=name, last_run_on=None)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    return (
        session.execute(
            update(JobSchedule)
            .where(
                JobSchedule.name == name,
                or_(JobSchedule.last_run_on.is_(None), JobSchedule.last_run_on < day),
            )
            .values(last_run_on=day)
        ).rowcount
        == 1
    )


class DailyReviewJob(Job):
    """日盘点 at a set time each working day; one run a day for the whole deployment."""

    name = "daily_review"

    def __init__(
        self,
        factory: sessionmaker[Session],
        rules: Rules,
        at: time,
        poll_seconds: float = 30.0,
        election: Election | None = None,
    ) -> None:
        super().__init__(poll_seconds, election, health=factory)
        self.factory, self.rules, self.at = factory, rules, at

    def run_pass(self) -> int:
        moment = now()
        if not is_workday(moment.date()) or moment.time() < self.at:
            return 0
        from api.daily_review import daily_review

        with self.factory() as session, session.begin():
            if not claim_day(session, self.name, moment.date()):
                return 0
            daily_review(session, self.rules, None, escalate=True)
        log.info("daily review (日盘点) done for %s", moment.date())
        return 0  # once a day: nothing more to do at once


@dataclass
class Jobs:
    """The service process's background jobs, started and stopped together."""

    triage: TriageWorker
    clustering: ClusteringJob
    daily: DailyReviewJob | None = None
    sms: OutboxSender | None = None
    all: list[Job] = field(default_factory=list)

    def start(self) -> None:
        self.triage.then = self.clustering.wake
        self.all = [j for j in (self.triage, self.clustering, self.daily, self.sms) if j]
        for job in self.all:
            job.start()

    def stop(self) -> None:
        for job in reversed(self.all):
            job.stop()

    def wake(self) -> None:
        """New complaints: classify and cluster them now (in the process running those jobs)."""
        self.triage.wake()
        self.clustering.wake()


def service_jobs(context: ServiceContext) -> Jobs:
    engine, sessions, settings = context.engine, context.sessions, context.settings
    locks = var_dir()

    def elect(name: str) -> Election:
        return election_for(engine, name, locks)

    at = daily_review_time()
    sms = None
    if settings.sms_live:
        sms = OutboxSender(
            sessions, TwilioSender(settings), settings.sms_poll_seconds, elect("sms-sender")
        )
    return Jobs(
        triage=TriageWorker(
            sessions,
            context.model.classify,
            context.taxonomy,
            context.rules,
            settings.triage_poll_seconds,
            elect("triage-worker"),
        ),
        clustering=ClusteringJob(
            EventBridge(sessions, context.taxonomy, var_dir() / "events-state.json.gz"),
            settings.triage_poll_seconds,
            elect("clustering"),
        ),
        daily=None
        if at is None
        else DailyReviewJob(sessions, context.rules, at, election=elect("daily")),
        sms=sms,
    )


__all__ = ["DailyReviewJob", "Jobs", "claim_day", "service_jobs"]
