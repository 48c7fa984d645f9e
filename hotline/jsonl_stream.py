"""Line-oriented JSON streaming for the command-line jobs.

Lines are read straight from the file descriptor so whatever has arrived is processed as one
batch: a pipe of a million lines runs in large batches, and a client that writes one line and
waits for the answer gets it at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import IO, Any

Record = dict[str, Any]


def read_batches(stream: IO[bytes], chunk_size: int = 1 << 16) -> Iterator[list[bytes]]:
    """Yield the complete lines available after each read; a last unterminated line too."""
    fd = stream.fileno()
    pending = b""
    while True:
        chunk = os.read(fd, chunk_size)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if lines:
            yield lines
    if pending.strip():
        yield [pending]


def parse_line(raw: bytes) -> tuple[Any, Record | None, str | None]:
    """(id, record, error): decode one input line, or say in Chinese why it cannot be used."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, None, "输入不是有效的UTF-8文本"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, None, f"输入不是有效的JSON：{exc.msg}（第{exc.colno}列）"
    if not isinstance(record, dict):
        return None, None, '每行应是一个JSON对象，例如 {"id": 1, "text": "…"}'
    ident = record.get("id")
    text_value = record.get("text")
    if text_value is None:
        return ident, None, "缺少text字段"
    if not isinstance(text_value, str):
        return ident, None, "text字段应为字符串"
    if not text_value.strip():
        return ident, None, "text为空"
    return ident, record, None


def run_jsonl(
    stream_in: IO[bytes],
    stream_out: IO[str],
    handle_batch: Callable[[list[Record]], list[Record]],
) -> tuple[int, int]:
    """Parse each batch of lines, hand the good records to ``handle_batch`` (one output record per
    input record, in order), and write one output line per input line. Returns (ok, errors)."""
    ok = errors = 0
    for lines in read_batches(stream_in):
        lines = [line.rstrip(b"\r") for line in lines if line.strip()]
        parsed = [parse_line(line) for line in lines]
        good = [record for _, record, error in parsed if error is None]
        results = iter(handle_batch(good) if good else [])
        for ident, _record, error in parsed:
            out = {"id": ident, "error": error} if error else next(results)
            if "error" in out:
                errors += 1
            else:
                ok += 1
            stream_out.write(json.dumps(out, ensure_ascii=False) + "\n")
        stream_out.flush()
    return ok, errors
