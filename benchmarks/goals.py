"""The goals a run is held to, and their verdicts: pure functions of a suite's results.

A goal is a same-run ratio of one client's figure to another's (or, with no
reference, a figure itself) that must be at most a limit. A goal whose client,
reference or table is not in the run is left out: ``--only``, ``--sizes`` and
a run without ``--baseline`` measure less, and are held to less.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clients import BASELINE, REFERENCE
from stats import ratio

__all__ = ["GOALS", "Goal", "verdicts"]


@dataclass(frozen=True)
class Goal:
    """``client``'s ``key`` in the table at ``path`` (over ``reference``'s) <= ``limit``.

    ``{table}`` in the label and the path stands for each key of the table at
    ``path[:1]`` (each application, say).
    """

    label: str
    path: tuple[str, ...]
    key: str
    client: str
    reference: str | None
    limit: float


def _before_after(label: str, path: tuple[str, ...], key: str) -> Goal:
    return Goal(f"{label}, ric / ric@baseline", path, key, "ric", BASELINE, 1.0)


GOALS: dict[str, list[Goal]] = {
    "hot": [
        Goal("warm 64 B CPU, ric / awslambdaric", ("warm", "64"), "cpu_us", "ric", REFERENCE, 0.40),
        Goal("warm 64 B CPU, ric / floor", ("warm", "64"), "cpu_us", "ric", "floor", 1.0),
        Goal(
            "warm 1 MB CPU, ric / awslambdaric",
            ("warm", "1048576"),
            "cpu_us",
            "ric",
            REFERENCE,
            0.35,
        ),
        _before_after("warm 64 B CPU", ("warm", "64"), "cpu_us"),
        _before_after("warm 100 KB CPU", ("warm", "102400"), "cpu_us"),
        _before_after("warm 1 MB CPU", ("warm", "1048576"), "cpu_us"),
        _before_after("warm 6 MB CPU", ("warm", "6291456"), "cpu_us"),
        _before_after("next-to-next p50, 64 B", ("warm", "64"), "cycle_p50_us"),
    ],
    "cold": [
        Goal(
            "start to first /next, ric / awslambdaric",
            ("cold",),
            "first_next_ms",
            "ric",
            REFERENCE,
            0.70,
        ),
        Goal(
            "start to first response, ric / awslambdaric",
            ("cold",),
            "first_response_ms",
            "ric",
            REFERENCE,
            0.75,
        ),
        Goal(
            "RSS at first /next, ric / awslambdaric",
            ("cold",),
            "rss_first_next_kib",
            "ric",
            REFERENCE,
            1.0,
        ),
        _before_after("start to first /next", ("cold",), "first_next_ms"),
        _before_after("start to first response", ("cold",), "first_response_ms"),
        _before_after("RSS at first /next", ("cold",), "rss_first_next_kib"),
    ],
    "apps": [
        Goal(
            "Init Duration, {table}, ric / awslambdaric",
            ("apps", "{table}"),
            "init_ms",
            "ric",
            REFERENCE,
            1.0,
        ),
        _before_after("Init Duration, {table}", ("apps", "{table}"), "init_ms"),
    ],
    "rss": [
        # Flat: under a byte per invocation (setenv's leak is about 150).
        Goal(
            "RSS growth, ric, KiB per 100k invocations",
            ("rss",),
            "growth_kib_per_100k",
            "ric",
            None,
            64.0,
        ),
    ],
}


def _expand(goal: Goal, results: dict[str, Any]) -> list[Goal]:
    if "{table}" not in goal.path:
        return [goal]
    tables = results.get(goal.path[0], {})
    return [
        Goal(
            goal.label.format(table=name),
            (goal.path[0], name),
            goal.key,
            goal.client,
            goal.reference,
            goal.limit,
        )
        for name in tables
    ]


def _verdict(goal: Goal, results: dict[str, Any]) -> dict[str, Any] | None:
    clients = results.get("clients", {})
    if goal.client not in clients or (goal.reference and goal.reference not in clients):
        return None
    table: Any = results
    for step in goal.path:
        table = table.get(step) if isinstance(table, dict) else None
    if table is None:
        return None
    value = table.get(goal.client, {}).get(goal.key)
    measured = (
        ratio(value, table.get(goal.reference, {}).get(goal.key)) if goal.reference else value
    )
    return {
        "goal": f"{goal.label} <= {goal.limit:.2f}",
        "measured": measured,
        "met": measured is not None and measured <= goal.limit,
    }


def verdicts(suite: str, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each goal of ``suite`` that this run can judge, with what was measured and whether met."""
    judged = []
    for template in GOALS.get(suite, []):
        for goal in _expand(template, results):
            verdict = _verdict(goal, results)
            if verdict is not None:
                judged.append(verdict)
    return judged
