"""Print the commands of README.md's Quick start, one per line: the first fenced block under that heading.

.ci/run executes exactly these lines, and tests/test_docs.py checks there are two, so README cannot lie.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path


def quick_start_commands(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, flags=re.M | re.S)
    if not section:
        raise SystemExit("README.md has no '## Quick start' section")
    block = re.search(r"^```[a-z]*\n(.*?)^```", section.group(1), flags=re.M | re.S)
    if not block:
        raise SystemExit("README.md's Quick start has no fenced code block")
    return [line.strip() for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    commands = quick_start_commands(root / "README.md")
    index = int(sys.argv[1]) if len(sys.argv) > 1 else None
    print(commands[index] if index is not None else "\n".join(commands))
