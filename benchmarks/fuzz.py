"""Fuzzing the case service from its own OpenAPI schema (schemathesis): every operation gets
generated requests, valid ones and deliberately invalid ones (wrong types, out-of-range numbers,
odd strings and headers), with and without a supervisor's login, against the real service
(`hotline serve`) on SQLite and PostgreSQL. The target is 0 server errors (5xx): input must be
refused with a 4xx, never crash a request.

The test suite runs a few examples per operation (``tests/test_service_fuzz.py``);
``hotline bench fuzz`` runs at least 10,000 requests per database and prints the counts.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from hotline.processes import Service, create_pg_database, drop_pg_database, service_env

MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Paths the fuzzer leaves alone: nothing here takes input it could break.
SKIP = ("/docs", "/openapi.json")


@dataclass
class FuzzReport:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: FuzzReport) -> None:
        self.requests += other.requests
        self.statuses.update(other.statuses)
        self.server_errors += other.server_errors
        self.seconds += other.seconds

    def summary(self) -> str:
        by_class = Counter(f"{s // 100}xx" for s in self.statuses.elements())
        classes = ", ".join(f"{k} {v}" for k, v in sorted(by_class.items()))
        return (
            f"{self.requests} requests in {self.seconds:.0f} s ({classes}); "
            f"server errors: {len(self.server_errors)}"
        )


def fuzz(
    base_url: str,
    token: str | None = None,
    examples: int = 5,
    seed: int = 14,
) -> FuzzReport:
    """``examples`` generated requests per operation and generation mode; every 5xx is kept
    with the request that caused it (as a curl command)."""
    schema = schemathesis.openapi.from_url(base_url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    report = FuzzReport()
    start = time.perf_counter()
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.path in SKIP:
                continue
            for mode in MODES:
                _fuzz_operation(operation, mode, base_url, session, headers, examples, seed, report)
    report.seconds = time.perf_counter() - start
    return report


def _fuzz_operation(operation, mode, base_url, session, headers, examples, seed_, report) -> None:
    @seed(seed_)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        report.requests += 1
        report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            report.server_errors.append(
                f"{response.status_code} {case.as_curl_command(headers=headers)}\n"
                f"    -> {response.text[:300]}"
            )

    # Unsatisfiable: no invalid request exists for this operation (nothing to refuse).
    with contextlib.suppress(Unsatisfiable):
        run()


# -- the benchmark: ≥10,000 requests per database ---------------------------------------------
def run_backend(backend: str, model_path: Path, examples: int) -> FuzzReport:
    home = Path(tempfile.mkdtemp(prefix=f"fuzz-{backend}-"))
    db_name = url = None
    if backend == "postgresql":
        db_name, url = create_pg_database()
    svc = Service(home, service_env(home, model_path, url))
    try:
        made = svc.cli("create-user", "fuzzsup", "--role", "supervisor", "--password", "fuzz-pw-1")
        assert made.returncode == 0, made.stderr
        svc.start()
        token = svc.login("fuzzsup", "fuzz-pw-1")
        total = FuzzReport()
        for label, login in (("without a login", None), ("as a supervisor", token)):
            part = fuzz(svc.url, login, examples=examples)
            print(f"  {backend}, {label}: {part.summary()}", flush=True)
            total.add(part)
        return total
    finally:
        svc.stop()
        if db_name:
            drop_pg_database(db_name)


def run(model_path: Path, backends: list[str], examples: int = 70) -> bool:
    """Prints the counts per database; True when no request got a server error."""
    print(f"fuzz benchmark: {examples} examples per operation and mode, with and without login")
    clean = True
    for backend in backends:
        report = run_backend(backend, model_path, examples)
        print(f"{backend}: {report.summary()}")
        print("  statuses: " + ", ".join(f"{k}×{v}" for k, v in sorted(report.statuses.items())))
        for line in report.server_errors[:20]:
            print("  " + line)
        clean = clean and not report.server_errors
    return clean
