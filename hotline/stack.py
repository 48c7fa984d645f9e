"""Starting and stopping the hotline's processes together: the case service, the Rasa action
server and the Rasa server. Used by `hotline up`, `hotline bot run`, the tests and benchmarks."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from classifiers.paths import PROJECT_ROOT
from hotline import rasa_env
from hotline.processes import HOTLINE, free_port


@dataclass
class ManagedProcess:
    """One child process in its own process group, with a readiness check and a log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    ready: Callable[[], bool]
    proc: subprocess.Popen | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            self.argv,
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{self.name} exited while starting:\n{tail}")
            try:
                if self.ready():
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
        self.proc = None


INTERNAL_TOKEN_ENV = "HOTLINE_INTERNAL_TOKEN"


def internal_token_from(env: Mapping[str, str], fallback: str | None = None) -> str:
    """The internal token the environment sets (to share with a case service started
    elsewhere), else ``fallback``, else a new random one."""
    return env.get(INTERNAL_TOKEN_ENV) or fallback or secrets.token_urlsafe(32)


def _get_ok(url: str) -> bool:
    return httpx.get(url, timeout=2).status_code == 200


def case_service(home: Path, env: dict[str, str], port: int, host: str = "127.0.0.1"):
    return ManagedProcess(
        "case service",
        [HOTLINE, "serve", "--host", host, "--port", str(port)],
        env,
        home / "logs" / "case-service.log",
        lambda: _get_ok(f"http://127.0.0.1:{port}/healthz"),
    )


def action_server(
    home: Path,
    api_url: str,
    port: int,
    extra_env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
) -> ManagedProcess:
    """rasa_sdk listens on ``SANIC_HOST`` (its own default is every interface, 0.0.0.0); only
    Rasa on this machine calls it, so it listens on the loopback address unless told."""
    return ManagedProcess(
        "action server",
        [
            str(rasa_env.RASA_PYTHON),
            "-m",
            "rasa_sdk",
            "--actions",
            "actions",
            "--port",
            str(port),
        ],
        {**rasa_env.rasa_env(api_url), **(extra_env or {}), "SANIC_HOST": host},
        home / "logs" / "actions.log",
        lambda: _get_ok(f"http://127.0.0.1:{port}/health"),
    )


def rasa_server(
    home: Path,
    model: Path,
    endpoints: Path,
    port: int,
    token: str,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
) -> ManagedProcess:
    def ready() -> bool:
        r = httpx.get(f"http://127.0.0.1:{port}/status", params={"token": token}, timeout=2)
        return r.status_code == 200 and bool(r.json().get("model_id"))

    return ManagedProcess(
        "rasa",
        [
            str(rasa_env.RASA),
            "run",
            "--enable-api",
            "--auth-token",
            token,
            "--model",
            str(model),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(rasa_env.CREDENTIALS),
            "--interface",
            host,
            "--port",
            str(port),
            "--cors",
            "*",
        ],
        env or rasa_env.rasa_env(),
        home / "logs" / "rasa.log",
        ready,
    )


@dataclass
class Stack:
    """The case service, action server and Rasa server, started and stopped together."""

    home: Path
    service_env: dict[str, str]
    model: Path
    api_port: int = field(default_factory=free_port)
    actions_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    host: str = "127.0.0.1"
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    with_case_service: bool = True
    api_url: str | None = None
    rasa_extra_env: dict[str, str] = field(default_factory=dict)  # e.g. TWILIO_AUTH_TOKEN
    # Several Rasa processes, each with its own action server, sharing the tracker store (the
    # case service's PostgreSQL database, or var/conversations.db) and a Redis lock store.
    rasa_processes: int = 1
    redis_url: str | None = None
    extra_rasa_ports: list[int] = field(default_factory=list)
    processes: list[ManagedProcess] = field(default_factory=list)
    # Shared by the case service and the action server: the action server is the trusted
    # internal caller that may name the resident it speaks for (see api/callers.py).
    # Without a case service of its own (``hotline bot run``), only a token the environment
    # shares with that service is used; the action server is an ordinary client otherwise.
    internal_token: str | None = field(default_factory=lambda: os.environ.get(INTERNAL_TOKEN_ENV))

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def rasa_urls(self) -> list[str]:
        """Every Rasa process (the first is ``rasa_url``)."""
        return [f"http://127.0.0.1:{p}" for p in (self.rasa_port, *self.extra_rasa_ports)]

    def start(self) -> Stack:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.api_url is None:
            self.api_url = f"http://127.0.0.1:{self.api_port}"
        endpoints = rasa_env.write_endpoints(
            self.home / "endpoints.yml",
            actions_url=f"http://127.0.0.1:{self.actions_port}",
            database_url=self.service_env.get("DATABASE_URL"),
            sqlite_path=self.home / "conversations.db",
            rasa_processes=self.rasa_processes,
            redis_url=self.redis_url,
        )
        if self.with_case_service:
            self.internal_token = internal_token_from(self.service_env, self.internal_token)
            service_env = {
                **self.service_env,
                INTERNAL_TOKEN_ENV: self.internal_token,
                "HOTLINE_RASA_URL": self.rasa_url,  # the chat page's bot (api/routes/chat.py)
            }
            self.processes.append(
                case_service(self.home, service_env, self.api_port, self.host).start()
            )
        extra = dict(self.rasa_extra_env)
        if self.internal_token:
            extra[INTERNAL_TOKEN_ENV] = self.internal_token
        self.processes.append(
            action_server(self.home, self.api_url, self.actions_port, extra).start()
        )
        rasa_vars = {**rasa_env.rasa_env(self.api_url), **extra}
        self.processes.append(
            rasa_server(
                self.home, self.model, endpoints, self.rasa_port, self.token, self.host, rasa_vars
            ).start()
        )
        self._start_more_rasa(extra)
        try:
            for process in self.processes:
                process.wait_ready(timeout=240)
        except Exception:
            self.stop()
            raise
        return self

    def _start_more_rasa(self, extra: dict[str, str]) -> None:
        """Rasa processes 2…n, each with its own action server and folder for logs."""
        for i in range(1, self.rasa_processes):
            home = self.home / f"rasa{i + 1}"
            (home / "logs").mkdir(parents=True, exist_ok=True)
            actions_port, rasa_port = free_port(), free_port()
            self.extra_rasa_ports.append(rasa_port)
            endpoints = rasa_env.write_endpoints(
                home / "endpoints.yml",
                actions_url=f"http://127.0.0.1:{actions_port}",
                database_url=self.service_env.get("DATABASE_URL"),
                sqlite_path=self.home / "conversations.db",
                rasa_processes=self.rasa_processes,
                redis_url=self.redis_url,
            )
            self.processes.append(action_server(home, self.api_url, actions_port, extra).start())
            rasa_vars = {**rasa_env.rasa_env(self.api_url), **extra}
            self.processes.append(
                rasa_server(
                    home, self.model, endpoints, rasa_port, self.token, self.host, rasa_vars
                ).start()
            )

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    def first_dead(self) -> ManagedProcess | None:
        return next((p for p in self.processes if not p.alive()), None)
