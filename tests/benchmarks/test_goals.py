"""Goals are judged on what a run measured, and left out when it did not measure them."""

from __future__ import annotations

from typing import Any

import pytest
from goals import verdicts


def _clients(*names: str) -> dict[str, str]:
    return {name: f"python -m {name}" for name in names}


def test_ratio_goals_against_the_reference_and_the_baseline() -> None:
    results: dict[str, Any] = {
        "clients": _clients("ric", "ric@baseline", "awslambdaric"),
        "cold": {
            "ric": {"first_next_ms": 20.0, "first_response_ms": 21.0, "rss_first_next_kib": 9.0},
            "ric@baseline": {
                "first_next_ms": 25.0,
                "first_response_ms": 20.0,
                "rss_first_next_kib": 9.0,
            },
            "awslambdaric": {
                "first_next_ms": 40.0,
                "first_response_ms": 42.0,
                "rss_first_next_kib": 12.0,
            },
        },
    }
    judged = {v["goal"]: (v["measured"], v["met"]) for v in verdicts("cold", results)}
    assert judged["start to first /next, ric / awslambdaric <= 0.70"] == (0.5, True)
    assert judged["start to first /next, ric / ric@baseline <= 1.00"] == (0.8, True)
    assert judged["start to first response, ric / ric@baseline <= 1.00"] == (1.05, False)
    assert judged["RSS at first /next, ric / ric@baseline <= 1.00"] == (1.0, True)
    assert len(judged) == 6


def test_goals_of_absent_clients_are_left_out() -> None:
    results = {
        "clients": _clients("ric", "awslambdaric"),
        "warm": {"64": {"ric": {"cpu_us": 50.0}, "awslambdaric": {"cpu_us": 200.0}}},
    }
    judged = verdicts("hot", results)
    assert [v["goal"] for v in judged] == ["warm 64 B CPU, ric / awslambdaric <= 0.40"]
    assert judged[0]["measured"] == 0.25
    assert judged[0]["met"]


def test_a_missing_figure_is_not_met() -> None:
    results = {
        "clients": _clients("ric", "awslambdaric"),
        "warm": {"64": {"ric": {}, "awslambdaric": {"cpu_us": 200.0}}},
    }
    assert verdicts("hot", results) == [
        {"goal": "warm 64 B CPU, ric / awslambdaric <= 0.40", "measured": None, "met": False}
    ]


def test_a_goal_per_application() -> None:
    results = {
        "clients": _clients("ric", "awslambdaric"),
        "apps": {
            "Powertools": {"ric": {"init_ms": 90.0}, "awslambdaric": {"init_ms": 100.0}},
            "FastAPI": {"ric": {"init_ms": 110.0}, "awslambdaric": {"init_ms": 100.0}},
        },
    }
    judged = [(v["goal"], v["met"]) for v in verdicts("apps", results)]
    assert judged == [
        ("Init Duration, Powertools, ric / awslambdaric <= 1.00", True),
        ("Init Duration, FastAPI, ric / awslambdaric <= 1.00", False),
    ]


@pytest.mark.parametrize(("growth", "met"), [(0.0, True), (64.0, True), (14_648.0, False)])
def test_rss_growth_is_judged_as_a_figure(growth: float, met: bool) -> None:
    results = {"clients": _clients("ric"), "rss": {"ric": {"growth_kib_per_100k": growth}}}
    assert verdicts("rss", results) == [
        {
            "goal": "RSS growth, ric, KiB per 100k invocations <= 64.00",
            "measured": growth,
            "met": met,
        }
    ]


def test_a_suite_without_goals() -> None:
    assert verdicts("emulator", {"clients": _clients("ric"), "end_to_end": {}}) == []
