"""The mutation score per module, from `mutmut results --all true` on stdin.

Used by `make mutate`: with ONLY= some modules, only their mutants were run this time, so
the score counts the modules named (all of them when none is).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

CAUGHT = ("killed", "timeout")  # a mutant that hangs the tests is caught too


def main(lines: list[str], only: list[str]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        name, _, status = line.strip().partition(": ")
        parts = name.split(".")
        if len(parts) < 3 or not status:
            continue
        module = parts[1]
        if not only or module in only:
            counts[module][status] += 1
    rows = []
    total = Counter[str]()
    for module in sorted(counts):
        c = counts[module]
        total += c
        caught, all_ = sum(c[s] for s in CAUGHT), sum(c.values())
        rows.append(f"  {module:10} {caught:5}/{all_:<5} {c['survived']:4} survived")
    caught, all_ = sum(total[s] for s in CAUGHT), sum(total.values())
    if not all_:
        return "mutation score: no mutants were run"
    rows.append(
        f"mutation score: {caught}/{all_} killed ({100 * caught / all_:.0f}%), "
        f"{total['survived']} survived, {total['no tests']} reached by no fast test, "
        f"{total['not checked']} not checked"
    )
    return "\n".join(rows)


if __name__ == "__main__":
    print(main(sys.stdin.readlines(), sys.argv[1:]))
