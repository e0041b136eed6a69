"""Run the action's scripts the way the GitHub runner does, and read back what they left.

A step gets INPUT_<NAME> variables (upper-cased, hyphens kept), GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_STATE and GITHUB_ENV files, a workspace as working directory
and RUNNER_TEMP; the post step gets the saved state as STATE_<name>. The runner then
parses stdout for workflow commands and the files by its heredoc rules: so do we here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]


def measured() -> dict[str, str]:
    """What a child process takes from this run (it gets a clean environment otherwise):
    coverage.py's variables, to be measured too (make coverage), and this checkout first on
    its path, so that `ecsundo` runs the code under test even where the venv's editable
    install points at another checkout (a git worktree sharing the venv)."""
    coverage = {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
    return {**coverage, "PYTHONPATH": str(ROOT)}


@dataclass
class Step:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    state: dict[str, str]
    summary: str
    commands: list[tuple[str, str]] = field(default_factory=list)  # (command, value) issued

    @property
    def errors(self) -> list[str]:
        return [value for name, value in self.commands if name == "error"]

    @property
    def warnings(self) -> list[str]:
        return [value for name, value in self.commands if name == "warning"]

    @property
    def notices(self) -> list[str]:
        return [value for name, value in self.commands if name == "notice"]


def parse_file_commands(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_STATE as the runner reads them: name=value or name<<DELIM."""
    values: dict[str, str] = {}
    lines = re.split(r"\r\n|\r|\n", text)  # the runner reads lines as .NET's ReadLine does
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise AssertionError(f"heredoc for {name!r} never closed")
            i += 1
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def parse_commands(stdout: str) -> list[tuple[str, str]]:
    """The workflow commands the runner would act on, honouring ::stop-commands::."""
    issued: list[tuple[str, str]] = []
    resume: str | None = None
    for line in stdout.splitlines():
        if resume is not None:
            if line.strip() == f"::{resume}::":
                resume = None
            continue
        stripped = line.strip()
        if not stripped.startswith("::"):
            continue
        head, sep, value = stripped[2:].partition("::")
        if not sep:
            continue
        name = head.split(" ", 1)[0]
        if name == "stop-commands":
            resume = value
            continue
        issued.append((name, value))
    return issued


def log_groups(stdout: str) -> dict[str, list[str]]:
    """The log's groups as a reader sees them: title -> the lines shown inside, without the
    workflow commands around them."""
    groups: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in stdout.splitlines():
        if line.startswith("::group::"):
            current = groups.setdefault(line.removeprefix("::group::"), [])
        elif line.startswith("::endgroup::"):
            current = None
        elif current is not None and not re.fullmatch(r"::(stop-commands::)?[0-9a-f]{32}::", line):
            current.append(line)
    return groups


def run_step(
    script: str,
    inputs: dict[str, str],
    env: dict[str, str],
    workspace: Path,
    *,
    state: dict[str, str] | None = None,
    timeout: float = 120,
    during: Callable[[subprocess.Popen[str]], None] | None = None,
) -> Step:
    """Run an action step as the runner does. during(process): what happens while it runs
    (a signal, as a cancelled job gets)."""
    files = workspace.parent / f"file_commands_{script.replace('.', '_')}"
    files.mkdir(exist_ok=True)
    paths = {
        name: files / f"{name.lower()}"
        for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE", "GITHUB_ENV")
    }
    for path in paths.values():
        path.write_text("")
    runner_temp = workspace.parent / "runner_temp"
    runner_temp.mkdir(exist_ok=True)
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workspace.parent),
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_REPOSITORY": "org/shop",
        "GITHUB_SHA": "0123456789abcdef",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "deploy",
        "GITHUB_ACTOR": "octocat",
        **{name: str(path) for name, path in paths.items()},
        **env,
        **{f"INPUT_{name.replace(' ', '_').upper()}": value for name, value in inputs.items()},
        **{f"STATE_{name}": value for name, value in (state or {}).items()},
        **measured(),
    }
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / script)],
        env=environ,
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if during is not None:
            during(proc)
        stdout, stderr = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    return Step(
        proc.returncode,
        stdout,
        stderr,
        parse_file_commands(paths["GITHUB_OUTPUT"].read_text()),
        parse_file_commands(paths["GITHUB_STATE"].read_text()),
        paths["GITHUB_STEP_SUMMARY"].read_text(),
        parse_commands(stdout),
    )


def everything(step: Step) -> str:
    """All a person or a later step could see."""
    return "\n".join(
        [step.stdout, step.stderr, step.summary, *step.outputs.values(), *step.state.values()]
    )


def defaults(**inputs: Any) -> dict[str, str]:
    """The inputs the runner passes: action.yml's defaults, then the workflow's `with:`."""
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    base = {name: str(spec["default"]) for name, spec in declared.items() if "default" in spec}
    base.update({k.replace("_", "-"): str(v) for k, v in inputs.items()})
    return base
