"""The workbench's actions (POST): login and logout, every case action, and bulk actions on an
event. Each action calls the case actions the JSON API's routes call (``api.case_service``) in
process: the same role checks, visibility, validation and domain rules (``api.workflow``), and
the same history, labels, cluster decisions and audit rows. Nothing here re-decides what is
allowed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from urllib.parse import quote

from fastapi import HTTPException, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api import case_service as cases
from api import sms_texts, workflow
from api.access import DB, Ctx
from api.context import ServiceContext
from api.lifecycle import OPEN_STATES, IllegalTransition, State
from api.logins import WRONG, login_client, token_for
from api.models import User
from api.problems import locked_message
from api.routes import phone
from api.schemas import (
    AssignIn,
    CategoryIn,
    EscalateIn,
    Login,
    MergeIn,
    NoteIn,
    ReferIn,
    TransitionIn,
)
from api.throttle import Locked
from api.workbench import queries
from api.workbench.pages import case_page, home_url, item_names, values_for
from api.workbench.render import page, redirect
from api.workbench.replies import Template, fill, misfit_for_case
from api.workbench.routing import router
from api.workbench.session import (
    PREFIX,
    CheckedForm,
    Form,
    LoginForm,
    PageUser,
    end_session,
    flash,
    new_login_csrf,
    safe_next,
    set_login_csrf,
    start_session,
)
from api.workflow import ActionRefused

OPEN = {s.value for s in OPEN_STATES}
Refusal = (HTTPException, ActionRefused, IllegalTransition, ValidationError)


def why(exc: Exception) -> str:
    """A refusal in words for the person who tried."""
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if isinstance(exc, ValidationError):
        fields = {".".join(str(p) for p in e["loc"]) for e in exc.errors()}
        return "内容不符合要求或未填写：" + "、".join(
            sorted(_FIELD_NAMES.get(f, f) for f in fields)
        )
    return str(exc)


_FIELD_NAMES = {
    "reason": "原因",
    "note": "备注",
    "reply": "答复",
    "category": "事项",
    "into": "主案件号",
    "unit_id": "办理单位",
    "to": "目标状态",
    "username": "用户名",
    "password": "密码",
    "text": "反映内容",
    "phone": "手机号",
    "name": "姓名",
    "township": "乡镇",
    "village": "村",
    "idempotency_key": "表单编号",
}


# -- login -------------------------------------------------------------------------------------
@router.post("/login")
def login(request: Request, form: LoginForm, context: Ctx):
    """The same check as ``POST /api/v1/auth/token`` (throttled, same lockouts)."""
    try:
        body = Login(username=form.get("username"), password=form.get("password"))
        user, token = token_for(context, body, login_client(request))
    except (*Refusal, Locked) as exc:
        locked = isinstance(exc, Locked)
        value = new_login_csrf()
        response = page(
            request,
            "login.html",
            None,
            status=429 if locked else 401,
            login_csrf=value,
            next=safe_next(form.get("next")),
            error=locked_message(exc) if locked else WRONG,
        )
        if locked:
            response.headers["Retry-After"] = str(exc.retry_after)
        set_login_csrf(request, response, value)
        return response
    target = form.get("next")
    response = redirect(safe_next(target) if target else home_url(user))
    start_session(request, response, token.access_token, context.settings.token_minutes)
    return response


@router.post("/logout")
def logout(form: CheckedForm):
    response = redirect(f"{PREFIX}/login")
    end_session(response)
    return response


# -- one case ----------------------------------------------------------------------------------
def _text(form: Form, name: str) -> str | None:
    value = form.get(name).strip()
    return value or None


def _reply(form: Form) -> str | None:
    """The reply as written; if left empty, the chosen template's text."""
    return _text(form, "reply") or _text(form, "template")


