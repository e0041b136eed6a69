"""The job summary: escaped cells, and a cap well under GitHub's 1 MiB per step.

The job summary word for word: the exact Markdown of small outcomes of every mode, the
escaping of each character, and the size budgets: the whole summary, each section and the
collapsed table fill up to their budget less the room kept for the note, never one row more,
and say how many rows they left out.

The job summary as GitHub renders it: through cmark-gfm (GitHub's Markdown engine, with
its extensions, and raw HTML let through as the strictest case), then read as HTML. One table
row per service, failures first, hostile text still inert, and a collapsed section for many
unchanged services."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from ecsundo_action.aws.records import Cluster, ContainerImage
from ecsundo_action.reasons import Why, because, say
from ecsundo_action.render.markdown import (
    LIMIT,
    NOTE_ROOM,
    code,
    console_url,
    discover_summary,
    error_summary,
    escape,
    list_summary,
    of,
    run_summary,
    snapshot_summary,
)
from ecsundo_action.result import Outcome, Phase, ServiceResult, Span, Status
from ecsundo_action.snapshots.document import KeptTaskDefinition, ServiceRecord, Snapshot
from tests import summaries
from tests.conftest import TD


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
        snapshot=small_snapshot("20261127T000000000Z-abcdef"),
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
    assert "Cluster **prod** · snapshot `20261127T000000000Z-abcdef`" in text
    assert (
        "| web | `web:1.5.0` | `web:1.4.2` | re-registered web:1 as web:3 | ✅ success | 12s |"
        in text
    )
    # Failures come first.
    assert text.index("| api |") < text.index("| web |")
    assert "- ❌ **api** on `api:2`: rollout FAILED: &lt;b&gt;bad&lt;/b&gt; — next:" in text


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


def small_snapshot(snapshot_id: str = "s1") -> Snapshot:
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
    taken = Outcome("snapshot", "prod", snapshot=small_snapshot(), snapshot_uri="file:///tmp/x")
    text = snapshot_summary(taken)
    assert "shop/web:1" in text and "hunter2" not in text and "PASSWORD" not in text
    assert "1 service captured" in text and "stored at `file:///tmp/x`" in text
    dry = snapshot_summary(Outcome("snapshot", "prod", dry_run=True, snapshot=small_snapshot()))
    assert "dry run: nothing stored" in dry


SERVER = "https://github.com"
GITHUB = {
    "workflow": "deploy",
    "runId": "4242",
    "sha": "0123456789abcdef",
    "actor": "octocat",
    "repository": "acme/shop",
}
HEADER = "| service | before | after | what happened | result | time |\n|---|---|---|---|---|---|\n"


def table_note(left: int) -> str:
    return (
        f"\n_{left} more not shown to keep this summary under GitHub's size limit; "
        "the `services` output lists every one._\n"
    )


def section_note(left: int) -> str:
    return f"- _{left} more: see the `services` output_\n"


def taken_now() -> tuple[str, str]:
    """A created_at of now (so the summary says "just now"), and how the summary shows it."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z", now.strftime("%Y-%m-%d %H:%M:%S")


def snapshot(
    created_at: str = "2026-11-27T16:26:00.123Z",
    github: dict[str, str] | None = None,
    services: tuple[ServiceRecord, ...] | None = None,
) -> Snapshot:
    records = services or (
        ServiceRecord(
            "web",
            "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
            TD.format("web:1"),
            2,
            images=(ContainerImage("app", "shop/web:1", "sha256:" + "ab12" * 16),),
        ),
        ServiceRecord(
            "api",
            "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
            TD.format("api:7"),
            1,
        ),
        ServiceRecord(
            "blue-green",
            "arn:aws:ecs:us-east-1:123456789012:service/prod/blue-green",
            None,
            1,
            controller="EXTERNAL",
        ),
    )
    return Snapshot(
        id="s1",
        created_at=created_at,
        tool="ecsundo test",
        cluster=Cluster.from_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod"),
        services=records,
        task_definitions={
            TD.format("api:7"): KeptTaskDefinition(
                "ACTIVE",
                {
                    "family": "api",
                    "containerDefinitions": [
                        {"name": "api", "image": "shop/api:7"},
                        {"name": "proxy", "image": "envoy:1"},
                    ],
                },
            )
        },
        github=github,
    )


def result(
    name: str,
    status: Status,
    seconds: float = 0.0,
    *,
    message: str = "",
    what: str = "",
    action: str = "update",
) -> ServiceResult:
    return ServiceResult(
        name, action, None, None, status, seconds, message, what=what or f"updated to {name}:1"
    )


# -- escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("'", "&#39;"),
        ("@team", "@\u200bteam"),
        ("(@team)", "\\(@\u200bteam\\)"),
        ("é@team", "é@\u200bteam"),  # GitHub's word characters are ASCII's
        # After a word character GitHub links no mention: a digest copies exactly.
        ("acme/web@sha256:80cb", "acme/web@sha256:80cb"),
        ("v1_@x", "v1\\_@x"),
        *[(c, "\\" + c) for c in "\\`*_{}[]()#+!|~"],
        ("a\n\tb  c\r\n", "a b c"),
        ("https://x.io/p", "https&#58;//x.io/p"),
        ("see www.x.io", "see www&#46;x.io"),
        ("plain-text.v1: ok, 100% = $5 ^ ;", "plain-text.v1: ok, 100% = $5 ^ ;"),
        (42, "42"),
    ],
)
def test_each_character_is_escaped_as_declared(text: object, shown: str) -> None:
    assert escape(text) == shown


