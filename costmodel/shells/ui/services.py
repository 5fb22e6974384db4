"""What the dashboard's pages need from the library, as plain functions. No Streamlit here.

Pages and components call these to read uploads, apply a what-if discount, fold widget values
back into a scenario, and turn results into the labelled, formatted figures a page shows. The
figures themselves all come from :mod:`costmodel.core.report` and :mod:`costmodel.core.analysis`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import pandas as pd
import plotly.graph_objects as go

from costmodel.adapters import bundled
from costmodel.adapters.catalogue_files import bundled_catalogue
from costmodel.adapters.scenario_files import parse_scenario
from costmodel.adapters.user_files import MAX_FILE_BYTES, MAX_FILE_LABEL
from costmodel.core.analysis import ScenarioAnalysis, analyse
from costmodel.core.catalogue import Catalogue, Contract
from costmodel.core.layouts import Section
from costmodel.core.margin import MONTHS_PER_YEAR
from costmodel.core.money import format_money, format_percent, format_points
from costmodel.core.report import compare_runs
from costmodel.core.results import Comparison, ScenarioRun
from costmodel.core.scenario import INFERENCE_GEOS, PERIODS, Business, Scenario, Volume
from costmodel.errors import CostModelError, ScenarioError, located
from costmodel.shells import charts

__all__ = [
    "ALL_MODELS",
    "BUNDLED_ORDER",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_LABEL",
    "MAX_UPLOAD_MB",
    "MAX_WORKLOADS",
    "Explored",
    "Headline",
    "WorkloadEdit",
    "best_match",
    "bundled_scenario_paths",
    "compare_by_currency",
    "display_frame",
    "edited_scenario",
    "error_line",
    "explore",
    "headlines",
    "load_bundled",
    "marked_edited",
    "period_bounds",
    "plain_text",
    "scenario_from_upload",
    "upload_key",
    "usage_headlines",
    "what_if_catalogue",
    "with_workload_added",
    "with_workload_removed",
]

# The upload limit is the limit on every file costmodel reads (costmodel.adapters.user_files), stated
# once. The browser's uploader counts a megabyte as 1,000,000 bytes (1,048,576 only on Windows)
# while the server's transport cap (server.maxUploadSize, which must equal MAX_UPLOAD_MB) counts
# 1,048,576: checking the bytes makes 1,000,000 the one limit everywhere, with one message.
MAX_UPLOAD_MB: Final = 1
MAX_UPLOAD_BYTES: Final = MAX_FILE_BYTES
MAX_UPLOAD_LABEL: Final = MAX_FILE_LABEL
# The most workloads one scenario in the dashboard may hold: the recompute after an edit is
# linear in them (about a second at this many on a laptop), and a file may not ask for more.
MAX_WORKLOADS: Final = 1000
ALL_MODELS: Final = "All models"
# The worked examples first, then the hybrid and the reference file. Claims triage leads: it
# has a business block, so the first view a user sees shows gross margin as well as cost.
BUNDLED_ORDER: Final = (
    "claims-triage",
    "document-summarisation",
    "agentic-research",
    "claims-case-study",
    "support-platform",
    "reference",
)
SCENARIO_FOLDER: Final = bundled.SCENARIO_FOLDER


# -- scenarios in ---------------------------------------------------------------------------
def bundled_scenario_paths(folder: Path = SCENARIO_FOLDER) -> list[Path]:
    """The bundled scenario files, worked examples first."""
    rank = {stem: i for i, stem in enumerate(BUNDLED_ORDER)}
    paths = sorted(folder.glob("*.yaml"), key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
    return paths


def load_bundled(folder: Path = SCENARIO_FOLDER) -> dict[str, Scenario]:
    """Every bundled scenario by file stem, worked examples first.

    Each is named ``scenarios/<file>`` as the README and the CLI name it, not by its absolute
    path on the machine serving the page.
    """
    return {
        path.stem: parse_scenario(
            path.read_text(encoding="utf-8"), f"scenarios/{path.name}", base_dir=path.parent
        )
        for path in bundled_scenario_paths(folder)
    }


def upload_key(data: bytes) -> str:
    """A short stable key for an uploaded file's content."""
    return hashlib.sha256(data).hexdigest()[:12]


