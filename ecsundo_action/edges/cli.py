"""`ecsundo`: the command-line edge. It turns arguments into a Request, runs it, and turns
the Outcome into text (or JSON) and an exit status; the engine does the rest.

Commands keep the original tool's words:
  ecsundo cluster <cluster>                   roll back the services the last deploy changed
  ecsundo service -c <cluster> <service>      roll back one service
  ecsundo cluster snapshot <cluster>          snapshot the cluster's services
  ecsundo cluster restore <cluster>           restore a snapshot (latest by default)
  ecsundo snapshots -c <cluster>              list the cluster's snapshots
  ecsundo clusters <pattern> [--regions ...]  the clusters of a fleet, for a matrix
  ecsundo help, ecsundo --version
A cluster named like a verb stays reachable: `ecsundo cluster restore --cluster restore`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

from ecsundo_action.errors import (
    STOPPING,
    EcsundoError,
    InputError,
    raise_on_sigterm,
    reason,
    signal_number,
)
from ecsundo_action.modes import selection
from ecsundo_action.request import BY_FIELD, OPTIONS, Mode, Request, build, run_place

PROG = "ecsundo"
VERBS = {"snapshot": Mode.SNAPSHOT, "restore": Mode.RESTORE}

# Which options each command takes (Request fields; see request.OPTIONS).
CHANGING = (
    "store",
    "region",
    "wait",
    "timeout_minutes",
    "dry_run",
    "restore_desired_count",
    "max_concurrency",
    "poll_interval",
)
CLUSTER_OPTIONS = (
    *("services", "snapshot_id", "since_minutes", "scope", "pin_images", "full", "signing_key"),
    "scheduled_tasks",
    *CHANGING,
)
SERVICE_OPTIONS = ("scope", "pin_images", *CHANGING)
# Of CLUSTER_OPTIONS, those that only one of the cluster's commands takes: given to another,
# the run would silently do something else (a rollback with the id of the snapshot that was
# meant to be restored), so it is refused, naming the command that takes it.
ONLY_FOR = {
    "snapshot_id": (Mode.RESTORE, Mode.SNAPSHOT),
    "full": (Mode.SNAPSHOT,),
    "signing_key": (Mode.RESTORE, Mode.SNAPSHOT),
    "scheduled_tasks": (Mode.RESTORE, Mode.SNAPSHOT),
    "since_minutes": (Mode.ROLLBACK,),
    "scope": (Mode.RESTORE, Mode.ROLLBACK),
    "pin_images": (Mode.RESTORE, Mode.ROLLBACK),
    "restore_desired_count": (Mode.RESTORE,),
    "wait": (Mode.RESTORE, Mode.ROLLBACK),
    "timeout_minutes": (Mode.RESTORE, Mode.ROLLBACK),
    "poll_interval": (Mode.RESTORE, Mode.ROLLBACK),
}
COMMANDS = {
    Mode.ROLLBACK: "ecsundo cluster <cluster>",
    Mode.SNAPSHOT: "ecsundo cluster snapshot <cluster>",
    Mode.RESTORE: "ecsundo cluster restore <cluster>",
}
LIST_OPTIONS = ("store", "region")
DISCOVER_OPTIONS = ("regions", "region")

# `ecsundo help`: every command, with an example.
EXAMPLES = """\
commands, with an example each:
  ecsundo cluster prod                          roll back the services the last deploy
                                                changed (deployed in the last 60 minutes)
  ecsundo service -c prod web                   roll back one service
  ecsundo cluster snapshot prod --store s3://my-bucket/ecsundo
                                                snapshot every service of the cluster
  ecsundo cluster restore prod --snapshot-id latest --store s3://my-bucket/ecsundo
                                                restore a snapshot (--dry-run: the plan only)
  ecsundo snapshots -c prod --store s3://my-bucket/ecsundo
                                                list the cluster's snapshots
  ecsundo clusters 'prod-*' --regions eu-west-1,us-east-1
                                                the clusters of a fleet, as JSON for a matrix
  ecsundo help                                  this help; ecsundo COMMAND --help: its options
  ecsundo --version                             the version

AWS credentials and Region come from the environment, as for the AWS CLI.
"""


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("ecsundo-action")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _Version(argparse.Action):
    """--version: the installed version, read from the package's metadata only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **_: Any) -> None:
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, help="show the version")

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(f"{PROG} {version()}")
        parser.exit()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message)


def _add_options(parser: argparse.ArgumentParser, fields: Iterable[str]) -> None:
    """Flags from the one declaration of every option: texts in, checked by build()."""
    for field in fields:
        option = BY_FIELD[field]
        if option.flag is None:
            continue
        hidden = option.input is None
        if option.default in ("true", "false"):
            # --dry-run sets "true"; --no-wait sets "false": the opposite of the default.
            flip = "false" if option.default == "true" else "true"
            parser.add_argument(
                option.flag,
                dest=field,
                action="store_const",
                const=flip,
                help=argparse.SUPPRESS if hidden else option.help,
            )
            continue
        default = f" (default {option.default})" if option.default else ""
        parser.add_argument(
            option.flag,
            dest=field,
            metavar=option.field.split("_")[0].upper(),
            help=argparse.SUPPRESS if hidden else option.help + default,
        )


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Snapshot, restore and roll back ECS services.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    def verb(name: str, fields: Iterable[str], **kwargs: Any) -> _Parser:
        sub = verbs.add_parser(name, **kwargs)
        sub.add_argument("--json", action="store_true", help="print the result as JSON")
        sub.add_argument(
            "--verbose", action="store_true", help="list unchanged services too, one per line"
        )
        _add_options(sub, fields)
        return sub

    cluster = verb(
        "cluster",
        CLUSTER_OPTIONS,
        help="roll back, snapshot or restore a cluster",
        usage="ecsundo cluster [snapshot|restore] <cluster> [options]",
    )
    cluster.add_argument("words", nargs="*", metavar="[snapshot|restore] <cluster>")
    cluster.add_argument("--cluster", dest="cluster_option", metavar="CLUSTER")
    service = verb("service", SERVICE_OPTIONS, help="roll back one service")
    service.add_argument("-c", "--cluster", required=True)
    service.add_argument("service")
    snapshots = verb("snapshots", LIST_OPTIONS, help="list snapshots")
    snapshots.add_argument("-c", "--cluster", required=True)
    clusters = verb("clusters", DISCOVER_OPTIONS, help="the clusters matching a pattern")
    clusters.add_argument("pattern", help="a cluster name or glob pattern, e.g. 'prod-*'")
    verbs.add_parser("help", help="show this help")
    return parser


