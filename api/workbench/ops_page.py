"""运行状态: the office's own view of whether the service keeps up (supervisors, issue 17).

What waits for the background jobs (cases to classify and to cluster, texts to send), when each
job last succeeded and last failed (``api.job_health``), and the texts that could not be
delivered. The page turns red when a job has not succeeded for longer than
``Settings.job_stale_minutes`` allows, or its last pass failed, so a stopped loop is seen by the
people who depend on it, not only in a log file. The same numbers are on ``/metrics``.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy import or_, select

from api import job_health, outbox
from api.access import DB, Ctx
from api.models import Case, OutboundSms
from api.routes.outbox import item_out
from api.workbench import policy
from api.workbench.render import page
from api.workbench.routing import router
from api.workbench.session import PageUser

FAILING_SHOWN = 20


def failing_texts(session, limit: int = FAILING_SHOWN) -> list:
    """Texts that failed to send or were reported undelivered, not yet resent: newest first."""
    query = (
        select(OutboundSms, Case.number)
        .outerjoin(Case, Case.id == OutboundSms.case_id)
        .where(
            or_(
                OutboundSms.status == "failed",
                OutboundSms.delivery_status.in_(("failed", "undelivered")),
            ),
            OutboundSms.status != "resent",
        )
        .order_by(OutboundSms.id.desc())
        .limit(limit)
    )
    return [item_out(message, number) for message, number in session.execute(query).all()]


@router.get("/ops")
def ops_view(request: Request, context: Ctx, session: DB, user: PageUser):
    if not policy.can_see_operations(user):
        raise HTTPException(403, "您的角色无权查看运行状态")
    settings = context.settings
    jobs = job_health.job_states(
        session,
        job_health.stale_limits(settings.job_stale_minutes),
        {"sms": settings.sms_live},
    )
    waiting = job_health.backlogs(session)
    failing = failing_texts(session)
    problems = [j for j in jobs if not j.healthy]
    return page(
        request,
        "ops.html",
        user,
        jobs=jobs,
        waiting=waiting,
        failing=failing,
        problems=problems,
        healthy=not problems,
        statuses=outbox.STATUSES,
        model_version=context.model.version,
        sms_live=settings.sms_live,
    )