def test_error_summary_word_for_word() -> None:
    assert error_summary("re|store", "input 'mode': expected\none of <x>") == (
        "### ❌ ecsundo re\\|store: failed\n\ninput &#39;mode&#39;: expected one of &lt;x&gt;\n"
    )


# -- a run (restore, rollback) ---------------------------------------------------------------


def test_a_run_summary_word_for_word() -> None:
    """Needs attention first (where, why, what next, the console), then the services that
    changed, the quiet ones folded, then warnings; absolute times; identifiers in code."""
    outcome = Outcome(
        "restore",
        "prod",
        snapshot=snapshot("2026-12-07T14:58:00.000Z", GITHUB),
        services=[
            result("api", Status.FAILED, 3.0, message="boom <b>", what="tried to update to api:1"),
            ServiceResult(
                "web",
                "update",
                TD.format("web:2"),
                TD.format("web:1"),
                Status.SUCCESS,
                12.4,
                before=(ContainerImage("web", "acme/web:2"),),
                after=(ContainerImage("web", "acme/web:1"),),
                what="updated to web:1",
            ),
            result("cron", Status.UNCHANGED, 0.4, what="already on cron:1", action="unchanged"),
            result("jobs", Status.MISSING, message="deleted", what="missing: deleted"),
            result("worker", Status.SUCCESS, 61.6),
        ],
        warnings=["image tag moved"],
        uncovered=["legacy"],
        timings={"total": 80.2, "read": 3.4, "update": 2.0, "wait": 70.0},
        started_at=datetime(2026, 12, 7, 15, 2, 11, tzinfo=UTC),
        ended_at=datetime(2026, 12, 7, 15, 3, 31, tzinfo=UTC),
        region="eu-west-1",
    )
    console = "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services"
    assert run_summary(outcome, SERVER) == (
        "### ⚠️ ecsundo restore: partial\n\n"
        "Cluster **prod** · snapshot `s1` · 1 failed, 1 missing, 2 success, 1 unchanged\n\n"
        "Restored from snapshot `s1`, taken 2026-12-07 14:58:00 UTC by workflow deploy, "
        "run 4242, sha 0123456789ab, actor octocat, 4 minutes before this restore · "
        "[the run that took it](https://github.com/acme/shop/actions/runs/4242)\n\n"
        "Started 2026-12-07 15:02:11 UTC, ended 15:03:31 UTC; took 80s: read 3s, update 2s, "
        "wait 70s\n\n"
        "\n**Needs attention**\n\n"
        "- ❌ **api**: boom &lt;b&gt; — next: run again: only what is not yet right is "
        f"changed · [console]({console}/api/health?region=eu-west-1)\n"
        "- ⚠️ **jobs**: deleted — next: recreate the service, or leave it out with services · "
        f"[console]({console}/jobs/health?region=eu-west-1)\n\n"
        + HEADER
        + "| api | - | - | tried to update to api:1 | ❌ failed | 3s |\n"
        "| jobs | - | - | missing: deleted | ⚠️ missing | 0s |\n"
        "| web | `web:2` | `web:1` | updated to web:1 | ✅ success | 12s |\n"
        "| worker | - | - | updated to worker:1 | ✅ success | 62s |\n"
        "\n<details><summary>1 service unchanged or skipped</summary>\n\n"
        + HEADER
        + "| cron | - | - | already on cron:1 | ⚪ unchanged | 0s |\n"
        "\n</details>\n"
        "\n**Warnings**\n\n- image tag moved\n"
        "\n**Not in this snapshot (left as they are)**\n\n- legacy\n"
        "\n"
    )
    assert of(outcome, SERVER) == run_summary(outcome, SERVER)


def test_no_run_link_without_a_server_url_nor_a_time_without_timings() -> None:
    created_at, shown_at = taken_now()
    outcome = Outcome(
        "rollback",
        "prod",
        snapshot=snapshot(created_at),
        services=[result("web", Status.UPDATED, 1.0), result("api", Status.UPDATED, 2.0)],
    )
    assert of(outcome) == (
        "### ✅ ecsundo rollback: success\n\n"
        "Cluster **prod** · snapshot `s1` · 2 updated\n\n"
        f"Restored from snapshot `s1`, taken {shown_at} UTC, outside GitHub Actions\n\n"
        + HEADER
        + "| web | - | - | updated to web:1 | 🔄 updated | 1s |\n"
        "| api | - | - | updated to api:1 | 🔄 updated | 2s |\n"
        "\n"
    )
    # Known to GitHub, but with no server to link to: the words, no link.
    linked = Outcome("restore", "prod", snapshot=snapshot(created_at, GITHUB))
    assert "actor octocat\n\n" in of(linked)
    assert "](https://github.com/acme/shop/actions/runs/4242)" in of(linked, SERVER)


@pytest.mark.parametrize(
    ("services", "dry_run", "heading"),
    [
        ([Status.PLANNED], True, "### 📝 ecsundo restore: dry-run"),
        ([Status.UNCHANGED], False, "### ⚪ ecsundo restore: unchanged"),
        ([Status.FAILED], False, "### ❌ ecsundo restore: failed"),
        ([Status.SKIPPED, Status.SUCCESS], False, "### ✅ ecsundo restore: success"),
    ],
)
def test_the_heading_shows_the_verdict_and_its_icon(
    services: list[Status], dry_run: bool, heading: str
) -> None:
    rows = [result(f"s{i}", status) for i, status in enumerate(services)]
    text = run_summary(Outcome("restore", "prod", services=rows, dry_run=dry_run))
    assert text.startswith(heading + "\n\nCluster **prod** · ")


