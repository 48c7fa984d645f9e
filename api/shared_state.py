"""Tables that hold what every host must agree on (revision 0008, issue 15): the signing key,
the clusterer's saved state, the model registry on PostgreSQL and the once-a-day job marks.

They live apart from ``api.models`` because no request handler reads them: only start-up, the
background jobs and the model registry do."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, Integer, LargeBinary, String, Text, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class ServiceSecret(Base):
    __tablename__ = "service_secrets"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ClusterState(Base):
    __tablename__ = "cluster_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    last_case_id: Mapped[int] = mapped_column(Integer)
    last_decision_id: Mapped[int] = mapped_column(Integer)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelVersionRow(Base):
    __tablename__ = "model_versions"
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(20), unique=True)
    meta: Mapped[dict] = mapped_column(JSON)
    blob: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    files: Mapped[dict | None] = mapped_column(JSON, deferred=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ModelActivation(Base):
    __tablename__ = "model_activations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry: Mapped[dict] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(20))


class JobSchedule(Base):
    __tablename__ = "job_schedule"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)


SIGNING_KEY = "signing_key"


def deployment_secret(engine: Engine, name: str = SIGNING_KEY) -> str:
    """The deployment's key ``name`` on PostgreSQL: made once by whichever host starts first
    (INSERT … ON CONFLICT DO NOTHING), then read by every host, so a token signed on one host
    is good on all of them."""
    with engine.begin() as conn:
        conn.execute(
            pg_insert(ServiceSecret)
            .values(name=name, value=secrets.token_urlsafe(48))
            .on_conflict_do_nothing(index_elements=["name"])
        )
        query = select(ServiceSecret.value).where(ServiceSecret.name == name)
        return conn.execute(query).scalar_one()
