"""Case-service benchmark: complaint intake and resident status lookups per second, with p95
latency, against the real service (`hotline serve`, one process per core) on SQLite and on
PostgreSQL. Target (issue 3): at least 200 intakes/s and 1,000 lookups/s on PostgreSQL on this
machine.

Load comes from wrk (Debian package `wrk`, installed by `make bench`): a Python client on the
same two cores would use more CPU than the service and measure itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from classifiers.corpus import CORPUS_DIR
from hotline.processes import Service, create_pg_database, drop_pg_database, service_env

_REPORT = """
done = function(summary, latency, requests)
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p95_ms": %.2f, "errors": %d, "status_errors": %d,'
    .. ' "timeouts": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(95) / 1000, errors,
    summary.errors.status, summary.errors.timeout))
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid Lua string here


def _intake_script(texts: list[str]) -> str:
    bodies = ",\n".join(_lua_string(json.dumps(t, ensure_ascii=False)) for t in texts)
    return (
        f"""
local texts = {{{bodies}}}
local n = 0
local id = math.random(1, 9999)
request = function()
  n = n + 1
  local body = '{{"text": ' .. texts[(n % #texts) + 1] .. ', "channel": "sms", "phone": "13' ..
    string.format("%04d%05d", id, n % 100000) .. '"}}'
  return wrk.format("POST", "/api/v1/complaints", {{["Content-Type"] = "application/json"}}, body)
end
"""
        + _REPORT
    )


def _lookup_script(pairs: list[tuple[str, str]]) -> str:
    bodies = ",\n".join(
        _lua_string(json.dumps({"number": number, "phone": phone})) for number, phone in pairs
    )
    return (
        f"""
local bodies = {{{bodies}}}
local n = 0
request = function()
  n = n + 1
  return wrk.format("POST", "/api/v1/status", {{["Content-Type"] = "application/json"}},
    bodies[(n % #bodies) + 1])
end
"""
        + _REPORT
    )


