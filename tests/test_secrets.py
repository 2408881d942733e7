"""Secrets are made per project, land only in the git-ignored .env, and nowhere else."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.conftest import Project, env_values, render

SECRET_VARIABLES = ("SECRET_KEY", "POSTGRES_PASSWORD", "APP_DB_PASSWORD")


def test_env_holds_strong_secrets_and_the_example_none(default_project: Project) -> None:
    local = env_values(default_project.read(".env"))
    example = env_values(default_project.read(".env.example"))

    assert set(local) <= set(example)
    for name in SECRET_VARIABLES:
        assert len(local[name]) >= 40
        assert example[name] == "change-me"
    # The database URLs are built from the same generated passwords.
    assert f":{local['APP_DB_PASSWORD']}@" in local["DATABASE_URL"]
    # The tests run as the application role too, not as the superuser that migrates.
    assert f"_app:{local['APP_DB_PASSWORD']}@" in local["TEST_DATABASE_URL"]
    assert f":{local['POSTGRES_PASSWORD']}@" in local["MIGRATION_DATABASE_URL"]


def test_secrets_appear_in_no_other_file(default_project: Project) -> None:
    local = env_values(default_project.read(".env"))
    secrets = [local[name] for name in SECRET_VARIABLES]
    other_files = [p for p in default_project.files() if p.name != ".env"]

    leaks = [str(p) for p in other_files for s in secrets if s in p.read_text(encoding="utf-8")]

    assert leaks == []


def test_answers_are_recorded_without_secrets(default_project: Project) -> None:
    answers = yaml.safe_load(default_project.read(".copier-answers.yml"))

    assert answers["project_name"] == "My Service"
    assert answers["project_slug"] == "my-service"
    assert "_src_path" in answers
    assert not [key for key in answers if "secret" in key or "password" in key]


def test_env_is_git_ignored_and_kept_on_update(default_project: Project) -> None:
    assert ".env" in default_project.read(".gitignore").splitlines()
    copier_yml = yaml.safe_load((Path(__file__).parents[1] / "copier.yml").read_text())
    assert ".env" in copier_yml["_skip_if_exists"]


def test_every_project_gets_its_own_secrets(copier_template: Path, tmp_path: Path) -> None:
    first = env_values(render(copier_template, tmp_path / "a").joinpath(".env").read_text())
    second = env_values(render(copier_template, tmp_path / "b").joinpath(".env").read_text())

    for name in SECRET_VARIABLES:
        assert first[name] != second[name]
