"""One Request whichever edge built it: the CLI's arguments and the action's inputs mean the
same thing, option by option, with the same defaults and the same checks.

Request building word for word: each option's parsed value, its default, the bounds of
each number (inclusive at both ends), and the exact one-line message for each bad input,
naming the input in the edge's own spelling (action input or CLI flag).

The option parsers are also called directly: request.OPTIONS is built once, at import, so
a check of _number or _choice themselves needs a parser made in the test."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import pytest
import yaml

from ecsundo_action.edges import cli
from ecsundo_action.edges.action import read_inputs
from ecsundo_action.errors import InputError
from ecsundo_action.plan import PinImages, Scope
from ecsundo_action.request import (
    OPTIONS,
    Mode,
    Request,
    _choice,
    _default,
    _number,
    build,
    parse_mode,
)
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
    "signing_key": (["--signing-key", "alias/ecsundo-snapshots"], " alias/ecsundo-snapshots "),
    "scheduled_tasks": (["--scheduled-tasks", "nightly,reports/*"], "nightly\nreports/*"),
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
    "signing_key": (["--signing-key", "my-key"], "my-key"),
    "scheduled_tasks": (["--scheduled-tasks", "night ly"], "night ly"),
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
    if argv[0] == "cluster":  # each cluster command takes only its own options
        mode = cli.VERBS.get(argv[1], Mode.ROLLBACK)
        if mode not in cli.ONLY_FOR.get(field, (mode,)):
            return False
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
    assert getattr(cli_request, field) != getattr(from_cli(argv), field), "the value counts"


@pytest.mark.parametrize("field", sorted(BAD))
def test_each_check_is_the_same_at_both_edges(field: str) -> None:
    flags, text = BAD[field]
    option = next(o for o in OPTIONS if o.field == field)
    mode = "rollback" if field == "since_minutes" else "restore"
    with pytest.raises(InputError) as at_cli:
        from_cli(["cluster", *(["restore"] if mode == "restore" else []), "prod", *flags])
    with pytest.raises(InputError) as at_action:
        from_action({"mode": mode, str(option.input): text})
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


ARN = "arn:aws:ecs:us-east-1:123456789012:cluster/prod"
LONG = "y" * 60  # longer than the 40 characters an error message quotes


def action(
    given: Mapping[str, str | None], mode: Mode = Mode.RESTORE, cluster: str = "prod"
) -> Request:
    return build(mode, cluster, {"snapshot_id": "latest", **given}, edge="action", environ={})


def cli_request(
    given: Mapping[str, str | None], mode: Mode = Mode.RESTORE, cluster: str = "prod"
) -> Request:
    return build(mode, cluster, dict(given), edge="cli", environ={})


def refused(edge: str, given: Mapping[str, str | None], mode: Mode = Mode.RESTORE) -> str:
    with pytest.raises(InputError) as caught:
        (action if edge == "action" else cli_request)(given, mode)
    return str(caught.value)


# -- defaults -------------------------------------------------------------------------------

DEFAULTS: dict[str, object] = {
    "services": None,
    "region": None,
    "wait": True,
    "timeout_minutes": 15.0,
    "dry_run": False,
    "restore_desired_count": False,
    "max_concurrency": 8,
    "since_minutes": 60.0,
    "scope": Scope.SERVICE,
    "pin_images": PinImages.AUTO,
    "poll_interval": 6.0,
    "regions": None,
    "full": False,
    "snapshot_id": None,
    "store": "",
}


def test_nothing_given_means_every_default() -> None:
    built = build(Mode.SNAPSHOT, "prod", {}, edge="action", environ={})
    assert built == Request(
        mode=Mode.SNAPSHOT,
        cluster="prod",
        services=None,
        snapshot_id=None,
        store="file://.ecsundo",
        region=None,
        wait=True,
        timeout_minutes=15.0,
        dry_run=False,
        restore_desired_count=False,
        max_concurrency=8,
        since_minutes=60.0,
        scope="service",
        pin_images="auto",
        poll_interval=6.0,
        regions=None,
        full=False,
    )
    assert type(built.max_concurrency) is int and type(built.timeout_minutes) is float
    assert built.timeout_seconds == 900.0


def test_blank_or_none_means_the_default_too() -> None:
    blank = {option.field: "  \n" for option in OPTIONS}
    assert cli_request(blank, Mode.SNAPSHOT) == cli_request({k: None for k in blank}, Mode.SNAPSHOT)
    assert cli_request(blank, Mode.SNAPSHOT) == build(
        Mode.SNAPSHOT, "prod", {}, edge="cli", environ={}
    )


@pytest.mark.parametrize("field", [f for f in DEFAULTS if f not in ("snapshot_id", "store")])
def test_each_default_parsed_from_its_declared_text(field: str) -> None:
    value = _default(field)
    assert value == DEFAULTS[field] and type(value) is type(DEFAULTS[field])
    assert getattr(Request(Mode.LIST, "prod"), field) == value


def test_the_default_store_follows_the_environment() -> None:
    inside = {"GITHUB_ACTIONS": "true", "RUNNER_TEMP": "/home/runner/work/_temp/"}
    built = build(Mode.SNAPSHOT, "prod", {"store": " "}, edge="cli", environ=inside)
    assert built.store == "file:///home/runner/work/_temp/ecsundo"
    given = build(Mode.SNAPSHOT, "prod", {"store": "file:///x"}, edge="cli", environ=inside)
    assert given.store == "file:///x"


# -- each option's value --------------------------------------------------------------------

PARSED: list[tuple[str, str, object]] = [
    ("services", "web\napi-*, web", ("web", "api-*")),
    ("region", " eu-west-3 ", "eu-west-3"),
    ("region", "eusc-de-east-1", "eusc-de-east-1"),
    ("wait", "false", False),
    ("wait", "FALSE", False),
    ("wait", "False", False),
    ("wait", "true", True),
    ("dry_run", "true", True),
    ("dry_run", "True", True),
    ("dry_run", "TRUE", True),
    ("dry_run", "false", False),
    ("restore_desired_count", "true", True),
    ("full", "true", True),
    ("timeout_minutes", "42.5", 42.5),
    ("timeout_minutes", "0.1", 0.1),
    ("timeout_minutes", "360", 360.0),
    ("max_concurrency", "16", 16),
    ("max_concurrency", "16.0", 16),
    ("max_concurrency", "1", 1),
    ("max_concurrency", "64", 64),
    ("since_minutes", "0", 0.0),
    ("since_minutes", "525600", 525600.0),
    ("poll_interval", "0.01", 0.01),
    ("poll_interval", "300", 300.0),
    ("scope", " Task-Definition ", Scope.TASK_DEFINITION),
    ("scope", "SERVICE", Scope.SERVICE),
    ("pin_images", "ALWAYS", PinImages.ALWAYS),
    ("pin_images", "never", PinImages.NEVER),
    ("regions", "eu-west-1, us-east-1\neu-west-1,,", ("eu-west-1", "us-east-1")),
]


@pytest.mark.parametrize(("field", "text", "value"), PARSED)
def test_each_option_value(field: str, text: str, value: object) -> None:
    for edge in (cli_request, action):
        got = getattr(edge({field: text}), field)
        assert got == value and type(got) is type(value), edge


# -- each bad value, word for word at both edges ----------------------------------------------

REFUSED: list[tuple[str, str, str]] = [
    ("wait", "yes", "expected true or false, got 'yes'"),
    ("wait", "1", "expected true or false, got '1'"),
    ("dry_run", "tRUE", "expected true or false, got 'tRUE'"),
    ("wait", LONG, f"expected true or false, got '{'y' * 40}'"),
    ("timeout_minutes", "soon", "expected a number, got 'soon'"),
    ("timeout_minutes", LONG, f"expected a number, got '{'y' * 40}'"),
    ("timeout_minutes", "0.09", "expected a number from 0.1 to 360, got '0.09'"),
    ("timeout_minutes", "360.01", "expected a number from 0.1 to 360, got '360.01'"),
    ("timeout_minutes", "nan", "expected a number from 0.1 to 360, got 'nan'"),
    ("timeout_minutes", "inf", "expected a number from 0.1 to 360, got 'inf'"),
    ("max_concurrency", "0", "expected a whole number from 1 to 64, got '0'"),
    ("max_concurrency", "65", "expected a whole number from 1 to 64, got '65'"),
    ("max_concurrency", "2.5", "expected a whole number, got '2.5'"),
    ("max_concurrency", "many", "expected a whole number, got 'many'"),
    ("since_minutes", "-5", "expected a number from 0 to 525600, got '-5'"),
    ("since_minutes", "525601", "expected a number from 0 to 525600, got '525601'"),
    ("scope", "cluster", "expected service or task-definition, got 'cluster'"),
    ("scope", LONG, f"expected service or task-definition, got '{'y' * 40}'"),
    ("pin_images", "yes", "expected auto or always or never, got 'yes'"),
    ("region", "mars-1", "expected an AWS region such as eu-west-1, got 'mars-1'"),
    ("region", LONG, f"expected an AWS region such as eu-west-1, got '{'y' * 40}'"),
    ("regions", "eu-west-1,\nmars-1", "expected an AWS region such as eu-west-1, got 'mars-1'"),
]
SPELLING = {option.field: (f"input '{option.input}'", str(option.flag)) for option in OPTIONS}


@pytest.mark.parametrize(("field", "text", "reason"), REFUSED)
def test_each_bad_value_word_for_word(field: str, text: str, reason: str) -> None:
    as_input, as_flag = SPELLING[field]
    assert refused("action", {field: text}) == f"{as_input}: {reason}"
    assert refused("cli", {field: text}) == f"{as_flag}: {reason}"


def test_the_cli_only_poll_interval_is_named_by_its_flag() -> None:
    said = refused("cli", {"poll_interval": "0.001"})
    assert said == "--poll-interval: expected a number from 0.01 to 300, got '0.001'"


# -- the parsers themselves ------------------------------------------------------------------


def test_a_number_is_a_float_in_its_range_both_ends_included() -> None:
    parse = _number(0.5, 10)
    assert parse("0.5", "L") == 0.5 and parse("10", "L") == 10.0 and parse("2.5", "L") == 2.5
    assert type(parse("3", "L")) is float
    for text in ("0.49", "10.001", "nan", "-inf", "inf"):
        with pytest.raises(InputError) as caught:
            parse(text, "L")
        assert str(caught.value) == f"L: expected a number from 0.5 to 10, got {text!r}"
    with pytest.raises(InputError) as caught:
        parse(" many " + "x" * 50, "L")
    assert str(caught.value) == f"L: expected a number, got {(' many ' + 'x' * 34)!r}"


def test_a_whole_number_is_an_int_in_its_range() -> None:
    parse = _number(2, 5, whole=True)
    assert parse("2", "L") == 2 and parse("5.0", "L") == 5 and type(parse("3", "L")) is int
    for text, said in [
        ("1", "L: expected a whole number from 2 to 5, got '1'"),
        ("6", "L: expected a whole number from 2 to 5, got '6'"),
        ("2.5", "L: expected a whole number, got '2.5'"),
        ("two", "L: expected a whole number, got 'two'"),
    ]:
        with pytest.raises(InputError) as caught:
            parse(text, "L")
        assert str(caught.value) == said


def test_a_range_error_quotes_the_whole_text() -> None:
    text = "0" * 45 + "99"
    with pytest.raises(InputError) as caught:
        _number(0, 10)(text, "L")
    assert str(caught.value) == f"L: expected a number from 0 to 10, got {text!r}"


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


def test_a_choice_is_trimmed_and_lowered_and_names_every_choice() -> None:
    parse = _choice(Colour)
    assert parse("  Green\n", "L") is Colour.GREEN and parse("blue", "L") is Colour.BLUE
    with pytest.raises(InputError) as caught:
        parse("  " + "P" * 50, "L")
    assert str(caught.value) == f"L: expected red or green or blue, got {('  ' + 'P' * 38)!r}"


# -- the mode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mode"),
    [(" Restore ", Mode.RESTORE), ("GUARD", Mode.GUARD), ("discover\n", Mode.DISCOVER)],
)
def test_parse_mode_trims_and_ignores_case(text: str, mode: Mode) -> None:
    assert parse_mode(text, "input 'mode'") is mode


def test_a_bad_mode_lists_every_mode() -> None:
    with pytest.raises(InputError) as caught:
        parse_mode("  deploy ", "input 'mode'")
    assert str(caught.value) == (
        "input 'mode': expected one of snapshot, restore, rollback, list, guard, discover, "
        "got 'deploy'"
    )
    with pytest.raises(InputError) as caught:
        parse_mode("  " + "m" * 50, "M")
    assert str(caught.value).endswith(f"got '{'m' * 40}'")


# -- the cluster -----------------------------------------------------------------------------


def test_the_cluster_is_trimmed_and_may_be_an_arn() -> None:
    assert cli_request({}, cluster="  prod\n").cluster == "prod"
    assert cli_request({}, cluster=ARN).cluster == ARN


@pytest.mark.parametrize(("edge", "label"), [("action", "input 'cluster'"), ("cli", "cluster")])
def test_a_missing_or_bad_cluster_word_for_word(edge: str, label: str) -> None:
    run = action if edge == "action" else cli_request
    with pytest.raises(InputError) as caught:
        run({}, cluster=" \n ")
    assert str(caught.value) == f"{label}: required (a cluster name or ARN)"
    with pytest.raises(InputError) as caught:
        run({}, cluster="prod-*")
    assert str(caught.value) == (
        f"{label} 'prod-*' is not valid: expected a cluster name (letters, digits, '-', '_') "
        "or a cluster ARN"
    )
    with pytest.raises(InputError) as caught:
        run({}, Mode.DISCOVER, "/" + "p" * 100)
    assert str(caught.value) == (
        f"{label} {'/' + 'p' * 79!r} is not valid: expected a cluster name or a glob pattern "
        "of one (letters, digits, '-', '_', '*', '?', [...])"
    )


@pytest.mark.parametrize("name", ["team/prod", "a bé|<x>/prod"])
def test_a_cluster_arn_is_checked_over_its_whole_name(name: str) -> None:
    # Not only after its last '/': a name with a slash is no cluster name ECS allows.
    arn = ARN.rsplit("/", 1)[0] + "/" + name
    with pytest.raises(InputError) as caught:
        cli_request({}, cluster=arn)
    assert str(caught.value) == (
        f"cluster {arn!r} is not valid: expected a cluster name (letters, digits, '-', '_') "
        "or a cluster ARN"
    )


def test_discover_takes_a_glob_pattern_of_cluster_names() -> None:
    assert cli_request({}, Mode.DISCOVER, "[pq]rod-?!*").cluster == "[pq]rod-?!*"


# -- services that name their cluster --------------------------------------------------------


@pytest.mark.parametrize(("edge", "label"), [("action", "input 'services'"), ("cli", "--services")])
def test_a_service_of_another_cluster_is_refused(edge: str, label: str) -> None:
    said = refused(edge, {"services": "web, staging/api"})
    assert said == f"{label} entry 'staging/api' names cluster 'staging', not 'prod'"


def test_a_service_of_this_cluster_is_taken_by_name_or_arn() -> None:
    service_arn = "arn:aws:ecs:us-east-1:123456789012:service/prod/api"
    for cluster in ("prod", ARN):
        built = cli_request({"services": f"prod/web\n{service_arn}"}, cluster=cluster)
        assert built.services == ("web", "api")
    with pytest.raises(InputError, match="names cluster 'prod', not 'other'"):
        cli_request({"services": "prod/web"}, cluster=ARN.replace("/prod", "/other"))


def test_discover_does_not_check_services_against_its_pattern() -> None:
    assert cli_request({"services": "prod/web"}, Mode.DISCOVER, "pr*").services == ("web",)


# -- the store -------------------------------------------------------------------------------


@pytest.mark.parametrize(("edge", "label"), [("action", "input 'store'"), ("cli", "--store")])
def test_a_bad_store_is_named(edge: str, label: str) -> None:
    said = refused(edge, {"store": "ftp://x"})
    assert said == f"{label} 'ftp://x' is not supported: expected file://DIR or s3://BUCKET/PREFIX"


# -- the snapshot id, mode by mode -----------------------------------------------------------


def test_restore_from_the_action_needs_a_snapshot_id_word_for_word() -> None:
    with pytest.raises(InputError) as caught:
        build(Mode.RESTORE, "prod", {"snapshot_id": " "}, edge="action", environ={})
    assert str(caught.value) == (
        "input 'snapshot-id': required for restore: a snapshot id, or 'latest' for the newest; "
        "it is empty, often because the step output it names is empty (the snapshot step "
        "failed or did not run, or its id is misspelt)"
    )


def test_restore_takes_an_id_or_latest() -> None:
    assert cli_request({}).snapshot_id == "latest"  # the CLI without --snapshot-id: the newest
    assert cli_request({"snapshot_id": "latest"}).snapshot_id == "latest"
    assert action({"snapshot_id": " before-v2 "}).snapshot_id == "before-v2"


@pytest.mark.parametrize(
    ("edge", "label"), [("action", "input 'snapshot-id'"), ("cli", "--snapshot-id")]
)
def test_a_bad_snapshot_id_is_named(edge: str, label: str) -> None:
    invalid = (
        "is not valid: expected up to 128 letters, digits, '.', '_' or '-', starting with a "
        "letter or digit (no '/', no '..')"
    )
    for mode in (Mode.RESTORE, Mode.SNAPSHOT, Mode.GUARD):
        assert refused(edge, {"snapshot_id": "../x"}, mode) == f"{label} '../x' {invalid}"
    for mode in (Mode.SNAPSHOT, Mode.GUARD):
        assert refused(edge, {"snapshot_id": "latest"}, mode) == (
            f"{label}: 'latest' names a snapshot to restore; {mode} takes a new id or none"
        )


def test_snapshot_and_guard_take_a_new_id_or_none() -> None:
    assert cli_request({}, Mode.SNAPSHOT).snapshot_id is None
    assert cli_request({"snapshot_id": "g-1"}, Mode.GUARD).snapshot_id == "g-1"


@pytest.mark.parametrize("mode", [Mode.ROLLBACK, Mode.LIST, Mode.DISCOVER])
def test_other_modes_drop_a_snapshot_id(mode: Mode) -> None:
    assert action({"snapshot_id": "before-v2"}, mode).snapshot_id is None
    assert action({"snapshot_id": "../x"}, mode).snapshot_id is None


def test_checking_inputs_loads_no_botocore() -> None:
    """Inputs are checked before anything heavy loads: a bad input answers at once."""
    import subprocess
    import sys

    check = "import sys, ecsundo_action.request, ecsundo_action.edges.action as a; "
    check += "sys.exit('botocore' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, timeout=60)
    assert done.returncode == 0
