"""Play conversation scenarios against the real stack and print task success per persona.

    python -m tests.conversations.run [--split dev|heldout|all|selftest] [--persona P]
        [--stack RASA_URL,API_URL --rasa-token T --home DIR] [--channel web] [--jobs N]

Without --stack it starts its own stack (case service, action server, Rasa) in a scratch
folder. With --stack (e.g. `hotline up` started with HOTLINE_RASA_TOKEN set), --rasa-token is
that token (for the tracker API) and --home its state folder (initial-admin.txt; default
$HOTLINE_VAR or var/). Scenarios file real cases and close them afterwards (--no-cleanup keeps
them open), so point it at a scratch stack, never at a live one.

Held-out failures are listed by id and persona only: nobody tunes on them. The exit code is 0
whatever the success rate (tests/test_conversation_scenarios.py holds the thresholds); 2 when
the scenario files are invalid or the stack cannot be reached.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conversations.simulator import (
    CHANNELS,
    Scenario,
    ScenarioError,
    ScenarioResult,
    Simulator,
    StackEndpoints,
    Summary,
    load_scenarios,
    summarize,
)

HERE = Path(__file__).resolve().parent
SPLITS = {
    "dev": ("dev",),
    "heldout": ("heldout",),
    "all": ("dev", "heldout"),
    "selftest": ("selftest",),
}
BLIND_SPLITS = frozenset({"heldout"})  # failures shown without transcript or checks


def load_split(
    split: str, persona: str | None = None, ids: str | None = None
) -> list[tuple[str, Scenario]]:
    """(folder, scenario) pairs of a split, optionally one persona only, or only the ids that
    start with a prefix (one new batch)."""
    pairs = []
    for folder in SPLITS[split]:
        for scenario in load_scenarios(HERE / folder, prefix=folder):
            if persona is not None and scenario.persona != persona:
                continue
            if ids is not None and not scenario.id.startswith(ids):
                continue
            pairs.append((folder, scenario))
    return pairs


def failure_line(folder: str, result: ScenarioResult) -> str:
    """What is printed for a failure: the full story on dev, id and persona on held-out."""
    if folder in BLIND_SPLITS:
        # No checks, no transcript, no error text (it may quote the scenario).
        return f"FAIL {result.id} ({result.persona})" + (" [harness error]" if result.error else "")
    return result.report()


def table(summary: Summary, title: str) -> str:
    lines = [f"{title}: {summary.passed}/{summary.total} scenarios passed"]
    lines.append(f"  {'persona':<16} {'success':>8} {'passed':>7}")
    for persona, (ok, n) in summary.per_persona.items():
        lines.append(f"  {persona:<16} {ok / n:>8.0%} {f'{ok}/{n}':>7}")
    lines.append(f"  {'overall':<16} {summary.rate:>8.0%} {f'{summary.passed}/{summary.total}':>7}")
    median = summary.median_filing_turns
    filings = len(summary.filing_turns)
    shown = "–" if median is None else f"{median:g}"
    lines.append(f"  median resident turns per filing: {shown} (over {filings} filed cases)")
    lines.append(f"  scenarios: {summary.total}")
    return "\n".join(lines)


def play_split(
    simulator: Simulator,
    pairs: list[tuple[str, Scenario]],
    jobs: int,
    out: Callable[[str], None] = print,
    verbose: bool = False,
) -> dict[str, list[ScenarioResult]]:
    """Play every scenario, print each failure as it comes and a table per folder; returns the
    results by folder (dev, heldout)."""
    folder_of = {s.id: folder for folder, s in pairs}

    def on_result(result: ScenarioResult) -> None:
        folder = folder_of[result.id]
        if not result.passed:
            out(failure_line(folder, result))
        elif verbose and folder not in BLIND_SPLITS:
            out(result.report().replace("FAIL", "PASS", 1))

    results = simulator.play_all([s for _, s in pairs], jobs=jobs, on_result=on_result)
    by_folder: dict[str, list[ScenarioResult]] = {}
    for result in results:
        folder = folder_of[result.id]
        blind = folder in BLIND_SPLITS
        by_folder.setdefault(folder, []).append(result.blinded() if blind else result)
    for folder, folder_results in by_folder.items():
        out(table(summarize(folder_results), folder))
    return by_folder


@contextmanager
def own_stack() -> Iterator[StackEndpoints]:
    """A fresh stack in a scratch folder, as `hotline bot test` starts it; stopped after."""
    from classifiers.paths import PROJECT_ROOT, default_model_path
    from hotline.bot_commands import train_bot
    from hotline.processes import service_env
    from hotline.stack import Stack

    triage = default_model_path()
    if not triage.exists():
        sys.exit("no triage model; run `hotline train` first")
    home = Path(tempfile.mkdtemp(prefix="hotline-conversations-"))
    env = service_env(home, triage, None)
    # The service imports the project's top-level packages from the checkout.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    stack = Stack(home, env, train_bot()).start()
    try:
        yield StackEndpoints(
            rasa_url=stack.rasa_url,
            api_url=stack.api_url or "",
            rasa_token=stack.token,
            admin_password=StackEndpoints.read_admin_password(home),
        )
    finally:
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


def running_stack(
    rasa_url: str, api_url: str, token: str | None, home: Path | None, password: str | None
) -> StackEndpoints:
    """A stack somebody else started (`hotline up`): its URLs, Rasa token and admin password."""
    if password is None:
        home = home or Path(os.environ.get("HOTLINE_VAR") or "var")
        password = StackEndpoints.read_admin_password(home)
    return StackEndpoints(
        rasa_url=rasa_url.rstrip("/"),
        api_url=api_url.rstrip("/"),
        rasa_token=token,
        admin_password=password,
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options shared with `hotline bot test --conversations`."""
    p.add_argument("--split", choices=sorted(SPLITS), default="dev")
    p.add_argument("--persona", default=None, help="only this persona's scenarios")
    p.add_argument("--ids", default=None, help="only scenarios whose id starts with this")
    p.add_argument(
        "--channel",
        default="web",
        choices=["web", "sms", "voice"],
        help="web (the hotline_web channel), sms or voice (signed Twilio webhooks)",
    )
    p.add_argument("--jobs", type=int, default=4, help="conversations played at once")
    p.add_argument("--rasa-token", default=os.environ.get("HOTLINE_RASA_TOKEN"))
    p.add_argument("--home", type=Path, default=None, help="the stack's state folder")
    p.add_argument("--admin-password", default=os.environ.get("HOTLINE_ADMIN_PASSWORD"))
    p.add_argument("--no-cleanup", action="store_true", help="leave played cases open")
    p.add_argument("--verbose", action="store_true", help="transcripts of passed dev scenarios too")


