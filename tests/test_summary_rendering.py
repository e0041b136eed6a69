"""The job summary as GitHub renders it: through cmark-gfm (GitHub's Markdown engine, with
its extensions, and raw HTML let through as the strictest case), then read as HTML. One table
row per service, failures first, hostile text still inert, and a collapsed section for many
unchanged services."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options

from ecsundo_action.aws.records import ContainerImage
from ecsundo_action.render.markdown import LIMIT, run_summary
from ecsundo_action.result import Outcome, ServiceResult, Status

TD = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}"
DIGEST = "sha256:" + "9f3c" * 16
OTHER = "sha256:" + "26a1" * 16


class Page(HTMLParser):
    """The tags, links and table rows of a rendered summary, and its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.rows: list[list[str]] = []  # the cells of each <tr>
        self.text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
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
    assert [cells[0] for cells in body] == ["web", "api", "cron"]  # failed, changed, the rest
    assert body[1] == [
        "api",
        "api:1.5.0",
        "api:1.4.2",
        "re-registered api:1 as api:3",
        "✅ success",
        "7s",
    ]
    assert "Took 42s: read 3s, register 1s, update 2s, wait 36s" in "".join(page.text)
    assert "details" not in page.tags


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
    # ten or fewer stay in the one table
    few = render(run_summary(Outcome("restore", "prod", services=services[:11])))
    assert "details" not in few.tags and len(few.rows) == 12


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
    assert not re.search(r"@\w", "".join(page.text)), "no @mention can be made"
    assert len(page.rows) == 2  # the header and the one service: the table held


def test_the_cap_holds_and_still_renders_one_row_per_shown_service() -> None:
    services = [
        row(f"service-{i:05d}-" + "x" * 150, Status.FAILED, message="m" * 200) for i in range(4000)
    ]
    markdown = run_summary(Outcome("restore", "prod", services=services))
    assert len(markdown.encode()) <= LIMIT
    page = render(markdown)
    shown = len(page.rows) - 1
    assert 0 < shown < 4000 and f"{4000 - shown} more not shown" in "".join(page.text)
