"""标注 (``/workbench/labels``): the analysts' labelling queue (``api.label_queue``).

One case at a time, its masked text only: no case number to look it up by, no place, no
channel, no date, and not the model's guess (a label anchored on the guess would teach the
model its own mistakes). Above it: how many are left, the agreement between analysts and the
model's accuracy on the random sample."""

from __future__ import annotations

from fastapi import HTTPException, Request

from api.access import DB, Ctx
from api.db import committing
from api.label_queue import LOW_WATER, add_label, fill, open_tasks, remaining, review_threshold
from api.labels import agreement
from api.models import User
from api.permissions import Action, may
from api.staff_words import PICK_REASONS
from api.workbench.pages import item_choices
from api.workbench.render import page, redirect
from api.workbench.routing import router
from api.workbench.session import PREFIX, CheckedForm, PageUser, flash
from api.workflow import ActionRefused
from classifiers.redact import redact


def _check(user: User) -> None:
    if not may(user.role, Action.LABEL_CASES):
        raise HTTPException(403, "只有分析员可以标注")


@router.get("/labels")
def labels(request: Request, context: Ctx, session: DB, user: PageUser):
    _check(user)
    left = remaining(session, user)
    if left < LOW_WATER:
        with committing(session):
            fill(session, review_threshold(context))
        left = remaining(session, user)
    tasks = open_tasks(session, user, limit=1)
    task, case = tasks[0] if tasks else (None, None)
    return page(
        request,
        "labels.html",
        user,
        task=task,
        text=redact(case.text or "").text if case is not None else "",
        why=PICK_REASONS.get(task.why, task.why) if task is not None else "",
        left=left,
        agreement=agreement(session),
        choices=item_choices(context),
    )


@router.post("/labels/{task_id}")
def label(
    task_id: int, request: Request, form: CheckedForm, context: Ctx, session: DB, user: PageUser
):
    _check(user)
    try:
        with committing(session):
            add_label(
                session,
                task_id,
                form.get("category"),
                form.get("reason"),
                user,
                context.taxonomy,
            )
        kind, message = "ok", "已保存标注（记录了标注人、时间和理由），下一件："
    except ActionRefused as exc:
        session.rollback()
        kind, message = "error", str(exc)
    response = redirect(f"{PREFIX}/labels")
    flash(request, response, kind, message)
    return response