def test_many_quiet_services_fold_into_a_collapsed_table_word_for_word() -> None:
    quiet = [
        result(f"q{i:02d}", Status.UNCHANGED if i % 2 else Status.SKIPPED, what="left alone")
        for i in range(11)
    ]
    outcome = Outcome(
        "restore", "prod", services=[*quiet, result("api", Status.FAILED, 1.0, message="no")]
    )
    folded = "".join(
        f"| q{i:02d} | - | - | left alone | "
        + ("⚪ unchanged" if i % 2 else "⏭️ skipped")
        + " | 0s |\n"
        for i in range(11)
    )
    assert run_summary(outcome) == (
        "### ⚠️ ecsundo restore: partial\n\n"
        "Cluster **prod** · 1 failed, 6 skipped, 5 unchanged\n\n"
        "\n**Needs attention**\n\n"
        "- ❌ **api**: no — next: run again: only what is not yet right is changed\n\n"
        + HEADER
        + "| api | - | - | updated to api:1 | ❌ failed | 1s |\n"
        "\n<details><summary>11 services unchanged or skipped</summary>\n\n"
        + HEADER
        + folded
        + "\n</details>\n"
        "\n"
    )


# -- snapshot and guard ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["snapshot", "guard"])
def test_a_snapshot_summary_word_for_word(mode: str) -> None:
    outcome = Outcome(
        mode,
        "prod",
        snapshot=snapshot(),
        snapshot_uri="s3://bucket/p/s1.json",
        store="s3://bucket/p",
        warnings=["web: mid-rollout"],
    )
    expected = (
        f"### 📸 ecsundo {mode}: 3 services captured\n\n"
        "Cluster **prod** · snapshot `s1` · stored at `s3://bucket/p/s1.json`\n\n"
        "**To restore it**, a step:\n\n"
        "~~~yaml\n- uses: org/ecsundo-action@v1\n  with:\n    mode: restore\n"
        "    cluster: prod\n    snapshot-id: s1\n    store: s3://bucket/p\n~~~\n\n"
        "or at a terminal: `ecsundo cluster restore prod --snapshot-id s1 --store s3://bucket/p`"
        "\n\n"
        "| service | task definition | images |\n|---|---|---|\n"
        "| web | web:1 | `shop/web:1` \\(ab12ab12ab12\\) |\n"
        "| api | api:7 | shop/api:7, envoy:1 |\n"
        "| blue-green | - | \\(task sets of a EXTERNAL service\\) |\n"
        "\n**Warnings**\n\n- web: mid-rollout\n"
        "\n"
    )
    assert snapshot_summary(outcome) == expected
    assert of(outcome) == expected


def test_a_dry_run_snapshot_says_nothing_was_stored() -> None:
    one = snapshot(services=snapshot().services[1:2])
    assert of(Outcome("snapshot", "prod", dry_run=True, snapshot=one)) == (
        "### 📸 ecsundo snapshot: 1 service captured\n\n"
        "Cluster **prod** · snapshot `s1` · dry run: nothing stored\n\n"
        "| service | task definition | images |\n|---|---|---|\n"
        "| api | api:7 | shop/api:7, envoy:1 |\n"
        "\n"
    )


def test_a_store_uri_cannot_end_its_code_span() -> None:
    """A backtick in it lengthens the fence: the URI is copied as it is (blanks aside)."""
    outcome = Outcome("snapshot", "prod", snapshot=snapshot(), snapshot_uri="file:///a`b\n c")
    assert "stored at ``file:///a`b c``\n\n" in snapshot_summary(outcome)
    assert "file:///a`b c" in render(snapshot_summary(outcome)).code


# -- list and discover -----------------------------------------------------------------------


def test_a_list_summary_word_for_word_newest_first() -> None:
    outcome = Outcome("list", "prod", store="s3://b/p`x\n y", snapshots=["s-old", "s_mid", "s-new"])
    expected = (
        "### 🗂️ ecsundo list: 3 snapshots\n\n"
        "Cluster **prod** in `s3://b/p'x y` (newest first)\n\n"
        "| snapshot id |\n|---|\n| s-new |\n| s\\_mid |\n| s-old |\n"
        "\n"
    )
    assert list_summary(outcome) == expected
    assert of(outcome) == expected
    one = Outcome("list", "prod", store="file://.ecsundo", snapshots=["s1"])
    assert of(one).startswith("### 🗂️ ecsundo list: 1 snapshot\n\n")
    none = of(Outcome("list", "prod", store="file://.ecsundo", snapshots=None))
    assert none.startswith("### 🗂️ ecsundo list: 0 snapshots\n\n")
    assert none.endswith("| snapshot id |\n|---|\n\n")