def run(args: argparse.Namespace, stack: StackEndpoints | None) -> int:
    """Load, play, print. Only invalid scenario files or an unreachable stack give 2."""
    try:
        pairs = load_split(args.split, args.persona, getattr(args, "ids", None))
    except ScenarioError as exc:
        print(f"invalid scenario: {exc}", file=sys.stderr)
        return 2
    if not pairs:
        print(
            f"no scenarios in split {args.split}" + (f" for {args.persona}" if args.persona else "")
        )
        return 0

    def play(endpoints: StackEndpoints) -> None:
        simulator = Simulator(endpoints, args.channel, cleanup=not args.no_cleanup)
        simulator.preflight()
        play_split(simulator, pairs, args.jobs, verbose=getattr(args, "verbose", False))

    if args.channel in ("sms", "voice"):
        import tests.conversations.phone_channels  # noqa: F401  (registers them)
    if args.channel not in CHANNELS:
        print(
            f"channel {args.channel!r} is not available yet (have: {sorted(CHANNELS)})",
            file=sys.stderr,
        )
        return 2
    try:
        if stack is not None:
            play(stack)
        else:
            with own_stack() as endpoints:
                play(endpoints)
    except (OSError, RuntimeError) as exc:
        print(f"stack: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m tests.conversations.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p)
    p.add_argument(
        "--stack",
        default=None,
        metavar="RASA_URL,API_URL",
        help="use a running stack instead of starting one",
    )
    args = p.parse_args(argv)
    stack = None
    if args.stack:
        try:
            rasa_url, api_url = (u.strip() for u in args.stack.split(","))
            stack = running_stack(
                rasa_url, api_url, args.rasa_token, args.home, args.admin_password
            )
        except (ValueError, OSError, RuntimeError) as exc:
            print(f"--stack: {exc}", file=sys.stderr)
            return 2
    return run(args, stack)


if __name__ == "__main__":
    sys.exit(main())