def scenario_from_upload(name: str, data: bytes, *, catalogue: Catalogue | None = None) -> Scenario:
    """Read an uploaded scenario file as the CLI reads one from disk, with the same messages.

    Raises :class:`~costmodel.errors.ScenarioError` (every problem located as
    ``NAME:LINE: field: ...``) for a file over :data:`MAX_UPLOAD_BYTES`, one that is not UTF-8
    text, not YAML, not a valid scenario, one naming a price file, or one with more than
    :data:`MAX_WORKLOADS` workloads.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise ScenarioError(
            located(
                f"the file is {len(data):,} bytes; expected a scenario file of at most "
                f"{MAX_UPLOAD_BYTES:,} bytes ({MAX_UPLOAD_LABEL})",
                file=name,
            )
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            located(f"cannot read as UTF-8 ({exc.reason}); expected a UTF-8 text file", file=name)
        ) from exc
    # With a catalogue given, parsing never opens a price file the upload names: an uploaded
    # file must not make the server read its files.
    scenario = parse_scenario(text, name, catalogue=catalogue or bundled_catalogue())
    if scenario.prices is not None:
        raise ScenarioError(
            located(
                "an uploaded scenario cannot name a price file; expected no 'prices' key (use "
                "the what-if discount in the sidebar, or `costmodel run --prices` on your "
                "computer)",
                file=name,
                field="prices",
            )
        )
    if len(scenario.workloads) > MAX_WORKLOADS:
        raise ScenarioError(
            located(
                f"{len(scenario.workloads):,} workloads; expected at most {MAX_WORKLOADS:,} in "
                "the dashboard (split the file, or use `costmodel run` on your computer)",
                file=name,
                field="workloads",
            )
        )
    return scenario


# -- the what-if price override -------------------------------------------------------------
def what_if_catalogue(
    base: Catalogue, percent: float, model: str = ALL_MODELS, *, today: date | None = None
) -> Catalogue:
    """``base`` with a negotiated discount on one model (or all), labelled as contracted.

    A discount of 0 returns ``base`` unchanged (list prices, or the scenario's own contract).
    """
    if not 0 <= percent <= 100:
        raise ScenarioError(f"discount: got {percent!r}; expected a percentage from 0 to 100")
    if percent == 0:
        return base
    target = "*" if model == ALL_MODELS else base.resolve(model)
    factor = (Decimal(100) - Decimal(str(percent))) / Decimal(100)
    scope = "every model" if target == "*" else target
    contract = Contract(
        name=f"What-if: {percent:g}% off {scope}",
        source="the dashboard's what-if discount",
        as_of=today or date.today(),
        factors={(target, "*"): factor},
    )
    return base.with_contract(contract)


# -- widget values back into a scenario -----------------------------------------------------
@dataclass(frozen=True)
class WorkloadEdit:
    """One workload's values as the editor shows them; None leaves a field as it was."""

    count: float | None = None
    per: str | None = None
    model: str | None = None
    input_tokens: float | None = None
    output_tokens: float | None = None
    cache_write_tokens: float | None = None
    cache_read_tokens: float | None = None
    batch_share: float | None = None
    cache_write_1h_tokens: float | None = None
    web_search_requests: float | None = None
    inference_geo: str | None = None
    name: str | None = None


_EDITED_FIELDS: Final = (
    "name",
    "model",
    "input_tokens",
    "output_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "web_search_requests",
    "batch_share",
    "inference_geo",
)


def edited_scenario(
    scenario: Scenario,
    workloads: Sequence[WorkloadEdit] = (),
    business: Mapping[str, float | None] | None = None,
    days_per_month: float | None = None,
) -> Scenario:
    """``scenario`` with the editor's changes; a field the user did not change keeps its value.

    ``workloads`` holds one edit per workload, by position (fewer leave the rest alone).
    ``business`` holds revenue, other_cogs and customers. Revenue of 0 means no business block
    (a margin needs revenue); customers of 0 means the number is not known. Raises
    :class:`~costmodel.errors.ScenarioError` for a value the file format would refuse.
    """
    for index, edit in enumerate(workloads):
        w = scenario.workloads[index]
        changes: dict[str, Any] = {}
        if edit.count is not None or edit.per is not None:
            count = w.requests.count if edit.count is None else float(edit.count)
            per = edit.per or w.requests.per
            if per not in PERIODS:
                raise ScenarioError(f"{w.name}: period: got {per!r}; expected one of {PERIODS}")
            if (count, per) != (w.requests.count, w.requests.per):
                changes["requests"] = Volume(count, per)
        for name in _EDITED_FIELDS:
            value = getattr(edit, name)
            if value is not None and value != getattr(w, name):
                changes[name] = value
        if "inference_geo" in changes and changes["inference_geo"] not in INFERENCE_GEOS:
            raise ScenarioError(
                f"{w.name}: inference_geo: got {changes['inference_geo']!r}; expected one of "
                f"{', '.join(INFERENCE_GEOS)}"
            )
        if "name" in changes:
            changes["name"] = _workload_name(scenario, index, str(changes["name"]))
        if changes:
            scenario = scenario.with_workload(index, **changes)
    if days_per_month is not None and days_per_month != scenario.days_per_month:
        if not math.isfinite(days_per_month) or not 0 < days_per_month <= 31:
            raise ScenarioError(
                f"days_per_month: got {days_per_month!r}; expected a number of days above 0, at "
                "most 31"
            )
        scenario = replace(scenario, days_per_month=float(days_per_month))
    if business is not None:
        scenario = replace(scenario, business=_edited_business(scenario.business, business))
    return scenario


def _workload_name(scenario: Scenario, index: int, name: str) -> str:
    name = name.strip()
    if not name:
        raise ScenarioError(f"workloads[{index}].name: got an empty name; expected a name")
    if any(w.name == name for i, w in enumerate(scenario.workloads) if i != index):
        raise ScenarioError(
            f"workloads[{index}].name: {name!r} is taken; expected a name no other workload has"
        )
    return name


def _unused_name(scenario: Scenario, base: str) -> str:
    names = {w.name for w in scenario.workloads}
    number = 2
    while f"{base}-{number}" in names:
        number += 1
    return f"{base}-{number}"


def with_workload_added(scenario: Scenario, like: int = 0) -> Scenario:
    """``scenario`` with a copy of workload ``like`` appended under a new name, to adjust.

    Raises :class:`~costmodel.errors.ScenarioError` at :data:`MAX_WORKLOADS`.
    """
    if len(scenario.workloads) >= MAX_WORKLOADS:
        raise ScenarioError(
            f"workloads: {len(scenario.workloads):,} already; expected at most {MAX_WORKLOADS:,}"
        )
    model = scenario.workloads[like]
    added = replace(model, name=_unused_name(scenario, model.name), line=None)
    return replace(scenario, workloads=(*scenario.workloads, added))


def with_workload_removed(scenario: Scenario, index: int) -> Scenario:
    """``scenario`` without workload ``index``; a scenario keeps at least one workload."""
    if len(scenario.workloads) <= 1:
        raise ScenarioError("workloads: a scenario needs at least one workload")
    workloads = scenario.workloads[:index] + scenario.workloads[index + 1 :]
    return replace(scenario, workloads=workloads)


EDITED_NOTE: Final = "edited in the dashboard"


def marked_edited(original: Scenario, edited: Scenario) -> Scenario:
    """``edited``, saying so in its source and description; ``original`` if nothing changed.

    The source names the file the edits started from, so the JSON export's ``source`` and the
    provenance notes say the figures are not the file's, and the YAML export's description
    says the same to whoever reads the file later.
    """
    if replace(edited, description=original.description) == original:
        return original
    note = f"Edited in the costmodel dashboard from {original.source}."
    description = original.description.strip()
    return replace(
        edited,
        source=f"{original.source} ({EDITED_NOTE})",
        description=f"{description} {note}" if description else note,
    )


def _edited_business(
    original: Business | None, values: Mapping[str, float | None]
) -> Business | None:
    revenue = values.get("revenue")
    if revenue is None:
        return original
    if revenue <= 0:
        return None
    other_cogs = values.get("other_cogs")
    customers = values.get("customers")
    return Business(
        revenue=float(revenue),
        other_cogs=float(other_cogs or 0.0),
        customers=float(customers) if customers else None,
    )


# -- results out ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Headline:
    """One st.metric: label, formatted value, optional delta and a help text."""

    label: str
    value: str
    delta: str | None = None
    delta_color: str = "normal"
    help: str | None = None
    delta_arrow: str = "auto"


NO_MARGIN_HELP: Final = (
    "Add revenue (and other costs of goods sold) under 'Business' to see gross margin."
)


def headlines(run: ScenarioRun) -> list[Headline]:
    """The explorer's headline figures, in reading order (two rows of four).

    Labels are short enough for a quarter of a laptop-width page; money labels name the
    currency, and the help text says what each figure is. Figures are monthly unless the label
    says annual.
    """
    c = run.currency
    m = run.margin
    annual = run.savings * MONTHS_PER_YEAR if m is None else m.annual_savings
    figures = [
        Headline(
            f"Sync cost ({c})",
            format_money(run.cost_sync, c),
            help="Monthly cost with every request on the synchronous Messages API.",
        ),
        Headline(
            f"Batch plan ({c})",
            format_money(run.cost_batch, c),
            delta=f"{format_money(-run.shown_savings, c)} vs sync",
            delta_color="inverse",
            help="Monthly cost with each workload's batch share sent through the Message "
            "Batches API.",
        ),
        Headline(
            f"Savings ({c})",
            format_money(run.shown_savings, c),  # sync minus batch as shown: the figures foot
            delta=f"{format_percent(run.savings_pct)} of sync",
            delta_color="off",
            delta_arrow="off",
            help="Monthly savings of the batch plan against sync.",
        ),
        Headline(
            f"Annual savings ({c})",
            format_money(annual, c),
            help="Twelve months of the monthly savings.",
        ),
    ]
    if m is None:
        figures += [
            Headline("Gross margin, sync", "—", help=NO_MARGIN_HELP),
            Headline("Gross margin, batch", "—", help=NO_MARGIN_HELP),
            Headline("Margin change", "—", help=NO_MARGIN_HELP),
        ]
    else:
        figures += [
            Headline(
                "Gross margin, sync",
                format_percent(m.gross_margin_sync_pct, 2),
                help="(Revenue − other COGS − inference) / revenue, all synchronous.",
            ),
            Headline(
                "Gross margin, batch",
                format_percent(m.gross_margin_batch_pct, 2),
                delta=format_points(m.delta_pp),
                help="Gross margin with the batch plan's inference cost.",
            ),
            Headline(
                "Margin change",
                format_points(m.delta_pp),
                help="Percentage points of gross margin the batch plan adds: the savings as a "
                "share of revenue, never the batch discount itself.",
            ),
        ]
    per_customer = m.savings_per_customer if m is not None else None
    figures.append(
        Headline(
            f"Per customer ({c})",
            format_money(per_customer, c) if per_customer is not None else "—",
            help="Monthly savings per customer."
            if per_customer is not None
            else "Set the number of customers under 'Business' to see the savings per customer.",
        )
    )
    return figures


def display_frame(section: Section, currency: str) -> pd.DataFrame:
    """A result section with its money, percent, point and count columns formatted as text."""
    frame = section.frame.copy().astype(object)
    for column in frame.columns:
        if column in section.money:
            frame[column] = [_shown(v, lambda x: format_money(x, currency)) for v in frame[column]]
        elif column in section.percent:
            frame[column] = [_shown(v, format_percent) for v in frame[column]]
        elif column in section.points:
            frame[column] = [_shown(v, format_points) for v in frame[column]]
        elif column in section.counts:
            frame[column] = [_shown(v, lambda x: f"{x:,.0f}") for v in frame[column]]
    return frame


def _shown(value: object, fmt: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, str):  # "unpriced": never shown as $0
        return value
    return str(fmt(value if isinstance(value, Decimal) else float(value)))  # type: ignore[arg-type]


_PUNCTUATION: Final = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub-flavoured markdown turns bare URLs and e-mail addresses into links after escapes are
# read, so an escape cannot stop it: a word joiner (U+2060, invisible, zero width) inside the
# pattern does. Applied after escaping, so the patterns see the escaped text.
_AUTOLINK: Final = re.compile(r"(?i)(https?|www|ftp)(?=\\[:.])|(?=\\@)")
WORD_JOINER: Final = "\u2060"


def plain_text(text: str) -> str:
    r"""``text`` for st.markdown, st.caption, st.error, labels and tabs exactly as written.

    Streamlit renders those as markdown: a scenario's description, a workload's name or a file
    name could otherwise load a remote image (``![x](http://...)``), make a live link, run
    maths between dollar signs or start a list. CommonMark reads a backslash before any ASCII
    punctuation as that character itself, so escaping every one leaves no markup at all; a
    bare URL or e-mail address gets an invisible word joiner so that it is not made a link.

    >>> print(plain_text("$99 a month, *5* off"))
    \$99 a month\, \*5\* off
    >>> print(plain_text("![x](127.0.0.1/a.png) <b>"))
    \!\[x\]\(127\.0\.0\.1\/a\.png\) \<b\>
    >>> plain_text("http://x") == "http" + WORD_JOINER + r"\:\/\/x"
    True
    """
    escaped = _PUNCTUATION.sub(r"\\\1", str(text))
    return _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, escaped)


