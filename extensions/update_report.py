"""What an update left to do by hand: printed by `copier update` after every update.

copier.yml runs it as a migration, after Copier has merged the template's changes, in the
project's directory, with the Python that runs Copier (which has `packaging`):

    python update_report.py --from OLD_VERSION --to NEW_VERSION

It lists the files with conflict markers, the `.rej` files, the files the update deleted
because the template no longer has them, the variables new in `.env.example` (against
`git show HEAD:.env.example`: Copier updates a clean tree only, so HEAD is the project
before the update, edits and all), and the manual steps of every section of the
template's CHANGELOG.md newer than OLD_VERSION. It exits 1 while conflicts or `.rej` files
remain, so that `copier update` does not end as if all went well.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

CHANGELOG = Path(__file__).resolve().parents[1] / "CHANGELOG.md"
# Only unindented markers: docs/updating.md shows indented ones as an example.
MARKER = re.compile(rb"^(<{7}|>{7}) ", re.MULTILINE)
VARIABLE = re.compile(r"^#? ?([A-Z][A-Z0-9_]*)=", re.MULTILINE)
# Directories that hold no file of the project's own (and may be large).
SKIPPED = {".git", ".venv", "venv", "node_modules", "__pycache__"}
SKIPPED_PREFIXES = (".mypy_cache", ".ruff_cache", ".import_linter_cache", ".pytest_cache")


def project_files(root: Path) -> list[Path]:
    files = []
    for directory, subdirectories, names in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in SKIPPED and not d.startswith(SKIPPED_PREFIXES)
        )
        files += [Path(directory, name) for name in sorted(names)]
    return files


def conflicted(root: Path, files: list[Path]) -> list[str]:
    found = []
    for path in files:
        if path.suffix == ".rej" or not path.is_file() or path.is_symlink():
            continue
        try:
            if MARKER.search(path.read_bytes()):
                found.append(path.relative_to(root).as_posix())
        except OSError:
            continue
    return found


def new_variables(root: Path) -> list[str]:
    example = root / ".env.example"
    if not example.is_file():
        return []
    before = subprocess.run(
        ["git", "show", "HEAD:.env.example"], cwd=root, capture_output=True, text=True, check=False
    )
    old = set(VARIABLE.findall(before.stdout)) if before.returncode == 0 else set()
    new = VARIABLE.findall(example.read_text(encoding="utf-8", errors="replace"))
    return [name for name in dict.fromkeys(new) if name not in old]


def deleted(root: Path) -> list[str]:
    """Files of HEAD that the update removed: Copier deletes a file the template dropped
    even when the project changed it, so the project's version is only in git now."""
    result = subprocess.run(
        ["git", "ls-files", "--deleted", "-z"], cwd=root, capture_output=True, check=False
    )
    if result.returncode != 0:
        return []
    return sorted(name for name in result.stdout.decode().split("\0") if name)


def manual_steps(changelog: str, old: Version, new: Version) -> list[tuple[str, str]]:
    """(heading, manual steps) of each section newer than `old`, up to `new`, newest first.

    `## Unreleased` is newer than every release: it counts when `new` is past the newest
    release and past `old` (a project at a commit after a release may have some of it)."""
    sections = re.split(r"^## (.+)$", changelog, flags=re.MULTILINE)
    versions = {}
    for heading in sections[1::2]:
        try:
            versions[heading] = Version(heading.split()[0])
        except InvalidVersion:
            continue
    newest = max(versions.values(), default=Version("0"))
    found = []
    for heading, body in zip(sections[1::2], sections[2::2], strict=True):
        if heading in versions:
            wanted = old < versions[heading] <= new
        else:
            wanted = heading.strip() == "Unreleased" and new > max(old, newest)
        steps = re.search(r"^Manual steps.*?(?=\n\s*\n|\Z)", body, re.MULTILINE | re.DOTALL)
        if wanted and steps:
            found.append((heading, steps.group(0)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="old", type=Version, required=True)
    parser.add_argument("--to", dest="new", type=Version, required=True)
    args = parser.parse_args(argv)
    root = Path.cwd()

    files = project_files(root)
    conflicts = conflicted(root, files)
    rejects = [p.relative_to(root).as_posix() for p in files if p.suffix == ".rej"]
    variables = new_variables(root)
    removed = deleted(root)
    changelog = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.is_file() else ""
    steps = manual_steps(changelog, args.old, args.new)

    if args.old == args.new:
        print(f"\nAfter the update at the template version {args.new}:")
    else:
        print(f"\nAfter the update from the template version {args.old} to {args.new}:")
    if conflicts:
        print("- Conflicts to resolve (lines between <<<<<<< and >>>>>>> markers):")
        print("".join(f"    {name}\n" for name in conflicts), end="")
    if rejects:
        print("- Changes Copier could not place: apply each by hand, then delete it:")
        print("".join(f"    {name}\n" for name in rejects), end="")
    if removed:
        print(
            "- Deleted, as the template no longer has them (the CHANGELOG says where their "
            "content went); if you had changed one, `git show HEAD:<file>` has your version:"
        )
        print("".join(f"    {name}\n" for name in removed), end="")
    if variables:
        print("- New variables in .env.example (set those you need in .env):")
        print(f"    {' '.join(variables)}")
    if steps:
        print("- Manual steps from the template's CHANGELOG:")
        for heading, text in steps:
            print(f"  ## {heading}")
            print("".join(f"    {line}\n" for line in text.splitlines()), end="")
        if args.old.is_postrelease:
            print(
                f"  (The project was at a commit after {args.old.base_version}: it may have "
                "some of these already.)"
            )
    if not (conflicts or rejects or removed or variables or steps):
        print("- Nothing to do by hand.")
    if conflicts or rejects:
        print(
            "The update is applied but not finished: resolve the conflicts and .rej files "
            "listed above, then run the checks and commit (docs/updating.md).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
