"""docs/ as a site: it builds in strict mode, and its registry tables are fresh.

Both checks are shown to fail: a broken link fails the build, an edited row of a generated
table fails the freshness check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO_ROOT

TABLES = REPO_ROOT / "docs" / "tables.py"


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def check_tables(docs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TABLES), "--check", "--docs", str(docs)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """mkdocs.yml and docs/, as the site sees them, in a directory of their own."""
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(REPO_ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    shutil.copytree(REPO_ROOT / "docs", copy / "docs", ignore=shutil.ignore_patterns("__*"))
    return copy


def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = build(REPO_ROOT / "mkdocs.yml", site)

    assert result.returncode == 0, result.stderr
    pages = {p.parent.name for p in site.glob("*/index.html")}
    assert {"template", "generated-service", "matrix", "benchmarks", "performance"} <= pages
    assert not (site / "tables.py").exists()
    html = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.html"))
    assert "fonts.googleapis.com" not in html


def test_the_generated_tables_are_fresh() -> None:
    result = check_tables(REPO_ROOT / "docs")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("[gone](no-such-page.md)", "'no-such-page.md', but the target is not found"),
        ("[gone](#no-such-heading)", "there is no such anchor on this page"),
        ("[gone](template.md#no-such-heading)", "does not contain an anchor '#no-such-heading'"),
    ],
)
def test_a_broken_link_fails_the_build(
    repo_copy: Path, tmp_path: Path, link: str, message: str
) -> None:
    page = repo_copy / "docs" / "generated-service.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\nSee {link}.\n", encoding="utf-8")

    result = build(repo_copy / "mkdocs.yml", tmp_path / "site")

    assert result.returncode != 0
    assert message in result.stderr
    assert "generated-service.md" in result.stderr


def test_the_copy_builds_as_it_is(repo_copy: Path, tmp_path: Path) -> None:
    # So that the failures above are the planted link's, not the copy's.
    assert build(repo_copy / "mkdocs.yml", tmp_path / "site").returncode == 0


def test_an_edited_table_row_fails_the_freshness_check(repo_copy: Path) -> None:
    page = repo_copy / "docs" / "generated-service.md"
    text = page.read_text(encoding="utf-8")
    row = "| `DB_POOL_SIZE` | `20` |"
    assert row in text
    page.write_text(text.replace(row, "| `DB_POOL_SIZE` | `10` |"), encoding="utf-8")

    result = check_tables(repo_copy / "docs")

    assert result.returncode == 1
    assert "generated-service.md: the generated table 'settings' is stale" in result.stdout
    assert "template.md" not in result.stdout
    assert page.read_text(encoding="utf-8") != text, "--check wrote the page"


def test_the_script_rewrites_a_stale_table(repo_copy: Path) -> None:
    page = repo_copy / "docs" / "template.md"
    text = page.read_text(encoding="utf-8")
    start = text.index("<!-- generated:touches -->\n") + len("<!-- generated:touches -->\n")
    end = text.index("<!-- end generated -->", start)
    page.write_text(text[:start] + text[end:], encoding="utf-8")
    assert check_tables(repo_copy / "docs").returncode == 1

    subprocess.run(
        [sys.executable, str(TABLES), "--docs", str(repo_copy / "docs")],
        check=True,
        capture_output=True,
    )

    assert page.read_text(encoding="utf-8") == text
    assert check_tables(repo_copy / "docs").returncode == 0


def test_a_table_missing_from_every_page_fails_the_check(repo_copy: Path) -> None:
    page = repo_copy / "docs" / "generated-service.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<!-- generated:settings -->", "<!-- gone -->"), encoding="utf-8")

    result = check_tables(repo_copy / "docs")

    assert result.returncode == 1
    assert "the generated table 'settings' is in no page" in result.stdout
