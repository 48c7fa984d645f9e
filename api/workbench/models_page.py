"""The 模型 page (issue 8): the registered triage models with the active one marked, a
candidate's comparison with the active model, and promote/rollback for supervisors.

Analysts and supervisors read; only supervisors change which model is active, through the same
functions as `hotline models promote/rollback` (``api.retrain``), so the gate is the same."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse

from api.access import DB, Ctx
from api.model_report import load_comparison
from api.models import User
from api.permissions import Action, roles_for
from api.retrain import PromotionRefused, current_comparison, promote, rollback
from api.workbench.render import page, redirect
from api.workbench.routing import router
from api.workbench.session import PREFIX, CheckedForm, PageUser, flash
from classifiers.registry import Registry, RegistryError

READERS = tuple(roles_for(Action.READ_MODELS))


def _registry(user: User) -> Registry:
    if user.role not in READERS:
        raise HTTPException(403, "您的角色无权查看模型")
    return Registry.default()


def _can_manage(user: User) -> bool:
    return user.role in roles_for(Action.MANAGE_MODELS)


def _meta(registry: Registry, version: str) -> dict:
    try:
        return registry.meta(version)
    except RegistryError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/models")
def models(request: Request, context: Ctx, user: PageUser):
    registry = _registry(user)
    return page(
        request,
        "models.html",
        user,
        versions=list(reversed(registry.versions())),
        active=registry.active(),
        serving=context.model.version,
        pinned=context.settings.model_path,
        rollback_to=registry.rollback_target(),
        can_manage=_can_manage(user),
    )


@router.get("/models/{version}")
def model_report(version: str, request: Request, context: Ctx, user: PageUser):
    registry = _registry(user)
    meta = _meta(registry, version)
    active = registry.active()
    comparison = None
    stale = False
    if (registry.dir_of(version) / "report.json").exists():
        comparison = load_comparison(registry.dir_of(version))
        stale = (
            version != active and current_comparison(registry, version, context.taxonomy) is None
        )
    return page(
        request,
        "model_report.html",
        user,
        meta=meta,
        version=version,
        active=active,
        cmp=comparison,
        stale=stale,
        names={item.code: item.name for item in context.taxonomy.items},
        confusion_src=f"{PREFIX}/models/{quote(version)}/confusion.png",
        can_manage=_can_manage(user) and version != active,
    )


@router.get("/models/{version}/confusion.png")
def confusion_png(version: str, user: PageUser):
    registry = _registry(user)
    _meta(registry, version)
    path = registry.dir_of(version) / "confusion.png"
    if not path.exists():
        raise HTTPException(404, "这个版本还没有对比报告")
    return FileResponse(path, media_type="image/png")


@router.post("/models/{version}/promote")
def promote_version(
    version: str, request: Request, form: CheckedForm, context: Ctx, session: DB, user: PageUser
):
    registry = _registry(user)
    if not _can_manage(user):
        raise HTTPException(403, "只有纪检监督人员可以启用模型")
    _meta(registry, version)
    try:
        promote(
            registry,
            version,
            context.taxonomy,
            session=session,
            force=form.get("force") == "1",
            reason=form.get("reason"),
            by=user.username,
        )
        kind, text = "ok", f"已启用模型 {version}，服务约一秒内切换，不需要重启"
    except PromotionRefused as exc:
        kind = "error"
        text = f"{version} 未通过升级检查，没有启用：" + "；".join(exc.reasons)
        text += "。确需启用请勾选“强制启用”并写明原因。"
    except RegistryError as exc:
        kind, text = "error", str(exc)
    response = redirect(f"{PREFIX}/models/{quote(version)}")
    flash(request, response, kind, text)
    return response


@router.post("/models/rollback")
def rollback_version(request: Request, form: CheckedForm, user: PageUser):
    registry = _registry(user)
    if not _can_manage(user):
        raise HTTPException(403, "只有纪检监督人员可以回退模型")
    current = registry.active()
    try:
        target = rollback(registry, reason=form.get("reason"), by=user.username)
        kind, text = "ok", f"已从 {current} 回退到 {target}，服务约一秒内切换"
    except RegistryError as exc:
        kind, text = "error", str(exc)
    response = redirect(f"{PREFIX}/models")
    flash(request, response, kind, text)
    return response
