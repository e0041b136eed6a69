"""The job summary: escaped cells, and a cap well under GitHub's 1 MiB per step."""

from __future__ import annotations

import re

from ecsundo_action.result import RunResult, ServiceResult, Status
from ecsundo_action.summary import LIMIT, escape, run_summary, snapshot_summary

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
    assert "\\|" in out and "&lt;script&gt;" in out and "&#64;org" in out


def test_summary_heading_and_rows() -> None:
    result = RunResult(
        "restore",
        "prod",
        snapshot_id="20261127T000000000Z-abcdef",
        services=[
            ServiceResult(
                "web",
                "re-register",
                TD.format("web:2"),
                TD.format("web:3"),
                Status.SUCCESS,
                12.4,
                "ok",
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
    assert "| web | web:2 | web:3 | re-register | ✅ success | 12s |" in text
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
    text = run_summary(RunResult("restore", "prod", services=services))
    assert len(text.encode()) <= LIMIT < 1024 * 1024
    assert "more not shown" in text and "`services` output" in text


def test_snapshot_summary_shows_images_never_environment() -> None:
    document = {
        "id": "s1",
        "cluster": {"name": "prod"},
        "services": [{"name": "web", "taskDefinition": TD.format("web:1")}],
        "taskDefinitions": {
            TD.format("web:1"): {
                "body": {
                    "containerDefinitions": [
                        {
                            "name": "app",
                            "image": "shop/web:1",
                            "environment": [{"name": "PASSWORD", "value": "hunter2"}],
                            "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:ssm:x"}],
                        }
                    ]
                }
            }
        },
    }
    text = snapshot_summary(document, "file:///tmp/x")
    assert "shop/web:1" in text and "hunter2" not in text and "PASSWORD" not in text
