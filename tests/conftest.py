"""Shared fixtures: the project's taxonomy, corpus and one trained model per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.corpus import CORPUS_DIR, load_split, snapshot_hash
from classifiers.model import TrainParams, TriageModel, train_model
from classifiers.paths import default_model_path
from classifiers.taxonomy import load_taxonomy


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def train_examples(taxonomy):
    return load_split(CORPUS_DIR / "train", taxonomy)


@pytest.fixture(scope="session")
def test_examples(taxonomy):
    return load_split(CORPUS_DIR / "test", taxonomy)


@pytest.fixture(scope="session")
def model_path(train_examples, taxonomy, tmp_path_factory) -> Path:
    """The model `hotline train` left (make test trains it first) if it was trained on exactly
    the current corpus; otherwise a fresh one trained here."""
    wanted = snapshot_hash(train_examples)
    path = default_model_path()
    if path.exists() and TriageModel.load(path).metadata.get("data_hash") == wanted:
        return path
    model = train_model(
        [e.text for e in train_examples],
        [e.label for e in train_examples],
        taxonomy,
        TrainParams(),
        metadata={"data_hash": wanted},
    )
    path = tmp_path_factory.mktemp("model") / "triage.joblib"
    model.save(path)
    return path


@pytest.fixture(scope="session")
def model(model_path) -> TriageModel:
    return TriageModel.load(model_path)


@pytest.fixture(scope="session")
def classifier_server(model_path, tmp_path_factory):
    """A real `hotline serve` process on a free port, with its own state folder."""
    from hotline.processes import Service, service_env

    home = tmp_path_factory.mktemp("classify-server")
    svc = Service(home, service_env(home, model_path, None)).start()
    yield svc.url
    svc.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, model_path, tmp_path_factory):
    """The real case service with demo accounts, on SQLite and on PostgreSQL."""
    from hotline.processes import (
        Service,
        create_pg_database,
        drop_pg_database,
        service_env,
    )

    home = tmp_path_factory.mktemp(f"svc-{request.param}")
    db_name = url = None
    if request.param == "postgresql":
        db_name, url = create_pg_database()
    svc = Service(home, service_env(home, model_path, url))
    svc.backend = request.param
    for args in (
        ("create-unit", "城关镇民政办", "--kind", "civil_affairs", "--township", "城关镇"),
        (
            "create-unit",
            "河湾村村委会",
            "--kind",
            "village_committee",
            "--township",
            "城关镇",
            "--village",
            "河湾村",
        ),
        ("create-unit", "城关镇农经站", "--kind", "rural_economy", "--township", "城关镇"),
        ("create-user", "sup", "--role", "supervisor", "--password", "sup-pass-1"),
        (
            "create-user",
            "civil",
            "--role",
            "handler",
            "--password",
            "civil-pass-1",
            "--unit",
            "城关镇民政办",
        ),
        (
            "create-user",
            "farm",
            "--role",
            "handler",
            "--password",
            "farm-pass-1",
            "--unit",
            "城关镇农经站",
        ),
        ("create-user", "ana", "--role", "analyst", "--password", "ana-pass-1"),
        ("create-user", "grid", "--role", "grid_worker", "--password", "grid-pass-1"),
    ):
        result = svc.cli(*args)
        assert result.returncode == 0, result.stderr
    svc.start()
    yield svc
    svc.stop()
    if db_name:
        drop_pg_database(db_name)