def test_a_discover_summary_word_for_word() -> None:
    found = [
        {"cluster": "prod-eu", "region": "eu-west-1"},
        {"cluster": "prod_us", "region": "us-east-1"},
    ]
    outcome = Outcome("discover", "prod*", clusters=found)
    expected = (
        "### 🔭 ecsundo discover: 2 clusters\n\n"
        "Matching **prod\\***\n\n"
        "| cluster | region |\n|---|---|\n"
        "| prod-eu | eu-west-1 |\n| prod\\_us | us-east-1 |\n"
        "\n"
    )
    assert discover_summary(outcome) == expected
    assert of(outcome) == expected
    one = of(Outcome("discover", "x", clusters=found[:1]))
    assert one.startswith("### 🔭 ecsundo discover: 1 cluster\n\n")
    assert of(Outcome("discover", "x")) == (
        "### 🔭 ecsundo discover: 0 clusters\n\nMatching **x**\n\n"
        "| cluster | region |\n|---|---|\n\n"
    )


# -- the size budgets ------------------------------------------------------------------------


def filled(part: str, budget: int, row: int) -> None:
    """part fills budget less the note's room, and one row more would not have fitted."""
    size = len(part.encode())
    assert budget - NOTE_ROOM - row < size <= budget - NOTE_ROOM, (size, budget, row)


def test_a_table_fills_its_budget_exactly_and_not_one_byte_more() -> None:
    ids = ["s0", "s1", "s2"]
    # The oldest id shows last: it is the one a byte too many leaves out.
    size = len(list_summary(Outcome("list", "c", store="f", snapshots=ids)).encode()) - 1
    ids[0] += "x" * (LIMIT - NOTE_ROOM - size)
    exact = list_summary(Outcome("list", "c", store="f", snapshots=ids))
    assert len(exact.encode()) - 1 == LIMIT - NOTE_ROOM and "not shown" not in exact
    assert exact.endswith(f"| {ids[0]} |\n\n")
    ids[0] += "x"
    over = list_summary(Outcome("list", "c", store="f", snapshots=ids))
    assert over.endswith("| s2 |\n| s1 |\n" + table_note(1) + "\n")


