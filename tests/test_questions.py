"""copier.yml refuses bad answers with a readable message and writes nothing."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BIN, Project, render


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
        ({"package_manager": "pip"}, "'pip' is not in"),
        ({"database_name": "my-db"}, "database_name 'my-db' is invalid"),
        ({"database_name": "x" * 51}, "at most 50 characters"),
        ({"http_port": 80}, "http_port must be a whole number between 1024 and 65535"),
        ({"http_port": 70000}, "http_port must be a whole number between 1024 and 65535"),
        ({"http_port": "abc"}, "http_port must be a whole number between 1024 and 65535"),
        ({"with_celery": "flase"}, "with_celery must be true or false"),
        ({"with_auth": "2"}, "with_auth must be true or false"),
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
    ("data", "message"),
    [
        (
            "with_celery=flase",
            "with_celery must be true or false (yes/no, on/off, 1/0), got 'flase'.",
        ),
        ("http_port=abc", "http_port must be a whole number between 1024 and 65535, got 'abc'."),
        ("python_version=3.9", "'3.9' is not in ['3.11', '3.12', '3.13']"),
        ("package_manager=pip", "'pip' is not in ['uv', 'poetry']"),
        ("project_slug=Bad Slug", "project_slug 'Bad Slug' is invalid"),
    ],
)
def test_the_command_line_refuses_a_bad_answer_in_one_line(
    copier_template: Path, tmp_path: Path, data: str, message: str
) -> None:
    destination = tmp_path / "service"

    result = subprocess.run(
        [BIN / "copier", "copy", "--trust", "--defaults", "--quiet", "--data", data,
         copier_template, destination],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert message in line
    assert not destination.exists()


def test_an_update_refuses_a_bad_answer_in_one_line_and_changes_nothing(
    copier_template: Path, tmp_path: Path
) -> None:
    project = render(copier_template, tmp_path / "service")
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "--quiet"], cwd=project, check=True)
    subprocess.run([*git, "add", "--all"], cwd=project, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "Generated"], cwd=project, check=True)

    update = ["update", "--trust", "--defaults", "--quiet", "--data", "with_celery=flase"]

    result = subprocess.run(
        [BIN / "copier", *update], cwd=project, capture_output=True, text=True, check=False
    )

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "with_celery must be true or false" in line
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Yes", True),
        ("on", True),
        ("1", True),
        ("TRUE", True),
        ("n", False),
        ("off", False),
        ("0", False),
    ],
)
def test_every_boolean_copier_documents_is_accepted(
    copier_template: Path, tmp_path: Path, typed: str, meant: bool
) -> None:
    project = render(copier_template, tmp_path / "service", with_celery=typed)

    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["with_celery"] is meant
    assert (project / "app" / "worker").is_dir() is meant


def test_an_interactive_answer_gets_the_template_message_and_is_asked_again(
    copier_template: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "service"
    screen = Terminal([BIN / "copier", "copy", "--trust", copier_template, destination])
    try:
        # Accept every default up to the port question (each shows its help first), then
        # type a port that is none.
        questions = yaml.safe_load((copier_template / "copier.yml").read_text())
        for name in [q for q in questions if not q.startswith("_")]:
            assert screen.shows(questions[name]["help"][:30])
            if name == "http_port":
                break
            screen.type("\r")
        screen.type("\x15abc\r")  # Ctrl-U clears the default first

        # The terminal is 80 columns wide: the end of the message is cut off.
        assert screen.shows("http_port must be a whole number")
        assert screen.alive()
    finally:
        screen.close()
    assert not destination.exists()


class Terminal:
    """A program in a pseudo-terminal, as a person at a keyboard runs it."""

    def __init__(self, argv: list[str | Path]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: become the program
            os.execv(argv[0], [str(a) for a in argv])
        self.output = b""

    def type(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def shows(self, text: str, within: float = 30) -> bool:
        """Whether `text` appears on the screen (escape sequences aside) within `within` s."""
        deadline = time.monotonic() + within
        while text not in self.screen() and time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the program exited
                    break
        return text in self.screen()

    def screen(self) -> str:
        return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", self.output.decode(errors="replace"))

    def alive(self) -> bool:
        return os.waitpid(self.pid, os.WNOHANG) == (0, 0)

    def close(self) -> None:
        os.kill(self.pid, 9)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


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
