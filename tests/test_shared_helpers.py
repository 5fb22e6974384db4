"""The helpers the de-duplication introduced: one time parser, one bounded-decimal CLI type,
typed errors for out-of-range library arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import click
import pytest

from costmodel.adapters.scenario_files import parse_scenario
from costmodel.core.analysis import sensitivity
from costmodel.core.money import to_decimal
from costmodel.core.times import as_day, as_utc, naive_utc, parse_moment
from costmodel.errors import CostModelError, InvalidArgumentError
from costmodel.shells.cli.options import MAX_AMOUNT, Amount
from costmodel.shells.cli.org import Tolerance


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-03T14:05:00Z", datetime(2026, 11, 3, 14, 5, tzinfo=UTC)),
        ("2026-11-03T14:05:00z", datetime(2026, 11, 3, 14, 5, tzinfo=UTC)),
        ("2026-11-03T14:05:00+02:00", datetime(2026, 11, 3, 12, 5, tzinfo=UTC)),
        ("2026-11-03T14:05:00", datetime(2026, 11, 3, 14, 5, tzinfo=UTC)),  # naive: UTC
        ("2026-11-03", datetime(2026, 11, 3, tzinfo=UTC)),
    ],
)
def test_parse_moment_gives_aware_utc(text: str, expected: datetime) -> None:
    moment = parse_moment(text)
    assert moment == expected and moment.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01", "2026-11-03T25:00:00Z"])
def test_parse_moment_refuses_what_is_not_a_time(text: str) -> None:
    with pytest.raises(ValueError):
        parse_moment(text)


def test_as_utc_and_naive_utc_agree_on_the_instant() -> None:
    east = datetime(2026, 12, 1, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert as_utc(east) == datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert naive_utc(east) == datetime(2026, 11, 30, 22, 30)
    assert naive_utc(date(2026, 12, 1)) == datetime(2026, 12, 1)


def test_as_day_takes_dates_datetimes_and_iso_text() -> None:
    day = date(2026, 12, 1)
    assert as_day(day) == as_day(datetime(2026, 12, 1, 23, 59)) == as_day("2026-12-01") == day
    with pytest.raises(ValueError):
        as_day("12/01/2026")


@pytest.mark.parametrize("text", ["nan", "inf", "-1", "1e14", "lots"])
def test_amount_refuses_what_is_not_a_finite_amount_in_range(text: str) -> None:
    with pytest.raises(click.BadParameter, match="expected"):
        Amount().convert(text, None, None)


def test_amount_and_tolerance_convert() -> None:
    assert Amount().convert(" 99.50 ", None, None) == Decimal("99.50")
    assert Amount().convert(str(MAX_AMOUNT), None, None) == MAX_AMOUNT
    assert Tolerance().convert("0.5%", None, None) == Decimal("0.005")
    assert Tolerance().convert("100", None, None) == 1
    for text in ("nan%", "-1%", "101%", "half"):
        with pytest.raises(click.BadParameter, match="expected a percentage"):
            Tolerance().convert(text, None, None)


def test_out_of_range_arguments_are_typed_errors() -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        to_decimal(float("nan"))
    assert isinstance(caught.value, CostModelError) and isinstance(caught.value, ValueError)
    scenario = parse_scenario(
        "name: s\nworkloads:\n  - {name: w, model: claude-sonnet-4-5, requests: 10, "
        "input_tokens: 100, output_tokens: 10}\n"
    )
    with pytest.raises(InvalidArgumentError, match=r"step: got 1\.5"):
        sensitivity(scenario, lambda s: 0.0, step=1.5)
