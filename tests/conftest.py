"""Shared fixtures and builders: one simulator per test session, wiped before every test;
task-definition bodies, the "snapshotted, then a bad deploy" scenario, and a way to run a
Request through the engine against the simulator."""

from __future__ import annotations

import inspect
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecsundo_action.aws.gateway import ECS_QUOTAS, EcsGateway
from ecsundo_action.engine import execute
from ecsundo_action.progress import Progress
from ecsundo_action.reasons import Reason, Why, because
from ecsundo_action.render.text import Narrated
from ecsundo_action.request import Mode, Request
from ecsundo_action.result import Outcome
from simulator import Simulator
from tests import iam
from tests.runner import measured

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The shared corpus beside the repository, else the copy kept in the repository.
CORPUS_DIRS = (REPO_ROOT.parent / "shared" / "task-definitions", REPO_ROOT / "tests" / "corpus")

SECRET = "hunter2-env-value"  # an environment value no output may ever show
ECSUNDO = str(Path(sys.executable).parent / "ecsundo")  # the installed command


def ecsundo(
    sim: Any, *args: str, cwd: Path | None = None, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """The `ecsundo` command as a user runs it: a subprocess, over HTTP to the simulator.
    env changes its environment (None: unset)."""
    environ: dict[str, str | None] = {**sim.env, "PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run(
        [ECSUNDO, *args],
        env={**{k: v for k, v in environ.items() if v is not None}, **measured()},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def body(
    family: str,
    version: str = "1",
    *,
    image: str | None = None,
    env: dict[str, str] | None = None,
    memory: int = 256,
    **extra: Any,
) -> dict[str, Any]:
    """A RegisterTaskDefinition body: one container, image shop/<family>:<version>."""
    container: dict[str, Any] = {
        "name": family,
        "image": image or f"shop/{family}:{version}",
        "memory": memory,
    }
    if env:
        container["environment"] = [{"name": k, "value": v} for k, v in env.items()]
    return {"family": family, "containerDefinitions": [container], **extra}


class Terminal(io.StringIO):
    """A stream that says it is a terminal: what ecsundo writes there is drawn for a screen."""

    def isatty(self) -> bool:
        return True


def until(condition: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Wait for condition() to hold, looking every 10 ms; fail naming `what` after `seconds`
    (a deadline, so that a test never hangs on something that will not come)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:g} s for {what}")
        time.sleep(0.01)


# The ARN of a task definition of the stand-in's account and Region: TD.format("web:1").
TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}"


def family(i: int) -> str:
    return f"svc{i:03d}"


class Lines(Narrated):
    """What the run said while it ran, line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def phase(self, title: str) -> None:
        self.lines.append(f"## {title}")

    def note(self, text: str) -> None:
        self.lines.append(text)

    # Every service's state as the engine tells it (the action's log folds them into one
    # line at most every 15 s; these tests read the engine's words themselves).
    def waiting(self, service: str, text: str) -> None:
        self.lines.append(f"{service}: {text}")

    def settled(self, service: str, text: str, ok: bool) -> None:
        self.lines.append(f"{service}: {text}")


def run(gateway: EcsGateway, mode: str, cluster: str = "prod", **fields: Any) -> Outcome:
    """Execute a Request on the engine, the way both edges do, with fast polling."""
    fields.setdefault("poll_interval", 0.05)
    fields.setdefault("timeout_minutes", 0.5)
    if "services" in fields and fields["services"] is not None:
        fields["services"] = tuple(fields["services"])
    request = Request(mode=Mode(mode), cluster=cluster, **fields)
    return execute(request, gateway=gateway, environ={})


def restore_with(gateway: EcsGateway, store: str, progress: Progress, **fields: Any) -> Outcome:
    """Restore cluster shop from the newest snapshot in store, saying what it does."""
    request = Request(
        mode=Mode.RESTORE,
        cluster="shop",
        store=store,
        snapshot_id="latest",
        poll_interval=0.05,
        **fields,
    )
    return execute(request, gateway=gateway, progress=progress, environ={})


def snapshotted_then_bad_deploy(
    sim: Any, n: int, folder: Path, *, cluster: str = "prod", deregister_every: int = 2
) -> str:
    """n services on revision 1 of their own family (image svcNNN:good), snapshotted into a
    file store under folder (its URI is returned); then each moved to a bad revision
    (svcNNN:bad), and every deregister_every-th snapshot revision deregistered (1: all)."""
    ecs = sim.client("ecs")
    sim.create_cluster(cluster)
    for i in range(n):
        good = body(family(i), image=f"{family(i)}:good", memory=64)
        sim.create_service(cluster, family(i), sim.register(good), desired_count=1)
    store = f"file://{folder}"
    run(EcsGateway(ecs, quotas=None), "snapshot", cluster, store=store)
    for i in range(n):
        bad = sim.register(body(family(i), image=f"{family(i)}:bad", memory=64))
        ecs.update_service(cluster=cluster, service=family(i), taskDefinition=bad)
        if i % deregister_every == 0:
            ecs.deregister_task_definition(taskDefinition=f"{family(i)}:1")
    return store


def signing_key(sim: Any, usage: str = "GENERATE_VERIFY_MAC", alias: str | None = None) -> str:
    """A KMS key for signed snapshots (usage GENERATE_VERIFY_MAC: an HMAC_256 key); its ARN.
    alias: also name it alias/<alias>."""
    kms = sim.client("kms")
    spec = {"KeySpec": "HMAC_256"} if usage == "GENERATE_VERIFY_MAC" else {}
    key = kms.create_key(KeyUsage=usage, **spec)["KeyMetadata"]
    if alias is not None:
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key["KeyId"])
    return str(key["Arn"])


def forge(path: Path, old: str, new: str) -> None:
    """What issue 23's attacker did to a stored snapshot: edit its text, then recompute the
    checksum, which anyone who can write to the store can do."""
    from ecsundo_action.snapshots.document import checksum

    text = json.dumps(json.loads(path.read_text()))  # one line: ", " and ": " between items
    assert old in text, f"{old!r} is not in {path.name}"
    document = json.loads(text.replace(old, new))
    document["checksum"] = checksum(document)
    os.chmod(path, 0o600)
    path.write_text(json.dumps(document, indent=2))


@pytest.fixture(scope="session")
def sim_server() -> Iterator[Simulator]:
    """The session's simulator (state left by earlier tests): use `sim` instead."""
    with Simulator() as simulator:
        yield simulator


@pytest.fixture
def sim(sim_server: Simulator) -> Iterator[Simulator]:
    """A started simulator with no AWS state, an empty call log and default Rules.

    Afterwards, the calls ecsundo's own clients made are kept for the IAM policy check, and
    a request the simulator could not name fails the test: an unnamed call would have escaped
    ECS's quotas, the injected refusals and the call counts.
    """
    sim_server.reset()
    yield sim_server
    iam.record(sim_server.calls)
    if sim_server.unparsed:
        lines = list(sim_server.unparsed)
        sim_server.unparsed.clear()  # this test's failure, not the next one's
        pytest.fail("the simulator could not read: " + "; ".join(lines))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The runner's workspace (the action's working directory); RUNNER_TEMP is beside it."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def connect(sim: Simulator, *, config: Any = None, quotas: Any = ECS_QUOTAS) -> EcsGateway:
    """A gateway to the simulator made as production makes one (EcsGateway.connect): with the
    Resource Groups Tagging API, by which a restore finds its earlier re-registrations
    (without it the family is scanned, a path production takes only when refused)."""
    options = {"config": config} if config is not None else {}
    return EcsGateway(
        sim.client("ecs", **options),
        quotas=quotas,
        tagging=sim.client("resourcegroupstaggingapi", **options),
        make_ecr=lambda region: sim.client("ecr", region_name=region, **options),
        make_client=lambda service: sim.client(service, **options),
    )