def _do(
    context: ServiceContext, session: Session, user: User, number: str, action: str, form: Form
) -> str:
    """Run one case action; returns what to tell the user. Raises a refusal."""
    names = item_names(context)
    if action == "category":
        code = form.get("category")
        before = cases.get_case(number, context, session, user).category
        out = cases.set_category(number, CategoryIn(category=code), context, session, user)
        label = names.get(out.category or "", out.category)
        verb = "确认" if out.category == before else "更正"
        return f"事项已{verb}为{out.category} {label}（已记录为训练标注）"
    if action == "assign":
        try:
            unit_id = int(form.get("unit_id"))
        except ValueError as exc:
            raise HTTPException(422, "请选择办理单位") from exc
        out = cases.assign_case(
            number, AssignIn(unit_id=unit_id, note=_text(form, "note")), context, session, user
        )
        return f"已转交{out.unit.name if out.unit else ''}办理"
    if action == "refer":
        cases.refer(number, ReferIn(reason=_reply(form) or ""), context, session, user)
        return "已清单外转办，原因会告知群众"
    if action == "escalate":
        reason = _text(form, "reason") or "提级督办"
        cases.escalate(number, EscalateIn(reason=reason), context, session, user)
        return "已提级督办"
    if action == "note":
        cases.add_note(number, NoteIn(note=form.get("note").strip()), context, session, user)
        return "已添加内部备注"
    if action == "merge":
        into = form.get("into").strip()
        cases.merge(number, MergeIn(into=into), context, session, user)
        return f"已合并到案件{into}"
    if action == "split":
        cases.split(number, context, session, user)
        return "已从事件中拆分"
    if action == "transcript":  # a voicemail, typed by someone who listened (api.voicemail)
        body = phone.TranscriptIn(text=form.get("text").strip())
        phone.record_transcript(context, session, user, number, body)
        return "录音内容已录入，系统将自动分类"
    if action == "transition":
        body = TransitionIn(to=form.get("to"), reply=_reply(form), note=_text(form, "note"))
        out = cases.transition(number, body, context, session, user)
        return f"案件状态已变更为“{out.state}”" + ("，答复已发送给群众" if body.reply else "")
    raise HTTPException(404, "没有这个操作")


CASE_ACTIONS = (
    "category",
    "assign",
    "refer",
    "escalate",
    "note",
    "merge",
    "split",
    "transition",
    "transcript",
)


@router.post("/cases/{number}/contact")
def contact(
    number: str, request: Request, form: CheckedForm, context: Ctx, session: DB, user: PageUser
):
    """Show the complainant's name and phone on the case page (this read is audited); never put
    in a cookie or a URL."""
    found = cases.get_contact(number, session, user)
    return case_page(request, context, session, user, number, contact=found)


@router.post("/cases/{number}/{action}")
def case_action(
    number: str,
    action: str,
    request: Request,
    form: CheckedForm,
    context: Ctx,
    session: DB,
    user: PageUser,
):
    if action not in CASE_ACTIONS:
        raise HTTPException(404, "没有这个操作")
    cases.get_case(number, context, session, user)  # 404 before anything if not visible
    back = f"{PREFIX}/cases/{quote(number, safe='')}"
    if not form.get("confirmed"):
        try:
            shown = _preview(request, context, session, user, number, action, form)
        except Refusal as exc:
            session.rollback()
            response = redirect(back)
            flash(request, response, "error", why(exc))
            return response
        if shown is not None:
            return shown
    try:
        message, kind = _do(context, session, user, number, action, form), "ok"
    except Refusal as exc:
        session.rollback()
        message, kind = why(exc), "error"
    if action == "merge" and kind == "ok":
        back = f"{PREFIX}/cases/{quote(form.get('into').strip(), safe='')}"
    response = redirect(back)
    flash(request, response, kind, message)
    return response


