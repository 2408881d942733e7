"""Every file of the template that mentions a module is declared in its registry entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from registry import MODULES

from tests.footprint import footprint_errors, mentions

TEMPLATE = Path(__file__).resolve().parents[2] / "template"


def test_every_mention_of_a_module_is_declared() -> None:
    assert footprint_errors(TEMPLATE, MODULES) == []


def test_the_scan_sees_every_style_of_mention() -> None:
    found = mentions(TEMPLATE)
    # `{% if "cache" in modules %}`, and mentions inside `{{ ... }}`.
    assert "cache" in found["app/api/v1/items.py.jinja"]
    assert "auth" in found["tests/test_database_faults.py.jinja"]


@pytest.fixture
def template_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(TEMPLATE, copy)
    return copy


@pytest.mark.parametrize(
    "block",
    [
        '{% if "celery" in modules %}\n# tasks\n{% endif %}\n',
        "{% if 'celery' not in modules %}\n# inline\n{% endif %}\n",
        '{% set with_celery = "celery" in modules %}\n',
        '{{ "x" if "celery" in modules }}\n',
    ],
)
def test_an_undeclared_mention_is_reported(template_copy: Path, block: str) -> None:
    shared = template_copy / "app" / "api" / "health.py.jinja"
    shared.write_text(block + "\n# the health endpoints\n", encoding="utf-8")
    assert footprint_errors(template_copy, MODULES) == [
        "app/api/health.py.jinja: mentions 'celery', but the file is neither among"
        " celery's files nor in celery's touches"
    ]


def test_a_mention_outside_jinja_is_not_one(template_copy: Path) -> None:
    shared = template_copy / "app" / "api" / "health.py.jinja"
    shared.write_text('# Not templated: "celery" in modules\n', encoding="utf-8")
    assert footprint_errors(template_copy, MODULES) == []


def test_a_mention_of_an_unknown_module_is_reported(template_copy: Path) -> None:
    readme = template_copy / "README.md.jinja"
    readme.write_text(
        readme.read_text(encoding="utf-8") + '{% if "auht" in modules %}x{% endif %}\n',
        encoding="utf-8",
    )
    assert footprint_errors(template_copy, MODULES) == [
        "README.md.jinja: mentions 'auht', which is not a module"
    ]


def test_a_touches_entry_without_a_mention_is_reported(template_copy: Path) -> None:
    ci = template_copy / ".github" / "workflows" / "ci.yml.jinja"
    text = ci.read_text(encoding="utf-8")
    ci.write_text(text.replace('"redis" in modules', "false"), encoding="utf-8")
    assert footprint_errors(template_copy, MODULES) == [
        ".github/workflows/ci.yml.jinja: in redis's touches, but the file does not mention 'redis'"
    ]


def test_a_file_a_module_owns_needs_no_touches_entry(template_copy: Path) -> None:
    owned = template_copy / "app" / "cache" / "extra.py.jinja"
    owned.write_text('{% if "cache" in modules %}\n# ok\n{% endif %}\n', encoding="utf-8")
    assert footprint_errors(template_copy, MODULES) == []