def error_line(error: BaseException) -> str:
    """What the page says about an error, in one line, as the CLI prints it; never a traceback.

    A :class:`~costmodel.errors.CostModelError` carries a message written for people; anything
    else is a bug, named as such (the traceback goes to the dashboard's log).

    >>> print(error_line(ValueError("boom")))
    internal error (ValueError: boom); the details are in the dashboard's log: please report it
    """
    if isinstance(error, CostModelError):
        return " ".join(str(error).split())
    detail = " ".join(str(error).split())
    return (
        f"internal error ({type(error).__name__}{': ' + detail if detail else ''}); the details "
        "are in the dashboard's log: please report it"
    )


def compare_by_currency(runs: Sequence[ScenarioRun]) -> list[Comparison]:
    """One comparison per currency: amounts in different currencies are never mixed."""
    groups: dict[str, list[ScenarioRun]] = {}
    for run in runs:
        groups.setdefault(run.currency, []).append(run)
    return [compare_runs(group) for group in groups.values()]


# -- the explorer's recompute ---------------------------------------------------------------
@dataclass(frozen=True)
class Explored:
    """The explorer's figures for one scenario: the analysis and its five charts."""

    analysis: ScenarioAnalysis
    figures: dict[str, go.Figure]

    @property
    def run(self) -> ScenarioRun:
        return self.analysis.run