def _wrk(url: str, script: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as f:
        f.write(script)
    out = subprocess.run(
        # The bot's action server waits 5 s for the case service: a slower answer is an error
        # to a resident (wrk's own default, 2 s, counted slow answers as failures).
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", f.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    report["per_s"] = report["requests"] / report["seconds"]
    return report


def _drain(database_url: str, limit_s: float = 300) -> float:
    """Seconds until no case waits for classification or clustering."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    started = time.monotonic()
    query = text(
        "SELECT count(*) FROM cases WHERE triage_status = 'pending' OR cluster_status = 'pending'"
    )
    try:
        while time.monotonic() - started < limit_s:
            with engine.connect() as conn:
                if not conn.execute(query).scalar():
                    break
            time.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - started


def _count_cases(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM cases")).scalar() or 0)
    finally:
        engine.dispose()


def _texts() -> list[str]:
    texts = []
    for path in sorted((CORPUS_DIR / "test").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts += [json.loads(line)["text"] for line in lines if line.strip()]
    return texts


def _file_some(url: str, texts: list[str], n: int) -> list[tuple[str, str]]:
    def one(i: int) -> tuple[str, str]:
        phone = f"137{i:08d}"
        reply = httpx.post(
            url + "/api/v1/complaints",
            json={"text": texts[i % len(texts)], "phone": phone},
            timeout=30,
        )
        reply.raise_for_status()
        return reply.json()["number"], phone

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(one, range(n)))


def run_backend(backend: str, model_path: Path, seconds: int, connections: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-{backend}-"))
    db_name = url = None
    if backend == "postgresql":
        db_name, url = create_pg_database()
    svc = Service(home, service_env(home, model_path, url)).start()
    try:
        texts = _texts()
        database = url or f"sqlite:///{home / 'hotline.db'}"
        pairs = _file_some(svc.url, texts, 300)  # also warms every worker process up
        _drain(database)
        before = _count_cases(database)
        intake = _wrk(svc.url, _intake_script(texts[:200]), seconds, connections)
        # Classification and clustering follow intake in the background: how long until the
        # burst is fully classified and clustered, then measure lookups on a quiet service.
        lag = _drain(database)
        # Every answered filing is stored (a timed-out one may be too: the resident's retry
        # then finds it by its key).
        stored = _count_cases(database) - before
        lookup = _wrk(svc.url, _lookup_script(pairs), seconds, connections)
    finally:
        svc.stop()
        if db_name:
            drop_pg_database(db_name)
        shutil.rmtree(home, ignore_errors=True)
    result = {
        "backend": backend,
        "intake_per_s": round(intake["per_s"], 1),
        "intake_p95_ms": round(intake["p95_ms"], 1),
        "intake_errors": intake["errors"],
        "intake_status_errors": intake["status_errors"],
        "intake_timeouts": intake["timeouts"],
        "intake_answered": intake["requests"] - intake["status_errors"],
        "intake_stored": stored,
        "lookup_per_s": round(lookup["per_s"], 1),
        "lookup_p95_ms": round(lookup["p95_ms"], 1),
        "lookup_errors": lookup["errors"],
        "background_drain_s": round(lag, 1),
    }
    print(
        f"{backend:<11} intake {result['intake_per_s']:>7}/s p95 {result['intake_p95_ms']:>6} ms"
        f" errors {intake['errors']} (status {intake['status_errors']}, over 5 s"
        f" {intake['timeouts']}), stored {stored}: {result['intake_answered']} answered"
        f" + {stored - result['intake_answered']} in flight at the end (at most {connections})"
        f"{'  LOST FILINGS' if stored < result['intake_answered'] else ''}"
        f"   lookup {result['lookup_per_s']:>7}/s"
        f" p95 {result['lookup_p95_ms']:>6} ms errors {lookup['errors']}"
        f"   classified+clustered {intake['requests']} in {lag:.1f} s after the burst"
    )
    return result


def run(model_path: Path, backends: list[str], seconds: int = 15, connections: int = 16):
    if shutil.which("wrk") is None:
        raise SystemExit("hotline: the service benchmark needs wrk (make bench installs it)")
    print(f"case service benchmark: wrk, {connections} connections, {seconds} s per phase")
    return [run_backend(b, model_path, seconds, connections) for b in backends]


# -- two hosts on one PostgreSQL (issue 15) -------------------------------------------------------
def _wrk_both(urls: list[str], script: str, seconds: int, connections: int) -> dict:
    """wrk against every host at once (a load balancer's share each): summed rate, worst p95."""
    with ThreadPoolExecutor(len(urls)) as pool:
        reports = list(pool.map(lambda u: _wrk(u, script, seconds, connections // len(urls)), urls))
    return {
        "per_s": sum(r["per_s"] for r in reports),
        "p95_ms": max(r["p95_ms"] for r in reports),
        "errors": sum(r["errors"] for r in reports),
        "requests": sum(r["requests"] for r in reports),
    }


def _events_by_input(database_url: str, numbers: list[str]) -> list[str | None]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            rows = dict(
                conn.execute(
                    text("SELECT number, event_id FROM cases WHERE number = ANY(:n)"),
                    {"n": numbers},
                ).all()
            )
    finally:
        engine.dispose()
    return [rows.get(n) for n in numbers]


def pair_f1(a: list[str | None], b: list[str | None]) -> float:
    """Agreement of two groupings of the same inputs: F1 of the pairs put together."""

    def pairs(events: list[str | None]) -> set[tuple[int, int]]:
        groups: dict[str, list[int]] = {}
        for i, event in enumerate(events):
            if event is not None:
                groups.setdefault(event, []).append(i)
        return {(x, y) for members in groups.values() for x in members for y in members if x < y}

    pa, pb = pairs(a), pairs(b)
    if not pa and not pb:
        return 1.0
    both = len(pa & pb)
    precision = both / len(pb) if pb else 0.0
    recall = both / len(pa) if pa else 0.0
    return 0.0 if both == 0 else 2 * precision * recall / (precision + recall)


def _file_in_order(urls: list[str], texts: list[str], n: int) -> list[str]:
    """The same n complaints in the same order, alternately to each host (one at a time, so
    both runs add them to the clusterer in the same order)."""
    numbers = []
    with httpx.Client(timeout=30) as client:
        for i in range(n):
            reply = client.post(
                urls[i % len(urls)] + "/api/v1/complaints",
                json={"text": texts[(i * 7) % len(texts)], "phone": f"136{i % 97:08d}"},
            )
            reply.raise_for_status()
            numbers.append(reply.json()["number"])
    return numbers


def run_hosts(model_path: Path, hosts: int, seconds: int, connections: int) -> dict:
    """``hosts`` complete case services (own var/, own port, default workers) on one
    PostgreSQL database: the same events as one host, and intake/lookups under load."""
    homes, services, db_name = [], [], None
    db_name, url = create_pg_database("hotline_bench_hosts_")
    try:
        for _ in range(hosts):
            home = Path(tempfile.mkdtemp(prefix="bench-host-"))
            env = service_env(home, model_path, url)
            env.pop("HOTLINE_SECRET")  # the deployment's key, from the database
            homes.append(home)
            services.append(Service(home, env).start())
        urls = [s.url for s in services]
        texts = _texts()
        numbers = _file_in_order(urls, texts, 300)
        _drain(url)
        events = _events_by_input(url, numbers)
        pairs = _file_some(urls[0], texts, 300)
        _drain(url)
        intake = _wrk_both(urls, _intake_script(texts[:200]), seconds, connections)
        lag = _drain(url)
        lookup = _wrk_both(urls, _lookup_script(pairs), seconds, connections)
    finally:
        for svc in services:
            svc.stop()
        drop_pg_database(db_name)
        for home in homes:
            shutil.rmtree(home, ignore_errors=True)
    result = {
        "hosts": hosts,
        "events": events,
        "intake_per_s": round(intake["per_s"], 1),
        "intake_p95_ms": round(intake["p95_ms"], 1),
        "intake_errors": intake["errors"],
        "lookup_per_s": round(lookup["per_s"], 1),
        "lookup_p95_ms": round(lookup["p95_ms"], 1),
        "lookup_errors": lookup["errors"],
        "background_drain_s": round(lag, 1),
    }
    print(
        f"{hosts} host(s)  intake {result['intake_per_s']:>7}/s p95 {result['intake_p95_ms']:>6}"
        f" ms errors {intake['errors']}   lookup {result['lookup_per_s']:>7}/s"
        f" p95 {result['lookup_p95_ms']:>6} ms errors {lookup['errors']}"
        f"   classified+clustered {intake['requests']} in {lag:.1f} s after the burst"
    )
    return result


def run_multihost(model_path: Path, seconds: int = 15, connections: int = 16) -> list[dict]:
    """One host, then two, on PostgreSQL: throughput of each, and the pair F1 between the
    events the two deployments made of the same 300 complaints filed in the same order."""
    if shutil.which("wrk") is None:
        raise SystemExit("hotline: the service benchmark needs wrk (make bench installs it)")
    print(f"case service on PostgreSQL, 1 and 2 hosts: wrk, {connections} connections in all")
    one = run_hosts(model_path, 1, seconds, connections)
    two = run_hosts(model_path, 2, seconds, connections)
    f1 = pair_f1(one["events"], two["events"])
    print(f"same 300 complaints, one host vs two (filed alternately): events pair F1 {f1:.3f}")
    return [one, two]
