"""The README's inputs and outputs tables, generated from action.yml: `make readme` writes
them between their markers, and tests/test_metadata.py fails when they are not current."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCK = re.compile(r"(<!-- (?P<name>inputs|outputs):[^\n]*-->\n)(.*?)(<!-- /(?P=name) -->)", re.S)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def tables(meta: dict[str, Any]) -> dict[str, str]:
    """The two tables, as Markdown, from action.yml's metadata."""
    inputs = ["| input | default | description |", "|---|---|---|"]
    for name, spec in meta["inputs"].items():
        default = spec.get("default", "")
        shown = f"`{default}`" if default else ("required" if spec.get("required") else "-")
        inputs.append(f"| `{name}` | {shown} | {_cell(spec['description'])} |")
    outputs = ["| output | description |", "|---|---|"]
    for name, spec in meta["outputs"].items():
        outputs.append(f"| `{name}` | {_cell(spec['description'])} |")
    return {"inputs": "\n".join(inputs) + "\n", "outputs": "\n".join(outputs) + "\n"}


def render(readme: str, meta: dict[str, Any]) -> str:
    """The README with each marked table replaced by the one action.yml gives."""
    made = tables(meta)
    return BLOCK.sub(lambda m: m[1] + made[m["name"]] + m[4], readme)


def main() -> None:
    meta = yaml.safe_load((ROOT / "action.yml").read_text())
    README.write_text(render(README.read_text(), meta))


if __name__ == "__main__":
    main()
