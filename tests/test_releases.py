"""The release record agrees with git, the CHANGELOG and the template's own version."""

from __future__ import annotations

import re
import tomllib

import yaml
from packaging.version import Version

from tests.releases import REPO_ROOT, git, releases


def changelog_sections() -> dict[str, str]:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_releases_are_pep_440_versions_in_order() -> None:
    record = tomllib.loads((REPO_ROOT / "releases.toml").read_text(encoding="utf-8"))
    versions = [r.version for r in releases()]

    # Written as tagged: the normalized form, without a "v".
    assert [entry["version"] for entry in record["release"]] == [str(v) for v in versions]

    assert versions
    assert versions == sorted(set(versions))
    assert all(str(v) == v.public and not v.is_prerelease for v in versions)


def test_every_release_is_a_commit_of_this_history_with_its_version() -> None:
    for release in releases():
        assert re.fullmatch(r"[0-9a-f]{40}", release.commit), release.tag
        git("merge-base", "--is-ancestor", release.commit, "HEAD", cwd=REPO_ROOT)
        pyproject = git("show", f"{release.commit}:pyproject.toml", cwd=REPO_ROOT)
        assert tomllib.loads(pyproject)["project"]["version"] == release.tag
        # A tag that this clone has must be the recorded one.
        if git("tag", "--list", release.tag, cwd=REPO_ROOT).strip():
            tagged = git("rev-parse", f"{release.tag}^{{commit}}", cwd=REPO_ROOT).strip()
            assert tagged == release.commit, release.tag


def test_the_changelog_has_a_section_per_release_saying_what_to_do() -> None:
    sections = changelog_sections()

    for release in releases():
        heading = f"{release.tag} ({release.date.isoformat()})"
        assert heading in sections, heading
        assert re.search(r"^Manual steps: ", sections[heading], re.MULTILINE), heading
    assert next(iter(sections)) == "Unreleased"


def test_the_template_is_at_its_latest_release_or_past_it() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert Version(pyproject["project"]["version"]) >= releases()[-1].version


def template_files(paths: list[str]) -> set[str]:
    """Paths of the template's files as a project gets them (without `.jinja`)."""
    return {p.removeprefix("template/").removesuffix(".jinja") for p in paths}


# Old answers a question's new type still reads: the same type, or a number read as text.
CARRIED_TYPES = {
    *((t, t) for t in ("str", "int", "float", "bool", "json", "yaml", None)),
    ("int", "str"),
}


def test_what_an_update_cannot_carry_since_the_last_release_has_a_migration() -> None:
    """A renamed question or a changed answer format leaves old answers behind, which a
    diff does not carry: each needs a `_migrations` entry for the next release (with its
    test). A file that leaves the template is deleted from projects, edits and all; the
    report after every update names each one and where the project's version still is
    (tests/unit/test_update_report.py), and the CHANGELOG says where its content went."""
    last = releases()[-1]
    listed = git("ls-tree", "-r", "--name-only", last.commit, "--", "template", cwd=REPO_ROOT)
    old_files = template_files(listed.splitlines())
    new_files = template_files(
        [
            str(p.relative_to(REPO_ROOT))
            for p in (REPO_ROOT / "template").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        ]
    )
    old = yaml.safe_load(git("show", f"{last.commit}:copier.yml", cwd=REPO_ROOT))
    new = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    questions = [q for q in old if not q.startswith("_")]

    gone = sorted(old_files - new_files)
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.split("\n## ", 2)[1]
    assert unreleased.startswith("Unreleased")
    assert not [f for f in gone if f"`{f}`" not in unreleased], "say where they went"
    needs = [
        f"question {q}"
        for q in questions
        if q not in new
        or (old[q].get("type"), new[q].get("type")) not in CARRIED_TYPES
        or not set(old[q].get("choices", [])) <= set(new[q].get("choices", []))
    ]
    migrations = [
        m
        for m in new.get("_migrations", [])
        if "version" in m and Version(m["version"]) > last.version
    ]

    assert migrations or not needs, f"since {last.tag}, these need a migration: {needs}"
