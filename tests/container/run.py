"""`make container-test`: build the action's image with buildah and run it as the runner does.

No Docker engine here and no base image to pull, so: a Debian bookworm base made with
debootstrap (cached under .cache/container, which git ignores) is imported as a local
image and passed as BASE_IMAGE; buildah builds the Dockerfile (--isolation chroot, as
root) and runs the image's own entrypoint with INPUT_* variables, the GITHUB_* files
under /github/file_commands, the workspace at /github/workspace as working directory and
RUNNER_TEMP at /github/runner_temp, against the AWS stand-in on 127.0.0.1. Guard's post
step runs in a second, fresh container, as on a runner. Prints size and timings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from simulator import Simulator
from tests.runner import parse_commands, parse_file_commands

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "container"
BASE_TAR = CACHE / "bookworm-python3.tar"
BASE_IMAGE = "localhost/ecsundo-base:bookworm"
IMAGE = "localhost/ecsundo-action:test"
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
SECRET = "container-secret-value"


def sh(*args: str, capture: bool = False, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=True, text=True, capture_output=capture, **kwargs)


def say(text: str) -> None:
    print(f"== {text}", flush=True)


def ensure_tools() -> None:
    missing = [tool for tool in ("buildah", "debootstrap") if not shutil.which(tool)]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"container-test: needs {' and '.join(missing)} (and root): apt-get install them")
    say(f"installing {' '.join(missing)} from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sh("apt-get", "update", "-q", env=env)
    sh("apt-get", "install", "-y", "-q", *missing, env=env)


def ensure_base() -> None:
    """A minimal bookworm with python3, python3-venv and CA certificates, as a local image."""
    if not BASE_TAR.exists():
        say("making the base image with debootstrap (cached in .cache/container)")
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=CACHE) as work:
            rootfs = Path(work) / "rootfs"
            sh(
                "debootstrap",
                "--variant=minbase",
                "--include=python3,python3-venv,ca-certificates",
                "bookworm",
                str(rootfs),
                MIRROR,
                capture=True,
            )
            for junk in (
                "var/cache/apt/archives",
                "var/lib/apt/lists",
                "usr/share/doc",
                "usr/share/man",
                "usr/share/locale",
            ):
                for path in (rootfs / junk).glob("*"):
                    if path.is_dir() and not path.is_symlink():
                        shutil.rmtree(path)
                    else:
                        path.unlink()
            sh("tar", "-C", str(rootfs), "-cf", str(BASE_TAR) + ".part", ".")
            os.replace(str(BASE_TAR) + ".part", BASE_TAR)
    found = subprocess.run(
        ["buildah", "inspect", "--type", "image", BASE_IMAGE], capture_output=True
    )
    if found.returncode == 0:
        return
    say("importing the base image into buildah")
    ctr = sh("buildah", "from", "scratch", capture=True).stdout.strip()
    try:
        mount = sh("buildah", "mount", ctr, capture=True).stdout.strip()
        sh("tar", "-C", mount, "-xf", str(BASE_TAR))
        sh("buildah", "umount", ctr, capture=True)
        sh(
            "buildah",
            "config",
            "--env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ctr,
        )
        sh("buildah", "commit", "-q", ctr, BASE_IMAGE, capture=True)
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True)


def pip_settings() -> tuple[list[str], list[str]]:
    """This machine's pip index and certificate, forwarded to the build only when set."""
    args: list[str] = []
    volumes: list[str] = []
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        value = os.environ.get(name, "")
        urls = " ".join(u for u in value.split() if u.startswith(("http://", "https://")))
        if urls:
            args += ["--build-arg", f"{name}={urls}"]
    cert = os.environ.get("PIP_CERT")
    if cert and Path(cert).is_file():
        folder = Path(cert).resolve().parent
        volumes += ["-v", f"{folder}:/run/host-certs:ro"]
        args += ["--build-arg", f"PIP_CERT=/run/host-certs/{Path(cert).resolve().name}"]
    return args, volumes


def build(*, cold: bool) -> float:
    args, volumes = pip_settings()
    started = time.monotonic()
    sh(
        "buildah",
        "bud",
        "--isolation",
        "chroot",
        "--layers",
        "-q",
        *(["--no-cache"] if cold else []),
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        *args,
        *volumes,
        "-t",
        IMAGE,
        str(ROOT),
        capture=True,
    )
    return time.monotonic() - started


