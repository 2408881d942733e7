"""copier.yml refuses bad answers with a readable message and writes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Project, render


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_name": "   "}, "project_name must not be empty"),
        ({"project_name": "two\nlines"}, "project_name must be one line"),
        ({"project_name": "x" * 61}, "at most 60 characters wide"),
        ({"project_name": "服" * 31}, "at most 60 characters wide"),
        ({"project_slug": "Bad Slug"}, "project_slug 'Bad Slug' is invalid"),
        ({"project_slug": "9lives"}, "project_slug '9lives' is invalid"),
        ({"project_slug": "double--hyphen"}, "is invalid"),
        ({"python_version": "3.9"}, "'3.9' is not in"),
        ({"database_name": "my-db"}, "database_name 'my-db' is invalid"),
        ({"database_name": "x" * 51}, "at most 50 characters"),
        ({"http_port": 80}, "http_port must be between 1024 and 65535"),
        ({"http_port": 70000}, "http_port must be between 1024 and 65535"),
        ({"author_email": "not-an-email"}, "is not an e-mail address"),
        ({"author_name": 'Quote "me"'}, "author_name must be"),
    ],
)
def test_bad_answers_are_refused_before_anything_is_written(
    copier_template: Path, tmp_path: Path, answers: dict[str, Any], message: str
) -> None:
    destination = tmp_path / "service"

    with pytest.raises(ValueError, match=message):
        render(copier_template, destination, **answers)

    assert not destination.exists()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Orders API", "orders-api"),
        ("Café Ørders — 2024!", "cafe-rders-2024"),
        ("  spaces   everywhere ", "spaces-everywhere"),
        ("Сервис заказов", "service"),
    ],
)
def test_any_human_name_gets_a_valid_slug(
    copier_template: Path, tmp_path: Path, name: str, slug: str
) -> None:
    project = render(copier_template, tmp_path / "service", project_name=name)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["project_slug"] == slug
    assert answers["database_name"] == slug.replace("-", "_")


def test_unicode_name_renders_a_valid_project(
    copier_template: Path, tmp_path: Path, pg: object
) -> None:
    # Quotes, a backslash and wide characters: 59 columns in all: the worst a name can be.
    name = 'Сервис "заказов" \\ ' + "服" * 20
    path = render(
        copier_template,
        tmp_path / "service",
        project_name=name,
        project_slug="orders",
        description='Prices in €, quotes "inside" and a backslash \\ too.',
    )
    project = Project(path=path, pg=pg)  # type: ignore[arg-type]

    pyproject = tomllib.loads(project.read("pyproject.toml"))
    assert pyproject["project"]["name"] == "orders"
    assert "€" in pyproject["project"]["description"]
    assert yaml.safe_load(project.read("docker-compose.yml"))["name"] == "orders"
    project.run("ruff", "check", ".")
    project.run("ruff", "format", "--check", ".")
    result = project.python(
        "from app.main import create_app; print(create_app().title)",
        SECRET_KEY="k" * 40,
        DATABASE_URL="postgresql+asyncpg://u@db/app",
    )
    assert result.stdout.strip() == name
