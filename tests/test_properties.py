"""Property-based checks of the two places where arbitrary text meets the runner: the
output writer (heredoc with a random delimiter) and the summary's Markdown escaper."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecsundo_action.edges.runner import Runner
from ecsundo_action.render.markdown import escape, run_summary
from ecsundo_action.result import Outcome, ServiceResult, Status
from tests.runner import parse_file_commands

# Text biased toward what breaks things: newlines, workflow commands, heredoc look-alikes.
NASTY = st.sampled_from(
    [
        "\n",
        "\r\n",
        "\r",
        "::error::",
        "::set-output name=x::",
        "ghadelimiter_",
        "<<",
        "EOF",
        "%0A",
        "|",
        "`",
        "<script>",
        "@org/team",
        "https://x.io",
        "]",
        "[",
        "*",
        "_",
    ]
)
TEXT = st.lists(st.one_of(st.text(), NASTY), max_size=12).map("".join)
# Outputs never hold a carriage return (JSON escapes it; set_output refuses it raw).
NO_CR = TEXT.map(lambda text: text.replace("\r", ""))


@settings(max_examples=300, deadline=None)
@given(value=NO_CR, other=NO_CR)
def test_outputs_read_back_exactly_as_set(
    tmp_path_factory: pytest.TempPathFactory, value: str, other: str
) -> None:
    path: Path = tmp_path_factory.mktemp("out") / "output"
    path.write_text("")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_OUTPUT", str(path))
        Runner.set_output("services", value)
        Runner.set_output("result", other)
    # The runner's heredoc rules give back exactly these two outputs, unchanged: no text can
    # end the heredoc early or add an output.
    with open(path, encoding="utf-8", newline="") as written:
        assert parse_file_commands(written.read()) == {"services": value, "result": other}


@settings(max_examples=500, deadline=None)
@given(text=TEXT)
def test_escaped_text_renders_as_plain_text(text: str) -> None:
    out = escape(text)
    assert "\n" not in out and "\r" not in out
    assert "<" not in out and ">" not in out
    # No @mention: after a non-word character (where GitHub links one) a zero-width space
    # follows; after a word character GitHub links none, and nothing is added.
    assert not re.search("(?<![A-Za-z0-9_])@(?!\u200b)", out.replace("\\_", "_"))
    assert not re.search(r"(?<!\\)[|`*_\[\]]", out)
    assert "://" not in out


@settings(max_examples=200, deadline=None)
@given(name=TEXT, message=TEXT)
def test_a_summary_row_always_has_six_cells(name: str, message: str) -> None:
    result = Outcome(
        "restore",
        "prod",
        services=[ServiceResult(name, "update", None, None, Status.FAILED, 1.0, message)],
    )
    rows = [line for line in run_summary(result).splitlines() if line.startswith("| ")]
    header, row = rows[0], rows[1]
    pipes = len(re.findall(r"(?<!\\)\|", header))
    assert len(re.findall(r"(?<!\\)\|", row)) == pipes == 7