@pytest.fixture
def gateway(sim: Simulator) -> EcsGateway:
    """The engine's gateway to the simulator, paced to ECS's quotas as in production."""
    return connect(sim)


# --- the least-privilege check, over every call the whole run saw ------------------------------
# Tests run in several processes (pytest-xdist), and no single test sees every call: each
# worker hands the IAM actions its tests' calls needed to the process that ran the session
# (workeroutput), which checks their union against docs/iam-policy.json when the run is over,
# whenever test_iam_policy.py was part of it, and fails the run if the policy is not exact.

_IAM_FILE = "test_iam_policy.py"
_iam_wanted = False  # test_iam_policy.py was selected (here or in a worker)
_iam_problems: list[str] = []


# How long a test takes is marked on it, not told by its file: `pytest -m pure` runs the
# tests of pure functions (a few seconds), `-m "not process"` leaves out those that start
# the CLI, the action or a build as a process.
_PROCESS = ("ecsundo(", "run_step(", "subprocess.")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        function = getattr(item, "function", None)
        source = inspect.getsource(function) if function is not None else ""
        if any(call in source for call in _PROCESS):
            item.add_marker(pytest.mark.process)
        elif "sim" in fixtures:
            item.add_marker(pytest.mark.standin)
        else:
            item.add_marker(pytest.mark.pure)


