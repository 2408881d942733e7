"""The report after an update: which CHANGELOG sections count, which markers are conflicts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import update_report
from packaging.version import Version
from update_report import conflicted, main, manual_steps, project_files

CHANGELOG = """# Changelog

## Unreleased

Manual steps (each also below):
- Run the new migration.

- An entry, not a step.

## 0.3.0 (2026-12-01)

Manual steps: set `NEW_SETTING`.

- Something changed.

## 0.2.0 (2026-11-22)

Manual steps: none.
"""


def headings(old: str, new: str) -> list[str]:
    return [heading for heading, _ in manual_steps(CHANGELOG, Version(old), Version(new))]


def test_the_sections_after_the_old_version_count_up_to_the_new_one() -> None:
    assert headings("0.2.0", "0.3.0") == ["0.3.0 (2026-12-01)"]
    assert headings("0.1.0", "0.3.0") == ["0.3.0 (2026-12-01)", "0.2.0 (2026-11-22)"]
    # A render from a commit after 0.2.0 has not had 0.3.0.
    assert headings("0.2.0.post24.dev0+1891a63", "0.3.0") == ["0.3.0 (2026-12-01)"]


def test_unreleased_counts_when_the_update_goes_past_the_newest_release() -> None:
    assert headings("0.2.0", "0.3.0.post3.dev0+abcdef0") == [
        "Unreleased",
        "0.3.0 (2026-12-01)",
    ]
    steps = dict(manual_steps(CHANGELOG, Version("0.3.0"), Version("0.3.0.post3")))
    assert steps == {"Unreleased": "Manual steps (each also below):\n- Run the new migration."}


def test_nothing_counts_at_the_same_version() -> None:
    assert headings("0.3.0.post3", "0.3.0.post3") == []
    assert headings("0.3.0", "0.3.0") == []


def test_only_unindented_markers_are_conflicts(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/guide.md").write_text("  <<<<<<< before updating\n  >>>>>>> after\n")
    (tmp_path / "app.py").write_text("<<<<<<< before updating\na\n=======\nb\n>>>>>>> after\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv/lib.py").write_text("<<<<<<< not ours\n")

    assert conflicted(tmp_path, project_files(tmp_path)) == ["app.py"]


def test_it_fails_while_a_rej_file_remains_and_names_new_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "settings.py.rej").write_text("@@ -1 +1 @@\n-a\n+b\n")
    (tmp_path / ".env.example").write_text("# A setting.\n# NEW_SETTING=1\nOTHER='x y'\n")
    monkeypatch.chdir(tmp_path)

    status = main(["--from=0.2.0", "--to=0.2.0"])

    out = capsys.readouterr().out
    assert status == 1
    assert "    settings.py.rej\n" in out
    assert "    NEW_SETTING OTHER\n" in out
    (tmp_path / "settings.py.rej").unlink()
    assert main(["--from=0.2.0", "--to=0.2.0"]) == 0


def test_a_project_rendered_after_a_release_is_told_it_may_have_some_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG)
    monkeypatch.setattr(update_report, "CHANGELOG", tmp_path / "CHANGELOG.md")
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "--quiet"], check=True)

    main(["--from=0.2.0.post24+g1891a63", "--to=0.3.0"])

    assert "at a commit after 0.2.0: it may have some of these already" in capsys.readouterr().out


def test_files_the_update_deleted_are_named_with_where_the_old_version_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "--quiet"], check=True)
    for name in ("app/core/middleware.py", "app/main.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# the project's own edit\n")
    subprocess.run(["git", "add", "-A"], check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start"], check=True
    )
    (tmp_path / "app/core/middleware.py").unlink()  # what Copier does to a dropped file

    assert main(["--from=0.2.0", "--to=0.2.0"]) == 0

    out = capsys.readouterr().out
    assert "`git show HEAD:<file>` has your version:\n    app/core/middleware.py\n" in out
    assert "app/main.py" not in out
