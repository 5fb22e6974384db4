"""The Operations page's figures (costmodel.shells.charts_ops): the claims drawn as bands, flagged
days in red, and a plain message where there is nothing to draw."""

from __future__ import annotations

import pandas as pd
from test_ops import _frames

from costmodel.core.ops import summarise
from costmodel.shells import charts_ops


def _frame(by: str = "day") -> pd.DataFrame:
    batches = [
        ([99, 1, 0, 0], 9, 2.0, "overloaded_error", 1),
        ([90, 5, 0, 5], 14, 20.0, "api_error", 2),
        ([10, 0, 0, 0], None, None, None, 3),
    ]
    counts, times = _frames(batches)
    return summarise(counts, times, by=by).frame()


def test_turnaround_chart_draws_both_claims_as_bands_and_the_three_spans() -> None:
    figure = charts_ops.turnaround_chart(_frame("hour"), by="hour")
    bands = [(s.y0, s.y1) for s in figure.layout.shapes]
    assert bands == [(1.0, 4.0), (12.0, 24.0)]
    names = [trace.name for trace in figure.data]
    assert names[:3] == ["p50", "p95", "max"] and "Claim: 12-24 h at peak" in names
    assert list(figure.data[0].x) == ["09", "14"]  # the unknown hour has no time
    assert figure.layout.xaxis.title.text == "Hour of submission (UTC)"
    assert figure.layout.yaxis.range[1] >= 24


def test_success_rate_chart_flags_the_days_below_target_in_red() -> None:
    figure = charts_ops.success_rate_chart(_frame(), by="day")
    colours = list(figure.data[0].marker.color)
    assert colours == [charts_ops.SUCCESS_COLOUR, charts_ops.FLAG_COLOUR, charts_ops.SUCCESS_COLOUR]
    assert figure.layout.shapes[0].y0 == 0.99
    assert list(figure.data[0].y) == [0.99, 0.9, 1.0]


def test_errors_expired_and_tokens_charts() -> None:
    errors = charts_ops.errors_chart({"overloaded_error": 3, "api_error": 1})
    assert list(errors.data[0].y) == ["api_error", "overloaded_error"]  # most on top
    expired = charts_ops.expired_share_chart(_frame(), by="day")
    assert list(expired.data[0].y) == [0.0, 0.05, 0.0]
    tokens = charts_ops.tokens_per_request_chart(_frame(), by="day")
    assert tokens.data[0].name == "Input (uncached)"
    assert list(tokens.data[0].y) == [100.0, 100.0, 100.0]


def test_nothing_to_draw_says_so() -> None:
    empty = _frame().iloc[0:0]
    for figure in (
        charts_ops.turnaround_chart(empty),
        charts_ops.success_rate_chart(empty),
        charts_ops.expired_share_chart(empty),
        charts_ops.tokens_per_request_chart(empty),
        charts_ops.errors_chart({}),
    ):
        assert figure.layout.annotations and not figure.data