def _preview(
    request: Request,
    context: ServiceContext,
    session: Session,
    user: User,
    number: str,
    action: str,
    form: Form,
):
    """Before a case is closed or referred, the supervisor sees exactly what the resident will
    be told (the answer in their status lookup, the text message) and, apart from it, the
    internal note they will not; nothing is stored until 确认发送. None: no preview needed."""
    if action == "refer":
        target = State.REFERRED
    elif action == "transition" and form.get("to") == State.DONE.value:
        target = State.DONE
    else:
        return None
    out = cases.get_case(number, context, session, user)
    answer = _reply(form)
    text = workflow.check_public_answer(
        target, answer, misfit_for_case(out, context.taxonomy, target.value, answer)
    )
    sms = (
        sms_texts.done(out.number) if target == State.DONE else sms_texts.referred(out.number, text)
    )
    return page(
        request,
        "reply_preview.html",
        user,
        case=out,
        action=action,
        target=target.value,
        answer=text,
        note=_text(form, "note") if action == "transition" else None,
        sms=sms,
    )


# -- bulk actions on an event --------------------------------------------------------------------
EVENT_ACTIONS = ("merge", "assign", "category", "escalate", "note", "transition")


def _targets(action: str, members: list, lead: str | None, leads: dict[int, str]) -> list:
    """The event's cases an action is meant for: a merge skips the lead and the cases already
    joined to it; assigning, escalating and state changes skip cases joined to another case
    (they follow their lead)."""
    if action == "merge":
        return [m for m in members if m.number != lead and leads.get(m.lead_case_id) != lead]
    if action in ("assign", "escalate", "transition"):
        return [m for m in members if m.lead_case_id is None]
    return members


@router.post("/events/{event_id}/{action}")
def event_action(
    event_id: str,
    action: str,
    request: Request,
    form: CheckedForm,
    context: Ctx,
    session: DB,
    user: PageUser,
):
    """Apply one action to every case of the event this user may see, each in its own
    transaction: a case the rules refuse is reported and the others still go through."""
    if action not in EVENT_ACTIONS:
        raise HTTPException(404, "没有这个操作")
    members = queries.event_members(session, user, event_id[:20])
    if not members:
        raise HTTPException(404, "没有找到这个事件")
    lead = form.get("lead").strip() or None
    if action == "merge" and lead not in {m.number for m in members}:
        raise HTTPException(422, "主案件必须是本事件中的案件")
    leads = queries.lead_numbers(session, {m.lead_case_id for m in members if m.lead_case_id})

    def act(number: str) -> str:
        return _do(context, session, user, number, action, _form_for(number))

    def _form_for(number: str) -> Form:
        """A merge names the lead; a reply's placeholders ({number}, {unit} …) are filled in
        for each case."""
        if action == "merge":
            return Form({**form.fields, "into": [lead or ""]})
        text = _reply(form)
        if action == "transition" and text:
            out = cases.get_case(number, context, session, user)
            filled = fill(Template("", text), values_for(context, out))
            return Form({**form.fields, "reply": [filled]})
        return form

    done, refused = _apply_all(
        [m.number for m in _targets(action, members, lead, leads)], act, session
    )
    text = f"已对{done}件案件执行“{_EVENT_LABELS[action]}”"
    if refused:
        text += "；未执行：" + "；".join(f"{why}（{n}件）" for why, n in refused.most_common())
    response = redirect(f"{PREFIX}/events/{quote(event_id, safe='')}")
    flash(request, response, "ok" if done else "error", text)
    return response


_EVENT_LABELS = {
    "merge": "合并到主案件",
    "assign": "转办",
    "category": "确认/更正事项",
    "escalate": "提级督办",
    "note": "添加备注",
    "transition": "变更状态",
}


def _apply_all(
    numbers: list[str], act: Callable[[str], str], session: Session
) -> tuple[int, Counter[str]]:
    done, refused = 0, Counter()
    for number in numbers:
        try:
            act(number)
            done += 1
        except Refusal as exc:
            session.rollback()
            refused[why(exc)] += 1
    return done, refused