def image_size() -> int:
    inspected = json.loads(sh("buildah", "inspect", "--type", "image", IMAGE, capture=True).stdout)
    manifest = json.loads(inspected.get("Manifest") or "{}")
    return sum(layer.get("size", 0) for layer in manifest.get("layers", []))


class Step:
    """One container run: what the runner would have seen."""

    def __init__(
        self,
        code: int,
        stdout: str,
        outputs: dict[str, str],
        state: dict[str, str],
        summary: str,
        started: float,
    ) -> None:
        self.code, self.stdout, self.outputs, self.state = code, stdout, outputs, state
        self.summary, self.started = summary, started
        self.commands = parse_commands(stdout)


def run_container(
    sim: Simulator,
    job: Path,
    inputs: dict[str, str],
    *,
    post: bool = False,
    state: dict[str, str] | None = None,
) -> Step:
    """A fresh container from the image, started as the runner starts a Docker action."""
    files = job / "file_commands"
    for name in ("output", "step_summary", "state", "env"):
        (files / name).write_text("")
    endpoint = sim.endpoint_url  # 127.0.0.1: chroot isolation shares the host's network
    env = {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "HOME": "/github/home",
        "GITHUB_WORKSPACE": "/github/workspace",
        "RUNNER_TEMP": "/github/runner_temp",
        "GITHUB_OUTPUT": "/github/file_commands/output",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
        "GITHUB_STATE": "/github/file_commands/state",
        "GITHUB_ENV": "/github/file_commands/env",
        "GITHUB_REPOSITORY": "org/shop",
        "GITHUB_RUN_ID": "77",
        "GITHUB_SHA": "abc",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": sim.region,
        "AWS_DEFAULT_REGION": sim.region,
        "AWS_ENDPOINT_URL": endpoint,
        **{f"INPUT_{k.upper()}": v for k, v in inputs.items()},
        **{f"STATE_{k}": v for k, v in (state or {}).items()},
    }
    config = json.loads(sh("buildah", "inspect", "--type", "image", IMAGE, capture=True).stdout)
    entrypoint = config["OCIv1"]["config"]["Entrypoint"]
    command = ["/app/post.py"] if post else entrypoint  # post-entrypoint replaces ENTRYPOINT
    ctr = sh("buildah", "from", "--pull-never", IMAGE, capture=True).stdout.strip()
    try:
        started = time.time()
        proc = subprocess.run(
            [
                "buildah",
                "run",
                "--isolation",
                "chroot",
                "-v",
                f"{job / 'workspace'}:/github/workspace",
                "-v",
                f"{files}:/github/file_commands",
                "-v",
                f"{job / 'runner_temp'}:/github/runner_temp",
                "-v",
                f"{job / 'home'}:/github/home",
                "--workingdir",
                "/github/workspace",
                *[arg for k, v in env.items() for arg in ("--env", f"{k}={v}")],
                ctr,
                "--",
                *command,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True)
    if proc.stderr.strip():
        print(proc.stderr, file=sys.stderr)
    return Step(
        proc.returncode,
        proc.stdout,
        parse_file_commands((files / "output").read_text()),
        parse_file_commands((files / "state").read_text()),
        (files / "step_summary").read_text(),
        started,
    )


def body(family: str, version: str) -> dict[str, Any]:
    return {
        "family": family,
        "containerDefinitions": [
            {
                "name": family,
                "image": f"shop/{family}:{version}",
                "memory": 128,
                "environment": [{"name": "DB_PASSWORD", "value": SECRET}],
            }
        ],
    }


def check(condition: bool, what: str, step: Step | None = None) -> None:
    if not condition:
        detail = f"\n--- stdout ---\n{step.stdout}\n--- outputs ---\n{step.outputs}" if step else ""
        sys.exit(f"container-test FAILED: {what}{detail}")
    print(f"   ok: {what}", flush=True)


def first_call_after(sim: Simulator, started: float) -> float:
    return min(c.at for c in sim.calls if c.at >= started) - started


def main() -> int:
    ensure_tools()
    ensure_base()
    say("building the image (cold: no cached layers)")
    cold = build(cold=True)
    say("building again (cached)")
    cached = build(cold=False)
    size = image_size()

    with Simulator() as sim, tempfile.TemporaryDirectory() as tmp:
        job = Path(tmp)
        for name in ("workspace", "file_commands", "runner_temp", "home"):
            (job / name).mkdir()
        ecs = sim.client("ecs")
        sim.create_cluster("shop")
        for name in ("web", "api"):
            sim.create_service("shop", name, sim.register(body(name, "1")))
        sim.rules.deploy_seconds = 0.5

        say("snapshot")
        sim.calls.clear()
        snap = run_container(sim, job, {"MODE": "snapshot", "CLUSTER": "shop"})
        cold_start = first_call_after(sim, snap.started)
        check(snap.code == 0, "snapshot exits 0", snap)
        check(snap.outputs.get("result") == "success", "snapshot result output", snap)
        snapshot_id = snap.outputs.get("snapshot-id", "")
        check(
            snap.outputs.get("snapshot-uri", "").startswith("file:///github/runner_temp/ecsundo/"),
            "snapshot stored under RUNNER_TEMP",
            snap,
        )
        stored = list((job / "runner_temp" / "ecsundo").rglob(f"{snapshot_id}.json"))
        check(
            len(stored) == 1 and oct(stored[0].stat().st_mode & 0o777) == "0o600",
            "snapshot file is on the mounted RUNNER_TEMP, mode 0600",
        )
        check("shop/web:1" in snap.summary, "snapshot summary lists images", snap)

        say("bad deploy: web moves to web:2, web:1 deregistered (INACTIVE)")
        new = sim.register(body("web", "2"))
        ecs.update_service(cluster="shop", service="web", taskDefinition=new)
        ecs.deregister_task_definition(taskDefinition="web:1")

        say("restore")
        restored = run_container(
            sim,
            job,
            {
                "MODE": "restore",
                "CLUSTER": "shop",
                "SNAPSHOT-ID": snapshot_id,
                "TIMEOUT-MINUTES": "2",
            },
        )
        check(restored.code == 0, "restore exits 0", restored)
        check(restored.outputs.get("result") == "success", "restore result output", restored)
        check(
            json.loads(restored.outputs.get("changed-services", "[]")) == ["web"],
            "changed-services names web",
            restored,
        )
        web = next(s for s in json.loads(restored.outputs["services"]) if s["name"] == "web")
        check(
            web["action"] == "re-register" and web["status"] == "success",
            "web was re-registered from the snapshot and rolled out",
            restored,
        )
        running = ecs.describe_services(cluster="shop", services=["web"])["services"][0]
        image = ecs.describe_task_definition(taskDefinition=running["taskDefinition"])
        check(
            image["taskDefinition"]["containerDefinitions"][0]["image"] == "shop/web:1",
            "web runs shop/web:1 again",
        )
        check(
            "| web | `web:2` | `web:1` | re-registered web:1 \\(INACTIVE\\) as web:3 | ✅ success |"
            in restored.summary,
            "restore summary table",
            restored,
        )

        say("guard, then its post step in a fresh container after a failed job")
        guard = run_container(sim, job, {"MODE": "guard", "CLUSTER": "shop"})
        check(guard.code == 0 and "guard" in guard.state, "guard saved its state", guard)
        ecs.update_service(
            cluster="shop", service="api", taskDefinition=sim.register(body("api", "2"))
        )
        post = run_container(
            sim, job, {"MODE": "guard", "CLUSTER": "shop"}, post=True, state=guard.state
        )
        check(post.code == 0, "post step exits 0", post)
        check(
            json.loads(post.outputs.get("changed-services", "[]")) == ["api"],
            "post step restored api",
            post,
        )
        nothing = run_container(sim, job, {"MODE": "guard", "CLUSTER": "shop"}, post=True)
        check(nothing.code == 0 and nothing.outputs == {}, "post step without state does nothing")

        for step in (snap, restored, guard, post):
            seen = step.stdout + step.summary + "".join(step.outputs.values())
            check(SECRET not in seen, "no task-definition environment value in logs or outputs")
            check(
                # The run's last annotation is a notice when it ended well.
                {n for n, _ in step.commands} <= {"group", "endgroup", "error", "notice"},
                "no unexpected workflow command",
            )

    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| image size (layers, uncompressed) | {size / 1e6:.1f} MB |")
    print(f"| build, cold (no cached layers) | {cold:.1f} s |")
    print(f"| build, cached | {cached:.1f} s ({cached / cold:.2f}x of cold) |")
    print(f"| cold start (container start to first AWS call) | {cold_start:.2f} s |")
    print("\ncontainer-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