def test_a_long_heading_and_the_notes_count_against_the_whole_summary() -> None:
    services = [
        result(f"service-{i:05d}-" + "x" * 150, Status.FAILED, message="m" * 100)
        for i in range(3000)
    ]
    outcome = Outcome("restore", "c" * 4000, services=services, warnings=["w" * 300] * 200)
    text = run_summary(outcome)
    head, rest = text.split(HEADER)
    table, notes = rest.split("\n**Warnings**")
    rows = table.split("\n_")[0]
    shown = rows.count("\n")
    row = len(rows.splitlines(keepends=True)[0].encode())
    assert table == rows + table_note(3000 - shown)
    filled(head + HEADER + rows + "\n**Warnings**" + notes[:-1], LIMIT, row)
    assert len(text.encode()) <= LIMIT

    # Needs attention, first, has a quarter of the summary.
    attention = "\n**Needs attention**" + head.split("\n**Needs attention**")[1].split("- _")[0]
    next_step = "run again: only what is not yet right is changed"
    line = len(f"- ❌ **{services[0].name}**: {'m' * 100} — next: {next_step}\n".encode())
    filled(attention, LIMIT // 4, line)
    assert head.endswith(section_note(3000 - attention.count("- ❌")) + "\n")

    warnings = notes.split("- _")[0]
    filled("\n**Warnings**" + warnings, LIMIT // 16, len(f"- {'w' * 300}\n"))
    assert notes.endswith(section_note(200 - warnings.count("- w")) + "\n")


def test_the_uncovered_section_has_its_own_budget() -> None:
    outcome = Outcome(
        "restore", "prod", services=[result("web", Status.SUCCESS)], uncovered=["u" * 250] * 300
    )
    text = run_summary(outcome)
    title = "\n**Not in this snapshot (left as they are)**\n\n"
    section = title + text.split(title)[1].split("- _")[0]
    filled(section, LIMIT // 16, len(f"- {'u' * 250}\n"))
    assert text.endswith(section_note(300 - section.count("- u")) + "\n")


def test_the_collapsed_table_has_its_own_budget() -> None:
    quiet = [result(f"q{i:03d}-" + "q" * 1000, Status.UNCHANGED) for i in range(100)]
    text = run_summary(Outcome("restore", "prod", services=[result("a", Status.SUCCESS), *quiet]))
    folded = text.split("</summary>\n\n")[1]
    rows = folded.split("\n_")[0]
    shown = rows.count("\n| q")
    filled(rows, LIMIT // 8, len(rows.splitlines(keepends=True)[-1].encode()))
    assert 0 < shown < 100
    assert folded.endswith(table_note(100 - shown) + "\n</details>\n\n")


def test_a_snapshot_summary_counts_its_heading_and_warnings_against_the_limit() -> None:
    records = tuple(
        ServiceRecord(
            f"svc-{i:05d}-" + "s" * 150,
            f"arn:aws:ecs:us-east-1:123456789012:service/prod/svc{i}",
            TD.format(f"svc{i:05d}:1"),
            1,
            images=(ContainerImage("app", f"shop/svc:{i:05d}"),),
        )
        for i in range(4000)
    )
    outcome = Outcome(
        "snapshot",
        "c" * 4000,
        snapshot=snapshot(services=records),
        snapshot_uri="file:///x",
        warnings=["w" * 300] * 200,
    )
    text = snapshot_summary(outcome)
    _, rest = text.split("| service | task definition | images |\n|---|---|---|\n")
    table, notes = rest.split("\n**Warnings**")
    rows = table.split("\n_")[0]
    row = len(rows.splitlines(keepends=True)[0].encode())
    note = table_note(4000 - rows.count("\n"))
    closing = "\n</details>\n"  # more than 10 services: folded
    assert table == rows + note + closing
    filled(text.replace(note, "", 1)[:-1], LIMIT - len(closing), row)
    assert len(text.encode()) <= LIMIT
    warnings = "\n**Warnings**" + notes.split("- _")[0]
    filled(warnings, LIMIT // 16, len(f"- {'w' * 300}\n"))
    assert notes.endswith(section_note(200 - warnings.count("- w")) + "\n")


def test_a_discover_summary_counts_its_heading_against_the_limit() -> None:
    found = [
        {"cluster": f"cluster-{i:05d}-" + "c" * 200, "region": "eu-west-1"} for i in range(5000)
    ]
    text = discover_summary(Outcome("discover", "p" * 5000, clusters=found))
    rows = text.split("| cluster | region |\n|---|---|\n")[1].split("\n_")[0]
    note = table_note(5000 - rows.count("\n"))
    assert text.endswith(rows + note + "\n")
    filled(text[: -len(note + "\n")], LIMIT, len(rows.splitlines(keepends=True)[0].encode()))
    assert len(text.encode()) <= LIMIT


DIGEST = "sha256:" + "9f3c" * 16
OTHER = "sha256:" + "26a1" * 16


@dataclass
class Block:
    """A fenced code block as rendered: <pre lang="..."><code>text</code></pre>."""

    lang: str | None
    text: str
    folded: bool  # inside a <details>


class Page(HTMLParser):
    """The tags, links and table rows of a rendered summary, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.rows: list[list[str]] = []  # the cells of each <tr>
        self.text: list[str] = []
        self.prose: list[str] = []  # text outside code spans (where GitHub links mentions)
        self.code: list[str] = []  # each code span's text
        self.blocks: list[Block] = []
        self._cell: list[str] | None = None
        self._in_code = False
        self._in_pre = False
        self._details = 0  # how many <details> are open
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "details":
            self._details += 1
        if tag == "pre":
            self._in_pre = True
            self.blocks.append(Block(dict(attrs).get("lang"), "", self._details > 0))
        if tag == "code":
            self._in_code = True
            self.code.append("")
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._details -= 1
        if tag == "pre":
            self._in_pre = False
        if tag == "code":
            self._in_code = False
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_pre:
            self.blocks[-1].text += data
        if self._in_code:
            self.code[-1] += data
        else:
            self.prose.append(data)
        if self._cell is not None:
            self._cell.append(data)


def render(markdown: str) -> Page:
    return Page(
        cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    )


def row(
    name: str, status: Status, *, what: str = "", message: str = "", **images: str
) -> ServiceResult:
    return ServiceResult(
        name,
        "update",
        TD.format(f"{name}:2"),
        TD.format(f"{name}:1"),
        status,
        7.0,
        message,
        changed=status == Status.SUCCESS,
        before=(ContainerImage(name, images.get("before", f"acme/{name}:1.5.0"), OTHER),),
        after=(ContainerImage(name, images.get("after", f"acme/{name}:1.4.2"), DIGEST),),
        what=what or f"updated to {name}:1",
    )


def test_one_row_per_service_failures_first_with_images_and_words() -> None:
    outcome = Outcome(
        "restore",
        "prod",
        services=[
            row("api", Status.SUCCESS, what="re-registered api:1 as api:3"),
            row("web", Status.FAILED, message="rollout FAILED"),
            row("cron", Status.UNCHANGED, what="already on cron:1"),
        ],
        timings={"total": 42.4, "read": 3.1, "register": 1.0, "update": 2.2, "wait": 35.9},
    )
    page = render(run_summary(outcome))
    header, *body = page.rows
    assert header == ["service", "before", "after", "what happened", "result", "time"]
    assert [cells[0] for cells in body] == ["web", "api", "service", "cron"]  # then folded
    assert body[1] == [
        "api",
        "api:1.5.0",
        "api:1.4.2",
        "re-registered api:1 as api:3",
        "✅ success",
        "7s",
    ]
    assert "Took 42s: read 3s, register 1s, update 2s, wait 36s" in "".join(page.text)
    assert page.tags.count("details") == 1  # cron, folded: something changed
    # Where web is (its task definition and image, whole), then each row's images.
    assert page.code[:6] == [
        "web:2",
        f"acme/web:1.5.0@{OTHER}",
        *("web:1.5.0", "web:1.4.2", "api:1.5.0", "api:1.4.2"),
    ]


def test_the_same_tag_on_another_build_shows_the_short_digests() -> None:
    same = row("web", Status.SUCCESS, before="acme/web:latest", after="acme/web:latest")
    [_, cells] = render(run_summary(Outcome("restore", "prod", services=[same]))).rows
    assert cells[1:3] == ["web:latest (26a126a126a1)", "web:latest (9f3c9f3c9f3c)"]


def test_many_unchanged_services_fold_into_a_collapsed_section() -> None:
    services = [row("api", Status.SUCCESS)] + [
        row(f"quiet{i:02d}", Status.UNCHANGED, what="already there") for i in range(12)
    ]
    markdown = run_summary(Outcome("restore", "prod", services=services))
    page = render(markdown)
    assert page.tags.count("details") == 1 and "summary" in page.tags
    assert "12 services unchanged or skipped" in "".join(page.text)
    assert page.tags.count("table") == 2
    assert len(page.rows) == 2 + 13  # two headers, one row per service
    # Once anything changed, even one quiet service is folded; when nothing changed, ten or
    # fewer stay in the one table, under a line that says so, and no empty table is drawn.
    few = render(run_summary(Outcome("restore", "prod", services=services[:2])))
    assert few.tags.count("details") == 1 and len(few.rows) == 4
    calm = run_summary(Outcome("restore", "prod", services=services[1:11]))
    assert "details" not in render(calm).tags and render(calm).tags.count("table") == 1
    assert "Nothing to change: every service is where it should be." in calm
    crowd = render(run_summary(Outcome("restore", "prod", services=services[1:])))
    assert crowd.tags.count("details") == 1 and crowd.tags.count("table") == 1


HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](https://evil.example/x)",
    "![pixel](https://evil.example/p.png)",
    "https://evil.example/raw www.evil.example",
    "@octocat and @org/team",
    "| broken | table |",
    "line\n## heading\n<details>",
    "`code` *em* **strong** ~~gone~~ <!-- comment -->",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_anywhere_stays_inert(text: str) -> None:
    hostile = ServiceResult(
        text,
        "update",
        TD.format("web:2"),
        TD.format("web:1"),
        Status.FAILED,
        1.0,
        text,
        before=(ContainerImage("web", text),),
        after=(ContainerImage("web", text),),
        what=text,
    )
    outcome = Outcome("restore", text, services=[hostile], warnings=[text], uncovered=[text])
    page = render(run_summary(outcome))
    assert set(page.tags) <= {
        "h3",
        "p",
        "strong",
        "code",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "ul",
        "li",
    }
    assert page.links == []
    # GitHub links @name after a non-word character (or at the start) only.
    assert not re.search(r"(?<![A-Za-z0-9_])@\w", "".join(page.prose)), "no @mention"
    assert len(page.rows) == 2  # the header and the one service: the table held
    # The image is copied from its code span exactly as it was (blanks aside).
    assert " ".join(text.split()).rsplit("/", 1)[-1] in page.code


def test_the_cap_holds_and_still_renders_one_row_per_shown_service() -> None:
    services = [
        row(f"service-{i:05d}-" + "x" * 150, Status.FAILED, message="m" * 200) for i in range(4000)
    ]
    markdown = run_summary(Outcome("restore", "prod", services=services))
    assert len(markdown.encode()) <= LIMIT
    page = render(markdown)
    shown = len(page.rows) - 1
    assert 0 < shown < 4000 and f"{4000 - shown} more not shown" in "".join(page.text)


def test_a_dry_run_reads_as_a_plan_with_why_and_how_to_apply() -> None:
    planned = ServiceResult(
        "web",
        "update",
        TD.format("web:2"),
        TD.format("web:1"),
        Status.PLANNED,
        0.0,
        "web:1 is ACTIVE; serviceRegistries: none -> [...]",
        before=(ContainerImage("web", "acme/web:2"),),
        after=(ContainerImage("web", "acme/web:1"),),
        what="update to web:1",
    )
    outcome = Outcome(
        "restore",
        "prod",
        snapshot=snapshot("2026-12-07T14:58:00.000Z"),
        services=[planned, result("cron", Status.UNCHANGED, what="already on cron:1")],
        dry_run=True,
        timings={"total": 3.0, "read": 2.0},
        started_at=datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC),
    )
    markdown = run_summary(outcome)
    page = render(markdown)
    assert page.rows[0] == ["service", "now", "would run", "what would happen", "why"]
    assert page.rows[1] == [
        "web",
        "web:2",
        "web:1",
        "update to web:1",
        "web:1 is ACTIVE; serviceRegistries: none -> [...]",
    ]
    text = "".join(page.text)
    assert "Would restore from snapshot s1, taken 2026-12-07 14:58:00 UTC" in text
    assert "2 minutes before this restore" in text and "Took" not in text and "Started" not in text
    assert "ecsundo cluster restore prod --snapshot-id s1" in page.code
    assert "Needs attention" not in text


@pytest.mark.parametrize(
    ("region", "start"),
    [
        ("eu-central-1", "https://eu-central-1.console.aws.amazon.com/ecs/v2/clusters/"),
        ("cn-north-1", "https://cn-north-1.console.amazonaws.cn/ecs/v2/clusters/"),
        ("us-gov-west-1", "https://console.amazonaws-us-gov.com/ecs/v2/clusters/"),
    ],
)
def test_the_console_link_goes_to_the_service_in_its_region(region: str, start: str) -> None:
    url = console_url(region, "prod", "web")
    assert url == f"{start}prod/services/web/health?region={region}"


def test_a_code_span_copies_exactly_whatever_it_holds() -> None:
    for text in ["acme/web@sha256:" + "a" * 64, "a`b``c", "`edge`", "x | y"]:
        [held] = render(code(text)).code
        assert held == text
    [cell] = render("| a |\n|---|\n| " + code("x | y", table=True) + " |\n").code
    assert cell == "x | y"


def test_a_snapshot_summary_says_how_to_use_it_and_names_the_registry_once() -> None:
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    records = tuple(
        ServiceRecord(
            f"svc{i:02d}",
            f"arn:aws:ecs:us-east-1:123456789012:service/prod/svc{i:02d}",
            TD.format(f"svc{i:02d}:1"),
            1,
            images=(ContainerImage("app", f"{ecr}/shop/svc{i:02d}:1.0", DIGEST),),
        )
        for i in range(12)
    )
    outcome = Outcome(
        "snapshot",
        "prod",
        snapshot=snapshot(services=records),
        snapshot_uri="file:///runner/tmp/ecsundo/x/s1.json",
        store="file:///runner/tmp/ecsundo",
    )
    page = render(snapshot_summary(outcome))
    text = "".join(page.text)
    assert "A folder store lasts as long as its folder" in text  # this job only, by default
    assert "ecsundo cluster restore prod --snapshot-id s1 --store file:///runner/tmp/ecsundo" in (
        page.code
    )
    assert "mode: restore" in text and "snapshot-id: s1" in text  # the ready step
    assert ecr in page.code and "shop/svc00:1.0" in page.code  # the registry named once
    assert page.tags.count("details") == 1  # 12 rows, folded


def test_a_digest_in_a_sentence_copies_exactly() -> None:
    """A gone build's reference in the needs-attention line and the row: the text a person
    selects is the reference, with no zero-width character in it."""
    gone = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@{DIGEST}"
    failed = row("web", Status.FAILED, message=f"{gone} no longer exists in ECR")
    page = render(run_summary(Outcome("restore", "prod", services=[failed])))
    text = "".join(page.text)
    assert "\u200b" not in text
    assert f"{gone.split('://')[-1]} no longer exists" in text.replace("&#58;", ":")


# -- the timeline (a Mermaid gantt) --------------------------------------------------------------

T0 = datetime(2026, 12, 7, 15, 2, 11, tzinfo=UTC)


def changed(
    name: str,
    start: float = 0.0,
    rollout: float = 20.0,
    *,
    status: Status = Status.SUCCESS,
    staged: bool = False,
    register: bool = True,
) -> ServiceResult:
    """A changed service whose change began start seconds after T0: registered (0.4 s),
    updated (0.2 s), then rolled out for `rollout` seconds."""

    def span(phase: Phase, began: float, seconds: float) -> Span:
        at = T0 + timedelta(seconds=start + began)
        return Span(phase, at, at + timedelta(seconds=seconds))

    spans = (span(Phase.REGISTER, 0.0, 0.4),) if register else ()
    spans += (span(Phase.UPDATE, 0.5, 0.2), span(Phase.ROLLOUT, 0.7, rollout))
    return replace(
        row(name, status), changed=True, seconds=0.7 + rollout, spans=spans, staged=staged
    )


def timelines(services: list[ServiceResult], **fields: Any) -> list[Block]:
    """The Mermaid blocks of the run summary of these services, as GitHub renders it."""
    page = render(run_summary(Outcome("restore", "prod", services=services, **fields)))
    return [block for block in page.blocks if block.lang == "mermaid"]


@pytest.mark.parametrize(
    ("services", "drawn"),
    [
        ([changed(f"s{i}", i) for i in range(4)], False),  # four quick rollouts: read the table
        ([changed(f"s{i}", i) for i in range(5)], True),  # five changed
        ([changed("api", staged=True)], True),  # a blue/green, linear or canary rollout
        ([changed("api", rollout=61.0)], True),  # a rollout over a minute
        ([changed("api", rollout=60.0)], False),  # a minute is not over a minute
        # Five rows, four of them changed: it is the changed that count.
        ([changed(f"s{i}", i) for i in range(4)] + [row("cron", Status.UNCHANGED)], False),
    ],
)
def test_a_timeline_is_drawn_only_where_it_is_faster_than_reading(
    services: list[ServiceResult], drawn: bool
) -> None:
    blocks = timelines(services)
    assert len(blocks) == (1 if drawn else 0)
    if drawn:
        [block] = blocks
        assert block.folded and block.text.startswith("gantt\n")


def test_a_dry_run_draws_no_timeline() -> None:
    # A plan changed nothing: whatever a row carries, there is nothing to draw.
    assert timelines([changed(f"s{i}", i) for i in range(6)], dry_run=True) == []


TASK = re.compile(
    r"(?P<phase>register|update|rollout|rollout \(staged\)) :(?P<crit>crit, )?"
    r"(?P<began>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}), "
    r"(?P<ended>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})"
)


def sections(text: str) -> list[tuple[str, list[re.Match[str]]]]:
    """Each section of a gantt and its tasks, every task line as Mermaid's grammar reads it."""
    found: list[tuple[str, list[re.Match[str]]]] = []
    for line in text.splitlines()[3:]:
        if line.startswith("section "):
            found.append((line.removeprefix("section "), []))
            continue
        task = TASK.fullmatch(line)
        assert task is not None, line
        found[-1][1].append(task)
    return found


def test_the_timeline_draws_each_service_s_phases_in_order_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    late = changed("late", 3.0, 45.0, status=Status.FAILED)
    plain = changed("plain", 1.0, register=False)
    # Times given in another zone are drawn in UTC, as the rest of the summary tells them.
    plain = replace(
        plain, spans=tuple(replace(s, began=s.began.astimezone(tokyo)) for s in plain.spans)
    )
    services = [late, changed("first", 0.0, 90.0, staged=True), plain]
    services += [changed(f"s{i}", 2.0 + i / 10) for i in range(3)]
    [block] = timelines(services)
    lines = block.text.splitlines()
    # Seconds-scale times, written as UTC and read back as written (the axis shows UTC).
    assert lines[:3] == ["gantt", "dateFormat YYYY-MM-DD HH:mm:ss.SSS", "axisFormat %H:%M:%S"]
    drawn = sections(block.text)
    # One section per service, in the order their changes began (not the table's).
    assert [name for name, _ in drawn] == ["first", "plain", "s0", "s1", "s2", "late"]
    tasks = dict(drawn)
    assert [t["phase"] for t in tasks["first"]] == ["register", "update", "rollout (staged)"]
    assert [t["phase"] for t in tasks["plain"]] == ["update", "rollout"]
    assert tasks["plain"][0]["began"] == "2026-12-07 15:02:12.500"
    assert [t["began"] for t in tasks["late"]] == [
        "2026-12-07 15:02:14.000",
        "2026-12-07 15:02:14.500",
        "2026-12-07 15:02:14.700",
    ]
    assert tasks["late"][-1]["ended"] == "2026-12-07 15:02:59.700"
    for _, service in drawn:  # each phase ends before the next begins
        moments = [m for t in service for m in (t["began"], t["ended"])]
        assert moments == sorted(moments)
    # The failed rollout, and only it, is critical.
    crit = [(name, t["phase"]) for name, service in drawn for t in service if t["crit"]]
    assert crit == [("late", "rollout")]


def test_a_rollout_that_could_not_start_marks_the_update_that_failed() -> None:
    refused = changed("api", status=Status.FAILED)
    refused = replace(refused, spans=refused.spans[:2])  # registered, then the update failed
    services = [refused] + [changed(f"s{i}", i) for i in range(4)]
    [block] = timelines(services)
    tasks = dict(sections(block.text))
    assert [(t["phase"], bool(t["crit"])) for t in tasks["api"]] == [
        ("register", False),
        ("update", True),
    ]


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("web:1#x;y", "web_1_x_y"),  # `:` ends a task's name, `#` a comment, `;` a statement
        ("a %% b", "a____b"),  # %% starts a comment
        ("<b>click</b>", "_b_click__b_"),
        ("svc_01-blue.v2", "svc_01-blue.v2"),  # what ECS allows, kept
        ("x" * 300, "x" * 100),
    ],
)
def test_a_service_name_reaches_mermaid_as_plain_text(name: str, shown: str) -> None:
    services = [changed(name, staged=True)]
    [block] = timelines(services)
    assert sections(block.text)[0][0] == shown


def test_at_most_fifty_services_are_drawn_and_those_that_need_attention_first() -> None:
    services = [changed(f"s{i:02d}", i) for i in range(60)]
    services.append(changed("broken", 99.0, status=Status.FAILED))
    markdown = run_summary(Outcome("restore", "prod", services=services))
    page = render(markdown)
    [block] = [b for b in page.blocks if b.lang == "mermaid"]
    drawn = [name for name, _ in sections(block.text)]
    assert len(drawn) == 50 and drawn[-1] == "broken"  # started last, failed: kept
    assert drawn[:49] == [f"s{i:02d}" for i in range(49)]
    text = "".join(page.text)
    assert "Timeline (UTC): register, update and rollout of 50 services" in text
    assert "11 more services not drawn: the table lists them." in text
    # The timeline comes after the changed services' table, folded like the quiet rows.
    assert markdown.index("| broken |") < markdown.index("```mermaid")


# -- the rendered examples under docs/ ------------------------------------------------------------


def test_the_examples_under_docs_are_what_the_code_renders_now() -> None:
    made = summaries.examples()
    for name, text in made.items():
        committed = (summaries.FOLDER / name).read_text()
        assert committed == text, f"stale docs/examples/{name}: run make readme"
    assert sorted(p.name for p in summaries.FOLDER.glob("*.md")) == sorted(made)


def test_each_example_shows_what_it_is_there_for() -> None:
    pages = {name: render(text) for name, text in summaries.examples().items()}
    texts = {name: "".join(page.text) for name, page in pages.items()}
    assert not any(summaries.SECRET in text for text in summaries.examples().values())
    # A partial failure: what needs attention before the table, each with its console link.
    failure = texts["partial-failure.md"]
    assert failure.index("Needs attention") < failure.index("what happened")
    links = [link for link in pages["partial-failure.md"].links if "console" in link]
    assert len(links) == 4  # api, worker, billing, reports
    # The six-service restore draws its timeline, folded; the plan and the snapshot do not.
    timeline = [b for b in pages["restore-timeline.md"].blocks if b.lang == "mermaid"]
    assert len(timeline) == 1 and timeline[0].folded
    assert len(sections(timeline[0].text)) == 6 and "rollout (staged)" in timeline[0].text
    for name in ("dry-run.md", "snapshot.md"):
        assert [b.lang for b in pages[name].blocks if b.lang == "mermaid"] == []
    assert "To apply this plan" in texts["dry-run.md"]
    assert "To restore it" in texts["snapshot.md"]


def test_a_gone_build_s_next_step_is_said_once() -> None:
    gone = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@" + DIGEST
    why = (because(Why.IMAGE_GONE, image=gone), because(Why.IMAGE_GONE_NEXT))
    failed = replace(row("web", Status.FAILED, message=say(why)), why=why)
    summary = run_summary(Outcome("restore", "prod", services=[failed]))
    [line] = [line for line in summary.splitlines() if line.startswith("- ❌ **web**")]
    assert line.count("push that build again") == 1 and "no longer exists in ECR" in line
