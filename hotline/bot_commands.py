"""`hotline bot …` and `hotline up`: train, validate, test and run the Rasa bot, and run the
whole hotline (case service, action server, Rasa) as one command."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from classifiers.paths import PROJECT_ROOT, var_dir
from hotline import rasa_env
from hotline.phone_commands import prepare_line
from hotline.stack import Stack


def _require_rasa() -> None:
    if not rasa_env.RASA.exists():
        sys.exit("hotline: Rasa environment missing; run `make rasa-setup` first")


def _rasa(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    _require_rasa()
    return subprocess.run(
        [str(rasa_env.RASA), *args], cwd=PROJECT_ROOT, env=rasa_env.rasa_env(), check=check
    )


def _bot_inputs() -> list[str]:
    """The config, domain and training data, as `rasa train` and `rasa data validate` take them."""
    return [
        "--config",
        str(rasa_env.CONFIG),
        "--domain",
        str(rasa_env.DOMAIN),
        "--data",
        str(rasa_env.STORIES_AND_RULES),
        str(rasa_env.NLU_TRAIN),
    ]


def train_bot(force: bool = False) -> Path:
    """Train unless a model for exactly these inputs exists (`rasa train` takes minutes)."""
    digest = rasa_env.inputs_hash()
    target = rasa_env.model_path(digest)
    if target.exists() and not force:
        print(f"bot model up to date: {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _rasa(
        "train",
        *_bot_inputs(),
        "--out",
        str(target.parent),
        "--fixed-model-name",
        target.name.removesuffix(".tar.gz"),
    )
    for old in target.parent.glob("bot-*.tar.gz"):
        if old != target:
            old.unlink()
    print(f"trained bot model in {time.perf_counter() - started:.0f} s: {target}")
    return target


def cmd_train(args: argparse.Namespace) -> int:
    train_bot(force=args.force)
    return 0


_UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
_RESPONSE_IN_CODE = re.compile(r"[\"'](utter_\w+)[\"']")
# Names of the utter_ form that are no response: Rasa's key for the response a bot event said.
_NOT_RESPONSES = frozenset({"utter_action"})


def responses_said_by_actions() -> set[str]:
    """The responses the custom actions say by name (every message is answered by one action,
    so Rasa's validator cannot see them in stories)."""
    names: set[str] = set()
    for path in (PROJECT_ROOT / "actions").glob("*.py"):
        names |= set(_RESPONSE_IN_CODE.findall(path.read_text(encoding="utf-8")))
    return names - _NOT_RESPONSES


def response_problems(validator_output: str, domain_responses: set[str]) -> list[str]:
    """Rasa's warnings that matter: any warning, except 'not used in any story' for a response
    the actions do say; plus responses the actions name that the domain lacks, and responses
    nothing says at all."""
    said = responses_said_by_actions()
    problems = [
        f"actions say {name}, which bot/domain.yml lacks" for name in said - domain_responses
    ]
    for line in validator_output.splitlines():
        if "UserWarning" not in line:
            continue
        unused = _UNUSED_RESPONSE.search(line)
        if unused and unused.group(1) in said:
            continue
        problems.append(line.strip())
    return problems


def cmd_validate(args: argparse.Namespace) -> int:
    """`rasa data validate` on the domain, rules, stories and intent data: every warning fails,
    except a response "not used in any story" that the actions say; and every response the
    actions say must be in the domain."""
    import yaml

    _require_rasa()
    result = subprocess.run(
        [str(rasa_env.RASA), "data", "validate", *_bot_inputs()],
        cwd=PROJECT_ROOT,
        env=rasa_env.rasa_env(),
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    domain = yaml.safe_load(rasa_env.DOMAIN.read_text(encoding="utf-8"))
    problems = response_problems(output, set(domain.get("responses") or {}))
    for problem in problems:
        print(problem)
    if result.returncode != 0:
        print(output[-3000:])
    print("bot data valid" if not problems and result.returncode == 0 else "bot data INVALID")
    return 1 if problems or result.returncode != 0 else 0


def load_intent_examples(folder: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs from the Rasa NLU files in a folder."""
    import yaml

    pairs = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for line in block["examples"].splitlines():
                if line.strip().startswith("- "):
                    pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def intent_scores(model: Path, split: Path, out: Path) -> dict:
    """Score the trained model's intents on a held-out split (`rasa test nlu`), overall and on
    the examples that have no near-copy in the training data (short replies such as 好的 or
    再见 are said the same way by everyone, so they appear in both)."""
    from classifiers.corpus import near_duplicate_pairs

    _rasa("test", "nlu", "--model", str(model), "--nlu", str(split), "--out", str(out), "--no-plot")
    report = json.loads((out / "intent_report.json").read_text())
    errors = {e["text"] for e in json.loads((out / "intent_errors.json").read_text())}
    held_out = load_intent_examples(split)
    train = load_intent_examples(rasa_env.NLU_TRAIN)
    texts = [t for t, _ in train] + [t for t, _ in held_out]
    copied = {j - len(train) for i, j, _ in near_duplicate_pairs(texts) if i < len(train) <= j}
    novel = [t for k, (t, _) in enumerate(held_out) if k not in copied]
    return {
        "split": split.name,
        "examples": len(held_out),
        "accuracy": round(report["accuracy"], 4),
        "macro_f1": round(report["macro avg"]["f1-score"], 4),
        "novel_examples": len(novel),
        "novel_accuracy": round(sum(t not in errors for t in novel) / max(len(novel), 1), 4),
        "per_intent_f1": {
            name: round(row["f1-score"], 3)
            for name, row in sorted(report.items())
            if isinstance(row, dict) and "support" in row and "avg" not in name
        },
    }


def cmd_test(args: argparse.Namespace) -> int:
    if args.conversations:
        return conversation_scenarios(args)
    model = train_bot()
    out = rasa_env.rasa_dir() / "results"
    shutil.rmtree(out, ignore_errors=True)
    ok = True
    for split in (rasa_env.NLU_TEST, rasa_env.NLU_BLIND):
        scores = intent_scores(model, split, out / split.name)
        print(json.dumps(scores, ensure_ascii=False, indent=2))
        ok = ok and scores["accuracy"] >= args.min_accuracy
    if not args.nlu_only:
        ok = conversation_tests(model, out) and ok
    return 0 if ok else 1


def conversation_scenarios(args: argparse.Namespace) -> int:
    """`hotline bot test --conversations`: simulated residents (tests/conversations) against
    a stack started here, or a running one (--rasa-url/--api-url); prints success per persona."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))  # tests/ is not an installed package
    from tests.conversations import run

    stack = None
    if args.rasa_url or args.api_url:
        if not (args.rasa_url and args.api_url):
            sys.exit("hotline: --rasa-url and --api-url go together")
        try:
            stack = run.running_stack(
                args.rasa_url, args.api_url, args.rasa_token, args.home, args.admin_password
            )
        except RuntimeError as exc:
            sys.exit(f"hotline: {exc}")
    else:
        _require_rasa()
    return run.run(args, stack)


def conversation_tests(model: Path, out: Path) -> bool:
    """`rasa test core` on bot/tests with the real action server and case service running."""
    from hotline.processes import service_env

    home = Path(tempfile.mkdtemp(prefix="hotline-bot-test-"))
    stack = Stack(home, service_env(home, _triage_model(), None), model).start()
    try:
        result = run_story_tests(model, home / "endpoints.yml", out / "core")
    finally:
        stack.stop()
    return result.returncode == 0


def run_story_tests(model: Path, endpoints: Path, out: Path) -> subprocess.CompletedProcess:
    """`rasa test core` on bot/tests against a running action server (``endpoints``)."""
    return _rasa(
        "test",
        "core",
        "--model",
        str(model),
        "--stories",
        str(rasa_env.CONVERSATION_TESTS),
        "--endpoints",
        str(endpoints),
        "--out",
        str(out),
        "--fail-on-prediction-errors",
        "--no-plot",
        check=False,
    )


def _triage_model() -> Path:
    from classifiers.paths import default_model_path

    path = default_model_path()
    if not path.exists():
        sys.exit("hotline: no triage model; run `hotline train` first")
    return path


def _run_until_signal(stack: Stack) -> int:
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping:
        dead = stack.first_dead()
        if dead is not None:
            print(f"hotline: {dead.name} stopped; stopping the others", file=sys.stderr)
            stack.stop()
            return 1
        time.sleep(0.5)
    stack.stop()
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Rasa and the action server against an already running case service."""
    model = train_bot()
    line = prepare_line(os.environ)
    home = rasa_env.rasa_dir()
    stack = Stack(
        home,
        dict(os.environ),
        model,
        actions_port=args.actions_port,
        rasa_port=args.port,
        host=args.host,
        token=args.token or os.environ.get("HOTLINE_RASA_TOKEN") or secrets.token_hex(16),
        with_case_service=False,
        api_url=args.api_url,
    ).start()
    print(f"bot: {stack.rasa_url}/webhooks/hotline_web/webhook (case service {args.api_url})")
    print("\n".join(line))
    return _run_until_signal(stack)


def cmd_up(args: argparse.Namespace) -> int:
    """The whole hotline: case service, action server and Rasa, started and stopped together."""
    model = train_bot()
    home = var_dir()
    token = os.environ.get("HOTLINE_RASA_TOKEN") or secrets.token_hex(16)
    line = prepare_line(os.environ)  # before Rasa starts: it reads the local token
    stack = Stack(
        home,
        dict(os.environ),
        model,
        api_port=args.port,
        actions_port=args.actions_port,
        rasa_port=args.rasa_port,
        host=args.host,
        token=token,
    ).start()
    print(f"case service and staff pages: http://{args.host}:{args.port}/")
    print(f"chat (hotline_web): http://{args.host}:{args.rasa_port}/webhooks/hotline_web/webhook")
    print("\n".join(line))
    admin = home / "initial-admin.txt"
    if admin.exists():
        print(f"first supervisor account (admin) and its password: {admin}")
    print(f"logs: {home / 'logs'}; Ctrl-C stops everything")
    return _run_until_signal(stack)


def register(sub: argparse._SubParsersAction) -> None:
    bot = sub.add_parser("bot", help="the Rasa bot: train, validate, test, run")
    bot_sub = bot.add_subparsers(dest="bot_command", required=True)

    p = bot_sub.add_parser("train", help="train the bot model (skipped when inputs unchanged)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_train)

    p = bot_sub.add_parser("validate", help="rasa data validate (warnings fail)")
    p.set_defaults(func=cmd_validate)

    p = bot_sub.add_parser("test", help="intent accuracy on the test split + conversation tests")
    p.add_argument("--min-accuracy", type=float, default=0.95)
    p.add_argument("--nlu-only", action="store_true")
    p.add_argument(
        "--conversations",
        action="store_true",
        help="play the simulated-resident scenarios (tests/conversations) instead",
    )
    p.add_argument("--split", choices=["dev", "heldout", "all", "selftest"], default="dev")
    p.add_argument("--persona", default=None, help="--conversations: one persona only")
    p.add_argument("--channel", default="web", help="--conversations: web (sms, voice later)")
    p.add_argument("--jobs", type=int, default=4, help="--conversations: played at once")
    p.add_argument("--rasa-url", default=None, help="--conversations: a running Rasa server")
    p.add_argument("--api-url", default=None, help="--conversations: its case service")
    p.add_argument("--rasa-token", default=os.environ.get("HOTLINE_RASA_TOKEN"))
    p.add_argument("--home", type=Path, default=None, help="the running stack's state folder")
    p.add_argument("--admin-password", default=os.environ.get("HOTLINE_ADMIN_PASSWORD"))
    p.add_argument("--no-cleanup", action="store_true", help="leave the played cases open")
    p.set_defaults(func=cmd_test)

    p = bot_sub.add_parser("run", help="Rasa + action server against a running case service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5005)
    p.add_argument("--actions-port", type=int, default=5055)
    p.add_argument("--api-url", default=os.environ.get("HOTLINE_API_URL", "http://127.0.0.1:8000"))
    p.add_argument("--token", default=None, help="Rasa HTTP API token")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("up", help="run everything: case service, action server and Rasa")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    p.add_argument("--actions-port", type=int, default=5055)
    p.add_argument("--rasa-port", type=int, default=5005)
    p.set_defaults(func=cmd_up)
