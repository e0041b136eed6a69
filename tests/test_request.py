"""One Request whichever edge built it: the CLI's arguments and the action's inputs mean the
same thing, option by option, with the same defaults and the same checks."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import yaml

from ecsundo_action.edges import cli
from ecsundo_action.edges.action import read_inputs
from ecsundo_action.errors import InputError
from ecsundo_action.request import OPTIONS, Mode, Request
from tests.runner import ROOT

ENVIRON: dict[str, str] = {}

# Each CLI command and the action inputs that mean the same.
COMMANDS: list[tuple[list[str], dict[str, str]]] = [
    (["cluster", "snapshot", "prod"], {"mode": "snapshot"}),
    (["cluster", "restore", "prod"], {"mode": "restore", "snapshot-id": "latest"}),
    (["cluster", "prod"], {"mode": "rollback"}),
    (["service", "-c", "prod", "web"], {"mode": "rollback", "services": "web"}),
    (["snapshots", "-c", "prod"], {"mode": "list"}),
    (["clusters", "prod"], {"mode": "discover"}),
]

# Each option: a value other than its default, as the CLI writes it and as the action does.
VALUES: dict[str, tuple[list[str], str]] = {
    "services": (["--services", "web,api-*"], "web\napi-*"),
    "snapshot_id": (["--snapshot-id", "before-v2"], "before-v2"),
    "store": (
        ["--store", "s3://my-bucket/ecsundo?kms-key-id=alias/k"],
        "s3://my-bucket/ecsundo?kms-key-id=alias/k",
    ),
    "region": (["--region", "eu-west-3"], "eu-west-3"),
    "wait": (["--no-wait"], "false"),
    "timeout_minutes": (["--timeout", "42.5"], "42.5"),
    "dry_run": (["--dry-run"], "true"),
    "restore_desired_count": (["--restore-desired-count"], "true"),
    "max_concurrency": (["--max-concurrency", "16"], "16"),
    "since_minutes": (["--since", "0"], "0"),
    "scope": (["--scope", "task-definition"], "Task-Definition"),
    "pin_images": (["--pin-images", "never"], "never"),
    "regions": (["--regions", "eu-west-1,us-east-1"], "eu-west-1, us-east-1"),
    "full": (["--full"], "true"),
}

# Each option: a bad value, for the CLI and the action.
BAD: dict[str, tuple[list[str], str]] = {
    "services": (["--services", "web;rm"], "web;rm"),
    "snapshot_id": (["--snapshot-id", "../x"], "../x"),
    "store": (["--store", "ftp://x"], "ftp://x"),
    "region": (["--region", "mars-1"], "mars-1"),
    "timeout_minutes": (["--timeout", "soon"], "soon"),
    "max_concurrency": (["--max-concurrency", "2.5"], "2.5"),
    "since_minutes": (["--since", "-5"], "-5"),
    "scope": (["--scope", "cluster"], "cluster"),
    "pin_images": (["--pin-images", "yes"], "yes"),
}


def from_cli(argv: list[str]) -> Request:
    return cli.request_from(cli._parser().parse_args(argv), ENVIRON)


def from_action(inputs: Mapping[str, str]) -> Request:
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    given = {name: str(spec.get("default", "")) for name, spec in declared.items()}
    given.update(inputs, cluster="prod")
    return read_inputs(lambda name: given[name], ENVIRON)


def test_every_shared_option_is_declared_for_both_edges() -> None:
    declared = yaml.safe_load((ROOT / "action.yml").read_text())["inputs"]
    shared = [o for o in OPTIONS if o.input and o.flag]
    assert {o.field for o in shared} == set(VALUES)
    for option in OPTIONS:
        if option.input:  # action.yml's default is the one declared in request.py
            assert str(declared[option.input].get("default", "")) == option.default, option


@pytest.mark.parametrize(("argv", "inputs"), COMMANDS, ids=lambda c: str(c))
def test_defaults_are_the_same(argv: list[str], inputs: dict[str, str]) -> None:
    assert from_cli(argv) == from_action(inputs)


def _takes(argv: list[str], field: str) -> bool:
    fields = {
        "cluster": cli.CLUSTER_OPTIONS,
        "service": cli.SERVICE_OPTIONS,
        "clusters": cli.DISCOVER_OPTIONS,
    }
    return field in fields.get(argv[0], cli.LIST_OPTIONS)


CASES = [
    (argv, inputs, field) for argv, inputs in COMMANDS for field in VALUES if _takes(argv, field)
]


@pytest.mark.parametrize(("argv", "inputs", "field"), CASES)
def test_each_option_means_the_same_at_both_edges(
    argv: list[str], inputs: dict[str, str], field: str
) -> None:
    flags, text = VALUES[field]
    option = next(o for o in OPTIONS if o.field == field)
    cli_request = from_cli([*argv, *flags])
    action_request = from_action({**inputs, str(option.input): text})
    assert cli_request == action_request
    if field != "snapshot_id" or cli_request.mode is not Mode.ROLLBACK:
        assert getattr(cli_request, field) != getattr(from_cli(argv), field), "the value counts"


@pytest.mark.parametrize("field", sorted(BAD))
def test_each_check_is_the_same_at_both_edges(field: str) -> None:
    flags, text = BAD[field]
    option = next(o for o in OPTIONS if o.field == field)
    with pytest.raises(InputError) as at_cli:
        from_cli(["cluster", "restore", "prod", *flags])
    with pytest.raises(InputError) as at_action:
        from_action({"mode": "restore", str(option.input): text})
    said_cli, said_action = str(at_cli.value), str(at_action.value)
    assert str(option.flag) in said_cli and f"input '{option.input}'" in said_action
    # The same reason, each naming the option in its own syntax.
    assert said_cli.replace(str(option.flag), "X") == said_action.replace(
        f"input '{option.input}'", "X"
    )


def test_the_one_documented_difference_an_empty_snapshot_id() -> None:
    """The action's restore needs snapshot-id (an empty step output must not mean "the
    newest"); the CLI without --snapshot-id means latest, as the original tool did."""
    assert from_cli(["cluster", "restore", "prod"]).snapshot_id == "latest"
    with pytest.raises(InputError, match="input 'snapshot-id': required for restore"):
        from_action({"mode": "restore", "snapshot-id": ""})
    with pytest.raises(InputError, match="step output it names is empty"):
        from_action({"mode": "restore", "snapshot-id": "  "})


@pytest.mark.parametrize("mode", [" Restore ", "RESTORE", "restore\n"])
def test_mode_is_trimmed_and_case_insensitive(mode: str) -> None:
    assert from_action({"mode": mode, "snapshot-id": "latest"}).mode is Mode.RESTORE


def test_discover_takes_a_pattern_and_checks_regions_the_same_at_both_edges() -> None:
    assert from_cli(["clusters", "prod-*"]).cluster == "prod-*"
    with pytest.raises(InputError) as at_cli:
        from_cli(["clusters", "prod", "--regions", "eu-west-1,mars-1"])
    with pytest.raises(InputError) as at_action:
        from_action({"mode": "discover", "regions": "eu-west-1, mars-1"})
    assert str(at_cli.value).replace("--regions", "X") == str(at_action.value).replace(
        "input 'regions'", "X"
    )
    assert "expected an AWS region such as eu-west-1, got 'mars-1'" in str(at_cli.value)
    with pytest.raises(InputError, match="expected a cluster name or a glob pattern"):
        from_cli(["clusters", "prod/*"])
