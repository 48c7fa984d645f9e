"""Run the real case service (`hotline serve`) as a subprocess, on SQLite or on a scratch
PostgreSQL database: for the tests and the benchmarks."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from classifiers.paths import PROJECT_ROOT

HOTLINE = str(Path(sys.executable).with_name("hotline"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def create_pg_database(prefix: str = "hotline_test_") -> tuple[str, str]:
    """A scratch database on the machine's PostgreSQL; returns (name, url)."""
    name = f"{prefix}{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Service:
    home: Path
    env: dict
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    workers: int | None = None  # `hotline serve --workers` (None: its default)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, **extra_env: str) -> Service:
        env = {**self.env, **extra_env}
        log = open(self.home / f"serve-{self.port}.log", "ab")  # noqa: SIM115 - lives with proc
        self.proc = subprocess.Popen(
            [
                HOTLINE,
                "serve",
                "--port",
                str(self.port),
                *(["--workers", str(self.workers)] if self.workers else []),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its worker processes share a group we can signal
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.home / f"serve-{self.port}.log").read_text())
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("service did not start")

    def kill(self) -> None:
        """Hard kill of the supervisor and its workers, as a crash would (no shutdown runs)."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            self.proc = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [HOTLINE, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=PROJECT_ROOT,
        )

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def login(self, username: str, password: str) -> str:
        r = httpx.post(
            self.url + "/api/v1/auth/token",
            json={"username": username, "password": password},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()["access_token"]


def service_env(home: Path, model_path: Path, database_url: str | None) -> dict:
    env = {
        **os.environ,
        "HOTLINE_VAR": str(home),
        "HOTLINE_MODEL": str(model_path),
        "HOTLINE_SECRET": secrets.token_hex(16),
        "HOTLINE_TRIAGE_POLL": "0.3",
        # The trusted internal caller's token (the action server's, see api/callers.py).
        "HOTLINE_INTERNAL_TOKEN": secrets.token_urlsafe(24),
        # Tests read the dashboard right after changing cases: no minute-old counts.
        "HOTLINE_STATS_CACHE_SECONDS": "0",
    }
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env
