"""Phone benchmark: time from a signed Twilio voice webhook to the TwiML reply, with the whole
stack running (case service, action server, Rasa). A caller hears every delay, so the target is
p95 under 1 s (Twilio itself gives up after 15 s).

Each simulated call: the first webhook, a spoken complaint, the village, a key for anonymity, a
key to confirm (which files the case), and a goodbye."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from classifiers.paths import default_model_path
from hotline.bot_commands import train_bot
from hotline.processes import service_env
from hotline.stack import Stack

STEPS = (
    {},
    {"SpeechResult": "我要反映村里的低保问题 村主任把名额给了他家亲戚"},
    {"SpeechResult": "李庄村"},
    {"Digits": "1"},
    {"Digits": "1"},
    {"SpeechResult": "没有了 再见"},
)


async def one_call(client: httpx.AsyncClient, base: str, token: str, timings: list[float]) -> int:
    import xml.etree.ElementTree as ET

    validator = RequestValidator(token)
    call_sid = "CA" + secrets.token_hex(16)
    caller = "+86139" + "".join(secrets.choice("0123456789") for _ in range(8))
    path, errors = "/webhooks/hotline_voice/webhook", 0
    for step in STEPS:
        form = {"CallSid": call_sid, "From": caller, "CallStatus": "in-progress", **step}
        url = base + path
        headers = {"X-Twilio-Signature": validator.compute_signature(url, form)}
        started = time.perf_counter()
        r = await client.post(url, data=form, headers=headers)
        timings.append(time.perf_counter() - started)
        if r.status_code != 200:
            errors += 1
            break
        root = ET.fromstring(r.text)
        action = next((e.get("action") for e in root.iter() if e.tag == "Gather"), None)
        if action is None:
            break
        path = action
    return errors


async def run_phase(base: str, token: str, calls: int, concurrent: int) -> dict:
    timings: list[float] = []
    gate = asyncio.Semaphore(concurrent)
    async with httpx.AsyncClient(timeout=30) as client:

        async def guarded() -> int:
            async with gate:
                return await one_call(client, base, token, timings)

        errors = sum(await asyncio.gather(*(guarded() for _ in range(calls))))
    cut = statistics.quantiles(timings, n=100)
    return {
        "calls": calls,
        "concurrent": concurrent,
        "webhooks": len(timings),
        "errors": errors,
        "p50_ms": round(cut[49] * 1000, 1),
        "p95_ms": round(cut[94] * 1000, 1),
        "max_ms": round(max(timings) * 1000, 1),
    }


def run_phone_bench(calls: int = 20, concurrent: int = 10) -> list[dict]:
    home = Path(tempfile.mkdtemp(prefix="hotline-bench-phone-"))
    token = secrets.token_hex(16)
    stack = Stack(
        home,
        service_env(home, default_model_path(), None),
        train_bot(),
        rasa_extra_env={"TWILIO_AUTH_TOKEN": token},
    ).start()
    try:
        asyncio.run(run_phase(stack.rasa_url, token, 2, 1))  # warm-up
        results = [
            asyncio.run(run_phase(stack.rasa_url, token, calls, 1)),
            asyncio.run(run_phase(stack.rasa_url, token, calls, concurrent)),
        ]
    finally:
        stack.stop()
    for r in results:
        print(
            f"voice webhook → TwiML, {r['concurrent']:>2} calls at once: {r['webhooks']} webhooks "
            f"in {r['calls']} calls, p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
            f"max {r['max_ms']} ms, errors {r['errors']}"
        )
    return results