def pricing_day(scenario: Scenario) -> date:
    """The day the dashboard prices a scenario at: its ``price_date``, else today (the clock is
    read here, in the shell; the library takes the day as an argument)."""
    return scenario.price_date or date.today()


def explore(scenario: Scenario, catalogue: Catalogue, *, on: date | None = None) -> Explored:
    """Everything the explorer recomputes after a widget change: analysis and figures.

    ``benchmarks/dashboard.py`` times this path; the page caches it per scenario. ``on`` is the
    pricing day (default: :func:`pricing_day`).
    """
    analysis = analyse(scenario, catalogue, on=on or pricing_day(scenario))
    figures = {
        "workloads": charts.cost_by_workload(analysis.run),
        "waterfall": charts.margin_waterfall(analysis.waterfall, analysis.currency),
        "volume": charts.volume_chart(analysis.volume),
        "shares": charts.batch_share_chart(analysis.shares),
        "tornado": charts.tornado_chart(analysis.tornado),
    }
    return Explored(analysis, figures)


# -- measured usage ---------------------------------------------------------------------------
def period_bounds(
    chosen: Sequence[date] | date | None, first: date, last: date
) -> tuple[date, date]:
    """(since, until) for the store, ``until`` exclusive, from a date picker's (start, end).

    While the user is between the two clicks of a range the picker holds one day: the period is
    that day to the last day with usage.
    """
    picked = [chosen] if isinstance(chosen, date) else list(chosen or [])
    start = picked[0] if picked else first
    end = picked[1] if len(picked) > 1 else last
    return start, end + timedelta(days=1)


