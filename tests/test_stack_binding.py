"""Every process of the stack listens on the loopback address unless told otherwise: the action
server's own default (rasa_sdk) is every interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline import rasa_env
from hotline.processes import free_port
from hotline.stack import action_server


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a listening TCP socket on ``port`` (from /proc/net/tcp)."""
    found = set()
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not rasa_env.RASA_PYTHON.exists(), reason="needs .venv-rasa (make rasa-setup)")
def test_the_action_server_listens_on_loopback_only(tmp_path):
    port = free_port()
    process = action_server(tmp_path, "http://127.0.0.1:9", port).start()
    try:
        process.wait_ready(timeout=120)
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
    finally:
        process.stop()