def pytest_sessionfinish(session: pytest.Session) -> None:
    global _iam_wanted
    if session.config.option.collectonly:
        return  # nothing ran: nothing to check
    selected = any(item.path.name == _IAM_FILE for item in session.items)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand over, the controller decides
        workeroutput["iam_used"] = sorted(iam.USED)
        workeroutput["iam_wanted"] = selected
        return
    # Only a run that was otherwise green: an interrupted or failing run keeps its own
    # status (and would list as unused the actions of the tests it never reached).
    if (selected or _iam_wanted) and session.exitstatus == pytest.ExitCode.OK:
        _iam_problems[:] = iam.problems(iam.USED, iam.allowed())
        if _iam_problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """An xdist worker finished: take the actions it saw."""
    global _iam_wanted
    output = getattr(node, "workeroutput", {})
    iam.USED.update(output.get("iam_used", ()))
    _iam_wanted = _iam_wanted or bool(output.get("iam_wanted"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _iam_problems:
        terminalreporter.section("least-privilege check (docs/iam-policy.json) FAILED", red=True)
        for line in _iam_problems:
            terminalreporter.line(line, red=True)


@pytest.fixture(scope="session")
def corpus() -> list[tuple[str, dict[str, Any]]]:
    """The 30 real task definitions (file name, RegisterTaskDefinition body), by file name."""
    for directory in CORPUS_DIRS:
        files = sorted(directory.glob("*.json"))
        if files:
            return [(path.name, json.loads(path.read_text())) for path in files]
    # A failure, not a skip: the corpus is the only check of a field dropped where bodies
    # are built, and the repository keeps a copy.
    pytest.fail(f"task-definition corpus not found in {' or '.join(map(str, CORPUS_DIRS))}")


@pytest.fixture
def tokyo(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time zone is UTC+9 (a runner need not be on UTC)."""
    monkeypatch.setenv("TZ", "JST-9")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def in_words(verdict: tuple[bool, Any] | None) -> tuple[bool, str] | None:
    """A judgement (ok, reason) with its reason in words, or None."""
    return None if verdict is None else (verdict[0], str(verdict[1]))


def saying(text: str) -> tuple[Reason, ...]:
    """A step's reason where a test checks mechanics, not wording: any words will do (a code
    whose words are its parameter), and nothing reads the code."""
    return (because(Why.CALL_FAILED, error=text),) if text else ()
