"""What every request handler needs: settings, database, taxonomy, rules, the model."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.rules import Rules
from api.settings import Settings
from api.triage import ModelHolder
from classifiers.taxonomy import Taxonomy


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    # Autocommit sessions for single-statement reads: no BEGIN/ROLLBACK round trips.
    read_sessions: sessionmaker[Session]
    taxonomy: Taxonomy
    rules: Rules
    model: ModelHolder