def _cluster_command(words: list[str], named: str | None) -> tuple[Mode, str]:
    """`cluster [snapshot|restore] <cluster>`; --cluster names one that looks like a verb."""
    usage = "expected: ecsundo cluster [snapshot|restore] <cluster> (or --cluster NAME)"
    verb = VERBS.get(words[0]) if words else None
    rest = words[1:] if verb else words
    mode = verb or Mode.ROLLBACK
    if named is not None:
        if rest:
            raise InputError(f"{usage}: got both {rest[0]!r} and --cluster {named!r}")
        return mode, named
    if len(rest) == 1:
        return mode, rest[0]
    if not rest and words:
        raise InputError(
            f"ecsundo cluster {words[0]}: which cluster? (for a cluster named {words[0]!r}, "
            f"use --cluster {words[0]})"
        )
    raise InputError(usage)


# What an option left out means, where its declared default is empty.
_EMPTY_DEFAULT = {"snapshot_id": "latest", "services": "every service"}


def _not_blank(given: Mapping[str, str | None]) -> None:
    """An option given an empty value is a mistake (an unset shell variable), never "the
    default": `--snapshot-id "$ID"` must not mean latest, `--services ""` every service."""
    for field, value in given.items():
        if value is not None and not value.strip():
            option = BY_FIELD[field]
            means = option.default or _EMPTY_DEFAULT.get(field)
            default = f" ({means})" if means else ""
            raise InputError(
                f"{option.flag}: got an empty value; leave the option out for its default{default}"
            )


def _for_this_command(mode: Mode, given: Mapping[str, str | None]) -> None:
    """A cluster command given an option of another cluster command: a usage error that
    names the command that takes it."""
    for field, value in given.items():
        takers = ONLY_FOR.get(field)
        if value is None or takers is None or mode in takers:
            continue
        option = BY_FIELD[field]
        flag = f"{option.flag} ..." if option.default not in ("true", "false") else option.flag
        right = " or ".join(f"{COMMANDS[m]} {flag}" for m in takers)
        raise InputError(f"{COMMANDS[mode]} takes no {option.flag}: did you mean {right}?")


def request_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Request:
    """The Request these arguments mean: every check happens here, before any AWS call."""
    given = {option.field: getattr(args, option.field, None) for option in OPTIONS}
    _not_blank(given)
    if args.verb == "cluster":
        mode, cluster = _cluster_command(args.words, args.cluster_option)
        _for_this_command(mode, given)
    elif args.verb == "service":
        mode, cluster = Mode.ROLLBACK, args.cluster
        # One service, named: blank must not fall back to "every service" (an unset
        # variable in `ecsundo service -c prod "$SVC"` would roll back the cluster).
        region, account = run_place(args.cluster.strip(), args.region, environ)
        named = selection.parse(args.service, "service", region=region, account=account) or []
        if len(named) != 1 or selection.is_pattern(named[0]):
            raise InputError(f"service {args.service[:80]!r}: expected one service name")
        given["services"] = args.service.strip()  # as given: an ARN's Region is checked
    elif args.verb == "clusters":
        mode, cluster = Mode.DISCOVER, args.pattern
    else:
        mode, cluster = Mode.LIST, args.cluster
    return build(mode, cluster, given, edge="cli", environ=environ)


def _run(args: argparse.Namespace, out: Any) -> int:
    request = request_from(args, os.environ)
    from ecsundo_action.edges.terminal import Live
    from ecsundo_action.engine import execute
    from ecsundo_action.render.text import text

    outcome = execute(request, progress=Live(sys.stderr))
    # On a terminal, long lines are cut to its width; piped or logged, nothing is cut.
    width = shutil.get_terminal_size().columns if out.isatty() else None
    said = text(outcome, width, quiet_rows=args.verbose)
    print(json.dumps(outcome.to_dict()) if args.json else said, file=out)
    return outcome.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    raise_on_sigterm()
    parser = _parser()
    if not argv or argv[0] in ("help", "-h", "--help"):
        parser.print_help()
        return 0
    try:
        return _run(parser.parse_args(argv), sys.stdout)
    except EcsundoError as exc:
        print(f"{PROG}: error: {reason(exc)}", file=sys.stderr)
        return 1
    except STOPPING as exc:  # before any change could start
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 128 + signal_number(exc)
    except Exception as exc:  # never a traceback for the user; ECSUNDO_DEBUG=1 shows one
        if os.environ.get("ECSUNDO_DEBUG"):
            raise
        print(f"{PROG}: {reason(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
