"""emulator.core.routing: which version an alias runs, and the aliases Lambda refuses."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from emulator.core.routing import (
    Alias,
    InvalidRouting,
    UnknownVersion,
    check_alias_name,
    check_routing,
    is_version,
)


def test_an_alias_without_weights_always_runs_its_version() -> None:
    alias = Alias("live", "3")
    assert {alias.pick(draw) for draw in (0.0, 0.5, 0.999)} == {"3"}
    assert alias.versions == ("3",)


def test_the_draw_splits_at_the_additional_versions_weight() -> None:
    alias = Alias("canary", "1", {"2": 0.25})
    assert [alias.pick(d) for d in (0.0, 0.2499, 0.25, 0.9)] == ["2", "2", "1", "1"]
    assert alias.versions == ("1", "2")


def test_a_seeded_draw_routes_in_proportion_and_repeats() -> None:
    alias = Alias("canary", "1", {"2": 0.3})

    def runs(seed: int) -> list[str]:
        draw = random.Random(seed).random
        return [alias.pick(draw()) for _ in range(1000)]

    assert runs(7) == runs(7)
    shares = Counter(runs(7))
    assert 250 <= shares["2"] <= 350
    assert shares["1"] + shares["2"] == 1000


def test_weights_zero_and_one_are_all_or_nothing() -> None:
    assert Alias("a", "1", {"2": 0.0}).pick(0.0) == "1"
    assert Alias("a", "1", {"2": 1.0}).pick(0.999999) == "2"


def test_routing_is_checked_as_lambda_checks_it() -> None:
    published = {"1", "2", "3"}
    check_routing("$LATEST", {}, published)
    check_routing("1", {"2": 0.5}, published)
    with pytest.raises(UnknownVersion) as unknown:
        check_routing("9", {}, published)
    assert unknown.value.version == "9"
    with pytest.raises(UnknownVersion):
        check_routing("1", {"8": 0.5}, published)
    refused = [
        ("1", {"2": 0.1, "3": 0.1}, "cannot be greater than 1"),
        ("$LATEST", {"1": 0.5}, "$LATEST is not supported"),
        ("1", {"1": 0.5}, "already included in routing configuration"),
    ]
    for version, weights, message in refused:
        with pytest.raises(InvalidRouting, match=message.replace("$", r"\$")) as bad:
            check_routing(version, weights, published)
        assert not bad.value.malformed
    for weights in ({"2": 1.5}, {"$LATEST": 0.5}):
        with pytest.raises(InvalidRouting) as malformed:
            check_routing("1", weights, published)
        assert malformed.value.malformed


def test_alias_names_are_never_all_digits() -> None:
    check_alias_name("live-2_x")
    for name in ("12", "", "a" * 129, "no.dots"):
        with pytest.raises(InvalidRouting) as bad:
            check_alias_name(name)
        assert bad.value.malformed


def test_versions_are_latest_or_numbers() -> None:
    assert [is_version(q) for q in ("$LATEST", "12", "live")] == [True, True, False]
