"""The case service as the bot's actions see it: a few HTTP calls with short timeouts.

Filing carries an idempotency key, so a retried request (a timeout, the resident saying 对 twice)
never creates a second case."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import httpx

API_URL = os.environ.get("HOTLINE_API_URL", "http://127.0.0.1:8000")
_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
_client: httpx.AsyncClient | None = None


class ServiceUnavailable(RuntimeError):
    """The case service did not answer (down, overloaded, or a 5xx)."""


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def _http() -> httpx.AsyncClient:
    global _client
    if _client is None:
        _client = httpx.AsyncClient(base_url=API_URL, timeout=_TIMEOUT)
    return _client


async def _post(path: str, payload: dict, attempts: int = 3, **kwargs: Any) -> Reply:
    for attempt in range(attempts):
        try:
            response = await _http().post(path, json=payload, **kwargs)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code < 500:
            try:
                body = response.json()
            except ValueError:
                body = {}
            return Reply(response.status_code, body)
        if attempt + 1 < attempts:
            await asyncio.sleep(0.2 * (attempt + 1))
    raise ServiceUnavailable(path)


async def classify(text: str) -> dict[str, Any]:
    reply = await _post("/api/v1/classify", {"text": text[:4000]})
    if reply.status != 200:
        raise ServiceUnavailable(f"classify answered {reply.status}")
    return reply.body


async def understand(text: str, answers_place: bool = False, classify: bool = True) -> dict:
    """The item, place (from the county's gazetteer), name and phone a message gives."""
    reply = await _post(
        "/api/v1/understand",
        {"text": text[:4000], "answers_place": answers_place, "classify": classify},
    )
    if reply.status != 200:
        raise ServiceUnavailable(f"understand answered {reply.status}")
    return reply.body


async def file_complaint(payload: dict[str, Any]) -> Reply:
    return await _post("/api/v1/complaints", payload, params={"classify": "now"})


def _as_client(client: str | None) -> dict[str, dict[str, str]]:
    """Name the resident to the case service, so its limits on failed lookups apply to each
    resident and not to the action server as a whole (only with the internal token)."""
    token = os.environ.get("HOTLINE_INTERNAL_TOKEN")
    if not token or not client:
        return {}
    return {"headers": {"X-Hotline-Internal": token, "X-Hotline-Client": client[:100]}}


async def case_status(number: str, phone: str, client: str | None = None) -> Reply:
    return await _post("/api/v1/status", {"number": number, "phone": phone}, **_as_client(client))


async def amend_filing(number: str, payload: dict[str, Any], client: str | None) -> Reply:
    return await _post(f"/api/v1/cases/{number}/amend", payload, **_as_client(client))


async def request_person(payload: dict[str, Any], client: str | None = None) -> Reply:
    return await _post("/api/v1/handoffs", payload, **_as_client(client))


async def rate_case(number: str, phone: str, rating: str, client: str | None = None) -> Reply:
    payload = {"number": number, "phone": phone, "rating": rating}
    return await _post("/api/v1/rating", payload, **_as_client(client))
