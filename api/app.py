"""The case service: every channel files into and reads from here (FastAPI)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Annotated

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from api import workbench
from api.access import Ctx
from api.background import service_jobs
from api.clean_request import CleanRequest
from api.context import ServiceContext
from api.db import make_engine, migrate, session_factory
from api.lifecycle import IllegalTransition
from api.limits import BodySizeLimit
from api.logins import warm_dummy_hash
from api.model_store import service_registry
from api.ops_metrics import HttpMetrics
from api.ops_metrics import router as ops_metrics_router
from api.outbox import LIVE
from api.problems import install_problem_handlers, problem
from api.request_id import RequestId
from api.routes import (
    cases,
    chat,
    conversation,
    labels,
    office,
    open311,
    outbox,
    phone,
    public,
    understand,
)
from api.rules import load_rules
from api.schemas import Strict
from api.settings import Settings
from api.shared_state import deployment_secret
from api.triage import ModelHolder
from api.workflow import ActionRefused
from classifiers.model import MAX_TEXT_CHARS
from classifiers.paths import models_dir
from classifiers.taxonomy import load_taxonomy

DOCS_ASSETS = "/workbench/static/vendor/swagger-ui"  # Swagger UI 4.15.5, see its README


class ClassifyRequest(Strict):
    text: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]


class ClassifyResponse(BaseModel):
    category: str
    name: str
    confidence: float
    top: list[tuple[str, float]]
    needs_review: bool
    terms: list[str]


def build_context(settings: Settings) -> ServiceContext:
    engine = make_engine(settings.database_url)
    migrate(engine)
    if not settings.secret_key:  # PostgreSQL without HOTLINE_SECRET: the deployment's key
        settings = replace(settings, secret_key=deployment_secret(engine))
    return ServiceContext(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine, info={LIVE: settings.sms_live}),
        read_sessions=session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
        taxonomy=load_taxonomy(),
        rules=load_rules(settings.rules_path),
        model=ModelHolder(settings.model_path, registry=service_registry(engine, models_dir())),
    )


def create_app(settings: Settings | None = None, *, run_worker: bool = True) -> FastAPI:
    context = build_context(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        jobs = None
        if run_worker:  # each job runs in the one process holding its election (api.background)
            jobs = service_jobs(context)
            jobs.start()
            app.state.wake_worker = jobs.wake
            if jobs.sms is not None:
                app.state.wake_sender = jobs.sms.wake
            app.state.jobs = jobs
        yield
        if jobs is not None:
            jobs.stop()
        context.engine.dispose()

    app = FastAPI(
        title="小微权力“监督一点通”热线 案件服务",
        version="0.2.0",
        lifespan=lifespan,
        docs_url=None,  # served below from vendored assets: no CDN on offline county networks
        redoc_url=None,
    )
    app.state.ctx = context
    app.state.wake_worker = lambda: None
    app.state.wake_sender = lambda: None
    app.add_middleware(BodySizeLimit, max_bytes=context.settings.max_body_bytes)
    app.add_middleware(CleanRequest)
    app.add_middleware(HttpMetrics)
    app.add_middleware(RequestId)  # outermost: every log line of the request carries its id
    warm_dummy_hash()  # an unknown username's first login costs what a known one does
    install_problem_handlers(app)

    @app.exception_handler(IllegalTransition)
    async def illegal(_, exc: IllegalTransition):
        return problem(409, str(exc))

    @app.exception_handler(ActionRefused)
    async def refused(_, exc: ActionRefused):
        return problem(409, str(exc))

    for router in (
        public.router,
        conversation.router,
        cases.router,
        office.router,
        open311.router,
        outbox.router,
        labels.router,
        understand.router,
        phone.router,
        chat.router,
        ops_metrics_router,
    ):
        app.include_router(router)
    app.include_router(workbench.router)
    app.mount("/workbench/static", StaticFiles(directory=workbench.STATIC), name="workbench-static")
    workbench.load_replies()  # a malformed config/replies.yml stops the start, saying where

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=app.title + " 接口文档",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/workbench/")

    @app.get("/healthz", tags=["ops"])
    def healthz(ctx: Ctx) -> dict:
        model_ready = ctx.model.path.exists()
        return {
            "status": "ok",
            "model": model_ready,
            "model_version": ctx.model.version,  # registry version serving (None: fixed file)
            "database": ctx.engine.dialect.name,
        }

    @app.post("/api/v1/classify", response_model=ClassifyResponse, tags=["triage"])
    def classify(body: ClassifyRequest, ctx: Ctx):
        """Classify a text without filing it (the bot reads the item back before filing)."""
        if not body.text.strip():
            return problem(422, "投诉内容为空")
        try:
            model = ctx.model.get()
        except FileNotFoundError:
            return problem(503, "分类模型尚未训练，请先运行 hotline train")
        pred = model.predict_one(body.text)
        name = (
            ctx.taxonomy.by_code[pred.category].name
            if pred.category in ctx.taxonomy.by_code
            else pred.category
        )
        return ClassifyResponse(name=name, **pred.as_dict())

    return app
