"""The job summary: escaped cells, and a cap well under GitHub's 1 MiB per step."""

from __future__ import annotations

import re

from ecsundo_action.aws.records import Cluster, ContainerImage
from ecsundo_action.render.markdown import LIMIT, escape, run_summary, snapshot_summary
from ecsundo_action.result import Outcome, ServiceResult, Status
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}"


def test_escape_leaves_nothing_that_renders() -> None:
    hostile = (
        "a|b\n<script>x</script> `code` *em* [link](http://x) @org/team ![i](y) # h ~s~ www.x.io"
    )
    out = escape(hostile)
    assert "\n" not in out
    assert not re.search(r"(?<!\\)[|`*\[\]]", out)  # every pipe, backtick, star, bracket escaped
    for raw in ["<script>", "`code`", "*em*", "[link]", "@org", "![i]", "http://", "www.x"]:
        assert raw not in out
    assert "\\|" in out and "&lt;script&gt;" in out and "@\u200borg" in out


def test_summary_heading_and_rows() -> None:
    result = Outcome(
        "restore",
        "prod",
        snapshot=snapshot("20261127T000000000Z-abcdef"),
        services=[
            ServiceResult(
                "web",
                "re-register",
                TD.format("web:2"),
                TD.format("web:3"),
                Status.SUCCESS,
                12.4,
                "ok",
                before=(ContainerImage("web", "acme/web:1.5.0"),),
                after=(ContainerImage("web", "acme/web:1.4.2"),),
                what="re-registered web:1 as web:3",
            ),
            ServiceResult(
                "api",
                "update",
                TD.format("api:2"),
                TD.format("api:1"),
                Status.FAILED,
                3,
                "rollout FAILED: <b>bad</b>",
            ),
        ],
    )
    text = run_summary(result)
    assert text.startswith("### ⚠️ ecsundo restore: partial")
    assert "Cluster **prod** · snapshot **20261127T000000000Z-abcdef**" in text
    assert (
        "| web | web:1.5.0 | web:1.4.2 | re-registered web:1 as web:3 | ✅ success | 12s |" in text
    )
    # Failures come first.
    assert text.index("| api |") < text.index("| web |")
    assert "- **api**: rollout FAILED: &lt;b&gt;bad&lt;/b&gt;" in text


def test_summary_is_capped_with_a_visible_note() -> None:
    services = [
        ServiceResult(
            f"service-{i:05d}-" + "x" * 200,
            "update",
            TD.format(f"f{i}:1"),
            TD.format(f"f{i}:2"),
            Status.FAILED,
            1,
            "m" * 300,
        )
        for i in range(5000)
    ]
    text = run_summary(Outcome("restore", "prod", services=services))
    assert len(text.encode()) <= LIMIT < 1024 * 1024
    assert "more not shown" in text and "`services` output" in text


def snapshot(snapshot_id: str = "s1") -> Snapshot:
    return Snapshot(
        id=snapshot_id,
        created_at="2026-11-27T16:26:00.123Z",
        tool="ecsundo test",
        cluster=Cluster.from_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
        services=(
            ServiceRecord(
                "web", "arn:aws:ecs:us-east-1:123456789012:service/prod/web", TD.format("web:1"), 1
            ),
        ),
        task_definitions={
            TD.format("web:1"): KeptTaskDefinition(
                "ACTIVE",
                {
                    "family": "web",
                    "containerDefinitions": [
                        {
                            "name": "app",
                            "image": "shop/web:1",
                            "environment": [{"name": "PASSWORD", "value": "hunter2"}],
                            "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:x"}],
                        }
                    ],
                },
            )
        },
    )


def test_snapshot_summary_shows_images_never_environment() -> None:
    taken = Outcome("snapshot", "prod", snapshot=snapshot(), snapshot_uri="file:///tmp/x")
    text = snapshot_summary(taken)
    assert "shop/web:1" in text and "hunter2" not in text and "PASSWORD" not in text
    assert "1 service captured" in text and "stored at `file:///tmp/x`" in text
    dry = snapshot_summary(Outcome("snapshot", "prod", dry_run=True, snapshot=snapshot()))
    assert "dry run: nothing stored" in dry
