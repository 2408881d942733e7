"""The matrix of combinations, derived from questions and a registry, without rendering."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

from registry import MODULES, Module

from tests import matrix

CACHE = Module(name="cache", question="with_cache", summary="A cache.")
WORKER = Module(name="worker", question="with_worker", summary="Jobs.", requires=("cache",))
SYNC = Module(name="sync", question="with_sync", summary="Clashes.", conflicts=("worker",))
SHARED = Module(name="shared", summary="Asked for by nobody.")
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


def test_every_combination_is_a_row_or_refused_with_the_registry_message() -> None:
    built = matrix.build(QUESTIONS, FAKE)

    toggles = [tuple(c.answers[q] for q in built.toggles) for c in (*built.rows, *built.refused)]
    assert set(toggles) == set(itertools.product((False, True), repeat=3))
    refused = {c.modules: c.errors for c in built.refused}
    assert refused == {
        ("worker",): ("worker needs cache: answer with_cache=true.",),
        ("worker", "sync"): (
            "worker needs cache: answer with_cache=true.",
            "sync and worker cannot be on together.",
        ),
        ("cache", "worker", "sync"): ("sync and worker cannot be on together.",),
    }
    assert not {r.modules for r in built.rows} & set(refused)


def test_every_pair_of_values_is_tested_together_somewhere() -> None:
    built = matrix.build(QUESTIONS, FAKE)
    values = {**dict.fromkeys(built.toggles, (False, True)), **built.neutral}
    valid = [{q: row.answers[q] for q in built.toggles} for row in built.rows]

    for (a, a_values), (b, b_values) in itertools.combinations(values.items(), 2):
        for x, y in itertools.product(a_values, b_values):
            # A neutral option takes any value with any valid set of modules.
            possible = any(v.get(a, x) == x and v.get(b, y) == y for v in valid)
            tested = any(r.answers[a] == x and r.answers[b] == y for r in built.rows)
            assert tested or not possible, (a, x, b, y)
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


def test_the_real_matrix_is_every_module_question_multiplied_out() -> None:
    built = matrix.load()
    questions = [m.question for m in MODULES.values() if m.question]

    assert list(built.toggles) == questions
    assert len(built.rows) + len(built.refused) == 2 ** len(questions)
    assert built.uncovered_pairs() == set()
    # Neutral values are spread evenly, not piled on the first choice.
    uses = Counter(r.answers["python_version"] for r in built.rows)
    assert max(uses.values()) - min(uses.values()) <= 1
    assert matrix.load() == built  # the same rows, in the same order, every time


def test_names_say_which_modules_are_on() -> None:
    built = matrix.load()

    names = [r.name for r in built.rows]
    assert len(set(names)) == len(names)
    assert names[0].startswith("bare@")
    assert any(n.startswith("auth+cache+rate_limit+celery+mail@") for n in names)
