"""Tag each release recorded in releases.toml that this clone of the template has no tag for.

    python3 extensions/release_tags.py

Copier finds the template's versions by its git tags, and tags do not reach every clone (a
fork, a CI checkout, a repository pushed without them). Run it after a clone or a
`git pull`; it adds missing tags and changes nothing else. Standard library only.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def restore_tags(repository: Path = REPOSITORY) -> list[str]:
    """Tag each recorded release that has no tag yet; the tags made. Raises ValueError."""
    record = tomllib.loads((repository / "releases.toml").read_text(encoding="utf-8"))
    made = []
    for release in record["release"]:
        tag, commit = release["version"], release["commit"]
        tagged = git(
            "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}", cwd=repository
        )
        if tagged.returncode == 0:
            if tagged.stdout.strip() != commit:
                msg = (
                    f"tag {tag} is on {tagged.stdout.strip()[:12]}, but release {tag} was made "
                    f"from {commit[:12]} (releases.toml): delete the tag (git tag -d {tag}) "
                    "and run this again."
                )
                raise ValueError(msg)
            continue
        if git("cat-file", "-e", f"{commit}^{{commit}}", cwd=repository).returncode != 0:
            msg = (
                f"release {tag} was made from {commit[:12]}, which this clone does not have: "
                "fetch the whole history (git fetch --unshallow) and run this again."
            )
            raise ValueError(msg)
        result = git("tag", tag, commit, cwd=repository)
        if result.returncode != 0:
            raise ValueError(f"git tag {tag} {commit[:12]} failed: {result.stderr.strip()}")
        made.append(tag)
    return made


def main() -> int:
    try:
        made = restore_tags()
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if made:
        print(f"Tagged the releases {', '.join(made)}.")
    else:
        print("Every release in releases.toml has its tag.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
