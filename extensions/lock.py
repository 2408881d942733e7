"""Locks a project's dependencies: Copier's task after a copy, and migration after an update.

copier.yml runs it in the project's directory with the Python that runs Copier:

    python lock.py uv                   # or poetry; after a copy
    python lock.py uv --after-update

with the tool of that environment (the template's `render` group, a project's dev group),
else the one on PATH. Neither tool upgrades what the lock holds already: it adds what
pyproject.toml gained and drops what it lost. An update runs it once the template's changes
are merged, so that the lock follows the project's pyproject.toml, edits included. There,
when there is no tool (a project from before the lock) or pyproject.toml still has conflict
markers, it says what to run by hand and lets the update go on to its report.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys


def command(tool: str) -> list[str] | None:
    if importlib.util.find_spec(tool) is not None:
        return [sys.executable, "-m", tool, "lock"]
    found = shutil.which(tool)
    return [found, "lock"] if found else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("tool")
    parser.add_argument("--after-update", action="store_true")
    args = parser.parse_args()
    argv = command(args.tool)
    if argv is None:
        print(f"{args.tool} is not installed here: lock with `make lock`.", file=sys.stderr)
        return 0 if args.after_update else 1
    status = subprocess.run(argv, check=False).returncode
    if status and args.after_update:
        print(f"`{args.tool} lock` failed: once pyproject.toml is right, run `make lock`.")
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
