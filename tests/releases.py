"""The template's releases (releases.toml), and a repository of the template that has them.

`copier copy --vcs-ref=0.1.0` and `copier update` read the template as a git repository
with tags. This checkout may have no tags (they do not reach every clone) and uncommitted
work, so the update tests read a repository made from it: its history, a tag per recorded
release, and the working tree committed on top as the template's current version.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version
from release_tags import restore_tags

REPO_ROOT = Path(__file__).resolve().parents[1]
RECORD = REPO_ROOT / "releases.toml"
# What Copier reads of the template (and the update report, the tags script): the current
# version is these, as they are on disk.
TEMPLATE_PARTS = ("copier.yml", "extensions", "template", "CHANGELOG.md", "releases.toml")
GIT_IDENTITY = ("-c", "user.name=Template Tests", "-c", "user.email=tests@example.com")


@dataclass(frozen=True)
class Release:
    version: Version
    commit: str
    date: datetime.date

    @property
    def tag(self) -> str:
        return str(self.version)


def releases() -> list[Release]:
    """The recorded releases, oldest first."""
    record = tomllib.loads(RECORD.read_text(encoding="utf-8"))
    return [
        Release(Version(entry["version"]), entry["commit"], entry["date"])
        for entry in record["release"]
    ]


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", *GIT_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        msg = f"`git {' '.join(args)}` exited {result.returncode}:\n{result.stderr}"
        raise RuntimeError(msg)
    return result.stdout


def template_repository(destination: Path) -> Path:
    """A clone of this repository with a tag per release and the working tree on top."""
    git("clone", "--quiet", str(REPO_ROOT), str(destination), cwd=REPO_ROOT)
    # As a user restores them (the README's render command runs the same script).
    try:
        restore_tags(destination)
    except ValueError as error:
        raise RuntimeError(str(error)) from None
    for part in TEMPLATE_PARTS:
        target, source = destination / part, REPO_ROOT / part
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    git("add", "--all", *TEMPLATE_PARTS, cwd=destination)
    git("commit", "--quiet", "--allow-empty", "-m", "The template as it is now", cwd=destination)
    return destination
