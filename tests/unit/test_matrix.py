"""The matrix of combinations, derived from questions and a registry, without rendering."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from typing import Any

import pytest
import yaml
from registry import MODULES, Module

from tests import matrix

CACHE = Module(name="cache", question="with_cache", summary="A cache.")
WORKER = Module(name="worker", question="with_worker", summary="Jobs.")
SYNC = Module(name="sync", question="with_sync", summary="Synchronisation.")
SHARED = Module(name="shared", summary="Asked for by nobody.")
QUESTIONS_OF_TEMPLATE = yaml.safe_load((matrix.REPO_ROOT / "copier.yml").read_text("utf-8"))
FAKE = {m.name: m for m in (CACHE, WORKER, SYNC, SHARED)}
QUESTIONS: dict[str, Any] = {
    "_subdirectory": "template",
    "project_name": {"type": "str", "default": "Orders"},
    "python_version": {"type": "str", "choices": ["3.11", "3.12", "3.13"], "default": "3.12"},
    "ci": {"type": "str", "choices": {"GitHub": "github", "GitLab": "gitlab"}, "default": "github"},
    "with_cache": {"type": "bool", "default": True},
    "with_worker": {"type": "bool", "default": False},
    "with_sync": {"type": "bool", "default": False},
    "with_docs": {"type": "bool", "default": True},  # a yes/no that no module answers to
}


def test_toggles_are_the_questions_that_switch_a_module() -> None:
    built = matrix.build(QUESTIONS, FAKE)

    assert built.toggles == {"with_cache": "cache", "with_worker": "worker", "with_sync": "sync"}
    assert built.neutral == {"python_version": ("3.11", "3.12", "3.13"), "ci": ("github", "gitlab")}


def test_every_three_toggles_are_tested_together_in_every_possible_way() -> None:
    built = matrix.build(QUESTIONS, FAKE)

    # Three toggles: every combination of them is a row.
    assert {tuple(r.answers[q] for q in built.toggles) for r in built.rows} == set(
        itertools.product((False, True), repeat=len(built.toggles))
    )
    assert built.uncovered() == set()


def test_every_pair_of_values_is_tested_together_somewhere() -> None:
    built = matrix.build(QUESTIONS, FAKE)
    values = {**dict.fromkeys(built.toggles, (False, True)), **built.neutral}

    for (a, a_values), (b, b_values) in itertools.combinations(values.items(), 2):
        for x, y in itertools.product(a_values, b_values):
            assert any(r.answers[a] == x and r.answers[b] == y for r in built.rows), (a, x, b, y)
    assert built.uncovered_pairs() == set()


def test_pairs_that_need_more_rows_than_combinations_get_them() -> None:
    questions = {
        "with_cache": {"type": "bool"},
        "colour": {"type": "str", "choices": ["red", "green", "blue"]},
        "size": {"type": "str", "choices": ["s", "m", "l"]},
    }

    built = matrix.build(questions, {"cache": CACHE})

    assert len(built.rows) >= 9  # every colour with every size
    assert built.uncovered_pairs() == set()
    assert len({r.name for r in built.rows}) == len(built.rows)


def test_the_real_matrix_covers_every_three_module_questions() -> None:
    built = matrix.load()
    questions = [m.question for m in MODULES.values() if m.question]

    assert list(built.toggles) == questions
    assert built.strength == 3
    # Every combination of any three toggles is in some row.
    held = {
        tuple((q, row.answers[q]) for q in three)
        for row in built.rows
        for three in itertools.combinations(questions, 3)
    }
    for three in itertools.combinations(questions, 3):
        for values in itertools.product((False, True), repeat=3):
            assert tuple(zip(three, values, strict=True)) in held, (three, values)
    assert built.uncovered() == built.uncovered_pairs() == set()
    # All off, copier.yml's defaults and all on are rows.
    defaults = {q: QUESTIONS_OF_TEMPLATE[q]["default"] for q in questions}
    toggles = [{q: r.answers[q] for q in questions} for r in built.rows]
    for answers in (dict.fromkeys(questions, False), defaults, dict.fromkeys(questions, True)):
        assert answers in toggles
    assert len(built.rows) < 2 ** len(questions)
    # Neutral values are spread, not piled on the first choice.
    uses = Counter(r.answers["python_version"] for r in built.rows)
    assert max(uses.values()) - min(uses.values()) <= 2
    assert matrix.load() == built  # the same rows, in the same order, every time


def test_the_package_manager_is_spread_over_the_rows_without_adding_any() -> None:
    built = matrix.load()
    without = {q: s for q, s in QUESTIONS_OF_TEMPLATE.items() if q != "package_manager"}

    assert built.neutral["package_manager"] == ("uv", "poetry")
    uses = Counter(r.answers["package_manager"] for r in built.rows)
    assert set(uses) == {"uv", "poetry"}
    assert max(uses.values()) - min(uses.values()) <= 2
    # Pairwise with the Python versions and every toggle value, in the rows there were.
    assert len(built.rows) == len(matrix.build(without, MODULES).rows) == 10


@pytest.mark.parametrize(("modules", "most"), [(5, 10), (10, 14), (15, 20)])
def test_rows_grow_slowly_with_the_number_of_modules(modules: int, most: int) -> None:
    built = matrix.build(*matrix.synthetic(modules))

    assert built.uncovered() == built.uncovered_pairs() == set()
    assert len(built.wanted) == 8 * math.comb(modules, 3)
    # 2^n would be 32, 1024 and 32768 rows: at a minute a row on two cores, the matrix
    # stays inside its 15-minute budget only because this grows like log n.
    assert len(built.rows) <= most


def test_names_say_which_modules_are_on() -> None:
    built = matrix.load()

    names = [r.name for r in built.rows]
    assert len(set(names)) == len(names)
    assert names[0].startswith("bare@")
    assert names[1].startswith("auth+cache@")
    assert names[2].startswith("auth+cache+rate_limit+celery+mail@")
