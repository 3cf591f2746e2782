"""Target paths and status on both sides of the path, for both directions (pure rules)."""

import datetime

import pytest

from kechuang.plans.status import AT_RISK, OFF_TRACK, ON_TRACK, Path, classify, year_fraction

# Baseline 100 at end of 2022, target 200 at end of 2025: linear path gains 100/3 a year.
PATH = Path(baseline=100, baseline_year=2022, target=200, target_year=2025)


def test_linear_path_passes_through_baseline_and_target():
    assert PATH.value_at(2023.0) == 100
    assert PATH.value_at(2026.0) == 200
    assert PATH.value_at(2024.0) == pytest.approx(100 + 100 / 3)
    assert year_fraction(datetime.date(2025, 12, 31)) == 2026.0


def test_up_indicator_status_on_both_sides_of_the_path():
    expected = PATH.value_at(2024.0)  # 133.33
    span = PATH.span  # 100: at risk down to 10 below the path
    assert classify(140, expected, span=span, target=200) == ON_TRACK
    assert classify(expected, expected, span=span, target=200) == ON_TRACK
    assert classify(125, expected, span=span, target=200) == AT_RISK
    assert classify(120, expected, span=span, target=200) == OFF_TRACK


def test_down_indicator_is_mirrored():
    # e.g. energy use per unit of output: 50 → 30
    path = Path(baseline=50, baseline_year=2022, target=30, target_year=2025)
    expected = path.value_at(2025.0)  # 36.67
    assert classify(35, expected, span=path.span, target=30, direction="down") == ON_TRACK
    assert classify(38, expected, span=path.span, target=30, direction="down") == AT_RISK
    assert classify(40, expected, span=path.span, target=30, direction="down") == OFF_TRACK


def test_front_loaded_and_custom_paths():
    front = Path(baseline=0, baseline_year=2022, target=100, target_year=2024, kind="front_loaded")
    assert front.value_at(2024.0) == pytest.approx(75)  # half the time, three quarters of the way
    custom = Path(
        baseline=0,
        baseline_year=2022,
        target=100,
        target_year=2025,
        kind="custom",
        points={"2023": 10, "2024": 20},
    )
    assert custom.value_at(2024.0) == 10
    assert custom.value_at(2025.0) == 20
    assert custom.value_at(2025.5) == pytest.approx(60)