def usage_headlines(summary: Any) -> list[Headline]:
    """The actual-usage page's figures from a :class:`costmodel.core.measured.UsageSummary`."""
    totals = summary.totals()
    c = summary.currency
    not_billed = totals["errored"] + totals["expired"] + totals["canceled"]
    savings_pct = 100 * totals["savings"] / totals["cost_if_sync"] if totals["cost_if_sync"] else 0
    return [
        Headline(
            f"Billed ({c})",
            format_money(totals["cost_billed"], c),
            help="What the stored batches cost: their succeeded requests at batch rates.",
        ),
        Headline(
            f"Had it been sync ({c})",
            format_money(totals["cost_if_sync"], c),
            help="The same tokens sent through the synchronous Messages API.",
        ),
        Headline(
            f"Saved by batch ({c})",
            format_money(totals["savings"], c),
            delta=f"{format_percent(savings_pct)} of sync",
            delta_color="off",
            delta_arrow="off",
        ),
        Headline(
            "Requests succeeded",
            f"{totals['succeeded']:,}",
            delta=f"{not_billed:,} not billed" if not_billed else None,
            delta_color="off",
            delta_arrow="off",
            help=f"Errored {totals['errored']:,} · expired {totals['expired']:,} · canceled "
            f"{totals['canceled']:,}: counted, never billed.",
        ),
    ]


def best_match(offered: Mapping[str, Any], keys: Sequence[str]) -> str | None:
    """The label of the offered scenario whose workload names match the most job names.

    ``offered`` maps labels to objects with a ``scenario``; None when nothing matches.
    """
    jobs = set(keys)
    best, best_count = None, 0
    for label, choice in offered.items():
        count = sum(w.name in jobs for w in choice.scenario.workloads)
        if count > best_count:
            best, best_count = label, count
    return best
