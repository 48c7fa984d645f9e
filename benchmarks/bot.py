"""Bot benchmark: time of a full turn (REST message in, bot reply out, custom actions and case
service calls included), one conversation at a time and with many conversations at once.

Starts the whole stack (case service on SQLite, action server, Rasa) in a scratch folder,
then plays a filing conversation (six turns, one filed case) per simulated resident.

``--rasa 2`` (issue 15): two Rasa processes and two action servers, the case service and the
tracker store on a scratch PostgreSQL database, Rasa's lock store in Redis (DB 5); each turn of
a conversation goes to the other Rasa process than the turn before, so every conversation
moves between processes in the middle of its form."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from classifiers.paths import default_model_path
from hotline.bot_commands import train_bot
from hotline.processes import create_pg_database, drop_pg_database, service_env
from hotline.stack import Stack

CONVERSATION = (
    "你好",
    "我要举报",
    "我们村的低保名额都给了村干部的亲戚，真正困难的人家没评上",
    "李庄村",
    "匿名",
    "{phone}",
    "对",
)


async def converse(client: httpx.AsyncClient, urls: list[str], timings: list[float]) -> int:
    """One resident's whole filing, turn k to ``urls[k % len(urls)]``; returns the number of
    turns that failed."""
    sender = f"bench-{secrets.token_hex(6)}"
    phone = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    errors = 0
    for turn, message in enumerate(CONVERSATION):
        started = time.perf_counter()
        try:
            r = await client.post(
                urls[turn % len(urls)],
                json={"sender": sender, "message": message.format(phone=phone)},
            )
            ok = r.status_code == 200 and bool(r.json())
        except httpx.HTTPError:
            ok = False
        timings.append(time.perf_counter() - started)
        errors += not ok
    return errors


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


async def run_phase(url: str | list[str], conversations: int, concurrent: int) -> dict:
    urls = [url] if isinstance(url, str) else url
    timings: list[float] = []
    limits = httpx.Limits(max_connections=concurrent)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        gate = asyncio.Semaphore(concurrent)

        async def one() -> int:
            async with gate:
                return await converse(client, urls, timings)

        started = time.perf_counter()
        errors = sum(await asyncio.gather(*(one() for _ in range(conversations))))
        elapsed = time.perf_counter() - started
    return {
        "conversations": conversations,
        "concurrent": concurrent,
        "turns": len(timings),
        "errors": errors,
        "p50_ms": round(pct(timings, 50), 1),
        "p95_ms": round(pct(timings, 95), 1),
        "max_ms": round(max(timings) * 1000, 1),
        "turns_per_s": round(len(timings) / elapsed, 1),
    }


def run_bot_bench(sequential: int = 30, concurrent: int = 50, rasa: int = 1) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix="hotline-bench-bot-"))
    db_name = database_url = None
    if rasa > 1:
        db_name, database_url = create_pg_database("mh_bench_bot_")
    stack = Stack(
        home,
        service_env(home, default_model_path(), database_url),
        train_bot(),
        rasa_processes=rasa,
        redis_url="redis://127.0.0.1:6379/5",
    )
    try:
        stack.start()
    except Exception:
        if db_name:
            drop_pg_database(db_name)
        raise
    url = [f"{u}/webhooks/hotline_web/webhook" for u in stack.rasa_urls]
    print(f"bot benchmark: {rasa} Rasa process(es); each conversation alternates between them")
    try:
        asyncio.run(run_phase(url, 3, 1))  # warm-up: model loads, first connections
        results = [
            asyncio.run(run_phase(url, sequential, 1)),
            asyncio.run(run_phase(url, concurrent, concurrent)),
        ]
    finally:
        stack.stop()
        if db_name:
            drop_pg_database(db_name)
    for result in results:
        print(
            f"bot turns, {result['concurrent']:>2} at once: {result['turns']} turns in "
            f"{result['conversations']} conversations, p50 {result['p50_ms']} ms, "
            f"p95 {result['p95_ms']} ms, max {result['max_ms']} ms, "
            f"{result['turns_per_s']} turns/s, errors {result['errors']}"
        )
    return results
