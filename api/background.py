"""A background loop that one process per machine runs: the triage worker and the SMS sender.

With several service processes on one machine, a lock file elects the process that runs the
loop (another takes over when it dies, since the kernel drops the lock with the process); across
machines, each job's own per-row claims keep two loops off the same work."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)


class ElectedLoop:
    """Runs ``run_pass`` whenever there may be work: at once after ``wake()``, else every
    ``poll_seconds``. Subclasses give the pass and, optionally, what to do on election."""

    name = "background-loop"
    stop_timeout = 20.0

    def __init__(self, poll_seconds: float, lock_path: Path | None = None) -> None:
        self.poll_seconds = poll_seconds
        self.lock_path = lock_path
        self._lock_file: IO[str] | None = None
        self._elected = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def run_pass(self) -> int:
        """Do what is due; return how much was done (0 sleeps until the next poll)."""
        raise NotImplementedError

    def on_elected(self) -> None:
        """Called once, when this process becomes the one that runs the loop."""

    def on_stop(self) -> None:
        """Called on shutdown in the elected process, before the lock is released."""

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """New work: skip the rest of the poll interval (only helps in the elected process;
        the others' work is found at the next poll)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.stop_timeout)
        if self._elected:
            self.on_stop()
        if self._lock_file is not None:
            self._lock_file.close()  # releases the lock for another process

    @property
    def elected(self) -> bool:
        return self._elected

    def _try_election(self) -> bool:
        if self._elected:
            return True
        if self.lock_path is not None:
            import fcntl

            handle = open(self.lock_path, "a")  # noqa: SIM115 - held for the process's life
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                return False
            self._lock_file = handle
        self._elected = True
        self.on_elected()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            done = 0
            try:
                if self._try_election():
                    done = self.run_pass()
            except Exception:
                log.exception("%s pass failed", self.name)
            if not done:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
