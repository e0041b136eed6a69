"""`ecsundo`: the command-line edge. It turns arguments into one engine call and the
result into text (or JSON) and an exit status; the engine does the rest.

Commands keep the original tool's words:
  ecsundo cluster <cluster>                   roll back the services the last deploy changed
  ecsundo service -c <cluster> <service>      roll back one service
  ecsundo cluster snapshot <cluster>          snapshot the cluster's services
  ecsundo cluster restore <cluster>           restore a snapshot (latest by default)
  ecsundo snapshots -c <cluster>              list the cluster's snapshots
  ecsundo help
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from . import selection
from .errors import EcsundoError, InputError
from .report import plan_text, result_text, snapshot_text
from .resources import check_cluster

if TYPE_CHECKING:
    from .apply import ApplyOptions

PROG = "ecsundo"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise InputError(message)


def _positive(kind: type, what: str, upper: float) -> Any:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} {text!r} is not a number") from None
        if not 0 < value <= upper:
            raise argparse.ArgumentTypeError(f"{what} must be above 0 and at most {upper:g}")
        return value

    return convert


def _parser() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument("--store", help="file://DIR or s3://BUCKET/PREFIX (default ./.ecsundo)")
    common.add_argument("--region", help="AWS region (default: from the environment)")
    common.add_argument("--services", help="names or glob patterns, comma-separated")
    common.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    common.add_argument("--no-wait", action="store_true", help="do not wait for rollouts")
    common.add_argument(
        "--timeout",
        type=_positive(float, "--timeout", 360),
        default=15.0,
        help="minutes to wait for rollouts (default 15)",
    )
    common.add_argument(
        "--poll-interval",
        type=_positive(float, "--poll-interval", 300),
        default=6.0,
        help=argparse.SUPPRESS,
    )
    common.add_argument(
        "--max-concurrency",
        type=_positive(int, "--max-concurrency", 64),
        default=8,
        help="parallel AWS calls (default 8)",
    )
    common.add_argument(
        "--restore-desired-count",
        action="store_true",
        help="also restore desiredCount (never for DAEMON services)",
    )
    common.add_argument("--json", action="store_true", help="print the result as JSON")

    parser = _Parser(prog=PROG, description="Snapshot, restore and roll back ECS services.")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    cluster = verbs.add_parser(
        "cluster",
        parents=[common],
        help="roll back, snapshot or restore a cluster",
        usage="ecsundo cluster [snapshot|restore] <cluster> [options]",
    )
    cluster.add_argument("words", nargs="+", metavar="[snapshot|restore] <cluster>")
    cluster.add_argument("--snapshot-id", default=None, help="snapshot id, or latest (restore)")
    cluster.add_argument(
        "--since",
        type=float,
        default=60.0,
        help="rollback: only services deployed in the last MINUTES (0: every service)",
    )
    service = verbs.add_parser("service", parents=[common], help="roll back one service")
    service.add_argument("-c", "--cluster", required=True)
    service.add_argument("service")
    snapshots = verbs.add_parser("snapshots", parents=[common], help="list snapshots")
    snapshots.add_argument("-c", "--cluster", required=True)
    verbs.add_parser("help", help="show this help")
    return parser


def _apply_options(args: argparse.Namespace) -> ApplyOptions:
    from .apply import ApplyOptions

    return ApplyOptions(
        wait=not args.no_wait, timeout=args.timeout * 60, poll_interval=args.poll_interval
    )


def _run(args: argparse.Namespace, out: Any) -> int:
    from .gateway import EcsGateway
    from .restore import RestoreOptions, restore
    from .rollback import RollbackOptions, rollback
    from .snapshot import github_context, snapshot
    from .stores import check_snapshot_id, default_store_uri, open_store

    # Every input is checked before the first AWS call.
    patterns = selection.parse(args.services, "--services")
    store = open_store(args.store or default_store_uri(os.environ), "--store")
    verb, target = args.verb, None
    if verb == "cluster":
        if len(args.words) == 1:
            verb, target = "rollback", args.words[0]
        elif len(args.words) == 2 and args.words[0] in ("snapshot", "restore"):
            verb, target = args.words
        else:
            raise InputError("expected: ecsundo cluster [snapshot|restore] <cluster>")
        if args.snapshot_id and args.snapshot_id != "latest":
            check_snapshot_id(args.snapshot_id, "--snapshot-id")
        if args.since < 0:
            raise InputError("--since must be 0 or more minutes")
    elif verb == "service":
        verb, target, patterns = "rollback", args.cluster, [args.service]
        selection.parse(args.service, "service")
    else:
        target = args.cluster
    check_cluster(target)

    with EcsGateway.connect(args.region, max_concurrency=args.max_concurrency) as gateway:
        if verb == "snapshots":
            where = gateway.describe_cluster(target)
            ids = store.list(where)
            if args.json:
                print(
                    json.dumps({"cluster": where.name, "store": store.uri, "snapshots": ids}),
                    file=out,
                )
            else:
                print(
                    "\n".join(ids) if ids else f"no snapshots of {where.name} in {store.uri}",
                    file=out,
                )
            return 0
        if verb == "snapshot":
            if args.dry_run:
                raise InputError("--dry-run applies to restore and rollback, not snapshot")
            taken = snapshot(
                gateway,
                store,
                target,
                patterns,
                snapshot_id=args.snapshot_id,
                github=github_context(os.environ),
            )
            services = taken.document["services"]
            if args.json:
                print(
                    json.dumps(
                        {
                            "snapshotId": taken.id,
                            "snapshotUri": taken.uri,
                            "services": [s["name"] for s in services],
                        }
                    ),
                    file=out,
                )
            else:
                print(snapshot_text(taken.document, taken.uri), file=out)
            return 0
        if verb == "restore":
            result = restore(
                gateway,
                store,
                target,
                RestoreOptions(
                    snapshot_id=args.snapshot_id or "latest",
                    patterns=patterns,
                    restore_desired_count=args.restore_desired_count,
                    dry_run=args.dry_run,
                    apply=_apply_options(args),
                ),
            )
        else:
            since = getattr(args, "since", None)
            result = rollback(
                gateway,
                target,
                RollbackOptions(
                    patterns=patterns,
                    changed_within_minutes=since if args.verb == "cluster" and since else None,
                    dry_run=args.dry_run,
                    apply=_apply_options(args),
                ),
            )
    if args.json:
        print(json.dumps(result.to_dict()), file=out)
    elif result.plan is not None and args.dry_run:
        print(
            f"plan for {result.mode} of cluster {result.cluster} (dry run: nothing changed)",
            file=out,
        )
        print(f"{plan_text(result.plan)}\nresult: {result.verdict}", file=out)
    else:
        print(result_text(result), file=out)
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not argv or argv[0] in ("help", "-h", "--help"):
        parser.print_help()
        return 0
    try:
        args = parser.parse_args(argv)
        return _run(args, sys.stdout)
    except EcsundoError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user; ECSUNDO_DEBUG=1 shows one
        if os.environ.get("ECSUNDO_DEBUG"):
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
