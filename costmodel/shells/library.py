"""The library's questions as functions: each takes the catalogue and the pricing day it rests on.

These are the public entry points ``costmodel`` re-exports (see ``costmodel.__all__``), over
the modules that do the work: scenario files (:mod:`costmodel.core.scenario`), their results
(:mod:`costmodel.core.report`), the usage store's summaries and calibration
(:mod:`costmodel.core.measured`) and rendering (:mod:`costmodel.adapters.render`). Unlike the CLI they never
read the clock: every function that prices takes ``catalogue`` and ``on`` as arguments, so a
figure does not change with the day the code runs. (:func:`costmodel.cost_of` is the one
convenience that defaults them, and says so.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from costmodel.adapters.render import Renderable
    from costmodel.adapters.store import Store
    from costmodel.core.catalogue import Catalogue, PriceEntry
    from costmodel.core.measured import UsageSummary
    from costmodel.core.results import (
        Comparison,
        PriceList,
        ScenarioDiff,
        ScenarioRun,
        ValidationReport,
    )
    from costmodel.core.scenario import Scenario

__all__ = [
    "calibrate_scenario",
    "compare_scenarios",
    "diff_scenarios",
    "load_scenario",
    "price_list",
    "rates_on",
    "render_result",
    "resolve_model",
    "run_scenario",
    "summarise_usage",
    "validate_scenarios",
]


def load_scenario(path: str | Path, *, catalogue: Catalogue | None = None) -> Scenario:
    """Read and validate a scenario file, or a bundled scenario by name (``"claims-triage"``).

    Every problem in the file is reported at once, located by line, in one
    :class:`~costmodel.errors.ScenarioError`. ``catalogue`` checks the models it names.

    >>> scenario = load_scenario("claims-triage")
    >>> scenario.name, [w.name for w in scenario.workloads]
    ('Claims triage (classification)', ['claim-classification'])
    """
    from costmodel.adapters.bundled import resolve_scenario
    from costmodel.adapters.scenario_files import load_scenario as load

    return load(resolve_scenario(path), catalogue=catalogue)


def run_scenario(scenario: Scenario, *, catalogue: Catalogue, on: date) -> ScenarioRun:
    """A scenario's month, synchronous and through the Batches API, at ``catalogue``'s rates
    on ``on``: cost per workload, savings, and gross margin where it has a business block.

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> run = run_scenario(load_scenario("claims-triage"), catalogue=bundled_catalogue(),
    ...                    on=date(2026, 12, 1))
    >>> run.exact_total("cost_sync"), run.exact_total("cost_batch")
    (Decimal('412.5'), Decimal('206.25'))
    """
    from costmodel.core.report import run_scenario as run

    return run(scenario, catalogue, on=on)


def compare_scenarios(runs: Sequence[ScenarioRun]) -> Comparison:
    """Scenario runs side by side (render it with :func:`render_result`).

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> day, catalogue = date(2026, 12, 1), bundled_catalogue()
    >>> runs = [run_scenario(load_scenario(name), catalogue=catalogue, on=day)
    ...         for name in ("claims-triage", "document-summarisation")]
    >>> [run.scenario.name for run in compare_scenarios(runs).runs]
    ['Claims triage (classification)', 'Document summarisation (contract review)']
    """
    from costmodel.core.report import compare_runs

    return compare_runs(runs)


def diff_scenarios(
    baseline: ScenarioRun, proposed: ScenarioRun, *, plan: str = "batch"
) -> ScenarioDiff:
    """What going from ``baseline`` to ``proposed`` does to the monthly cost of ``plan``
    (``"batch"`` or ``"sync"``), workload by workload.

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> day, catalogue = date(2026, 12, 1), bundled_catalogue()
    >>> baseline = run_scenario(load_scenario("claims-triage"), catalogue=catalogue, on=day)
    >>> proposed = run_scenario(load_scenario("claims-case-study"), catalogue=catalogue, on=day)
    >>> round(diff_scenarios(baseline, proposed, plan="sync").change, 2)
    -360.0
    """
    from costmodel.core.report import diff_runs

    return diff_runs(baseline, proposed, plan=plan)


def validate_scenarios(paths: Sequence[str | Path]) -> ValidationReport:
    """Check scenario (and migration policy) files without running them; every problem listed.

    >>> validate_scenarios(["claims-triage.yaml"]).ok  # a file that does not exist here
    False
    """
    from costmodel.adapters.scenario_files import validate_files

    return validate_files(paths)


def price_list(*, catalogue: Catalogue, on: date, model: str | None = None) -> PriceList:
    """The catalogue's rates in force on ``on``, or (with ``model``) that model's history.

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> prices = price_list(catalogue=bundled_catalogue(), on=date(2026, 12, 1),
    ...                     model="claude-haiku-4-5")
    >>> prices.rows[["model", "input_mtok", "output_mtok"]].to_dict("records")
    [{'model': 'claude-haiku-4-5', 'input_mtok': Decimal('1'), 'output_mtok': Decimal('5')}]
    """
    from costmodel.core.report import price_list as build

    return build(catalogue, model=model, on=on)


def rates_on(model: str, on: date, *, catalogue: Catalogue) -> PriceEntry:
    """The catalogue entry (rates, source, dates) in force for ``model`` on ``on``.

    ``model`` may be any name usage data writes (a snapshot id, an alias, a Bedrock id);
    an unknown one is an :class:`~costmodel.errors.UnknownModelError` naming the closest ids.

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> entry = rates_on("claude-sonnet-4-5-20250929", date(2026, 11, 24),
    ...                  catalogue=bundled_catalogue())
    >>> entry.rates.input_mtok, entry.rates.output_mtok, entry.effective_from
    (Decimal('3'), Decimal('15'), datetime.date(2026, 4, 30))
    """
    return catalogue.model(model).price_on(on)


def resolve_model(name: str, *, catalogue: Catalogue) -> str:
    """The catalogue id a model name refers to (exact ids, aliases, snapshot and partner forms;
    never a fuzzy match).

    >>> from costmodel import bundled_catalogue
    >>> resolve_model("claude-3-5-sonnet-20241022", catalogue=bundled_catalogue())
    'claude-3-5-sonnet'
    >>> resolve_model("claude-sonet-4-5", catalogue=bundled_catalogue())
    Traceback (most recent call last):
    costmodel.errors.UnknownModelError: unknown model 'claude-sonet-4-5'; did you mean ...
    """
    return catalogue.resolve(name)


def summarise_usage(
    store: Store,
    *,
    catalogue: Catalogue,
    by: str = "model",
    since: date | None = None,
    until: date | None = None,
) -> UsageSummary:
    """What the stored batches cost (at batch rates, each on its own day's prices) against the
    same tokens sent synchronously, by ``model``, ``job``, ``batch``, ``day`` or ``month``.
    Errored, canceled and expired requests are counted and never billed.

    >>> import shutil
    >>> from costmodel import bundled_catalogue, open_store
    >>> folder = _example_batch()  # one generated batch of 40 Haiku 4.5 requests, in a file
    >>> with open_store(folder / "usage.duckdb") as store:
    ...     _ = store.write_batch(*_example_source(folder))
    ...     summary = summarise_usage(store, catalogue=bundled_catalogue())
    >>> shutil.rmtree(folder)
    >>> list(summary.rows["key"]), int(summary.rows["succeeded"].sum())
    (['claude-haiku-4-5'], 40)
    """
    from costmodel.core.measured import usage_summary

    return usage_summary(store, by=by, since=since, until=until, catalogue=catalogue)


def calibrate_scenario(
    store: Store,
    *,
    catalogue: Catalogue,
    job: str | None = None,
    since: date | None = None,
    until: date | None = None,
    name: str | None = None,
) -> str:
    """A scenario file (YAML text) fitted from stored usage: one workload per job and model,
    monthly volume and mean tokens per request, ready for :func:`load_scenario`.

    >>> import shutil
    >>> from costmodel import bundled_catalogue, open_store
    >>> folder = _example_batch()
    >>> with open_store(folder / "usage.duckdb") as store:
    ...     _ = store.write_batch(*_example_source(folder))
    ...     text = calibrate_scenario(store, catalogue=bundled_catalogue(), job="claims")
    >>> shutil.rmtree(folder)
    >>> print(text.split("workloads:")[1].split("input_tokens")[0].strip())
    - name: claims
      model: claude-haiku-4-5
      requests:   # 40 succeeded in 1 days
        count: 1200
        per: month
    """
    from costmodel.core.calibration import calibrate

    return calibrate(store, job=job, since=since, until=until, name=name, catalogue=catalogue)


def render_result(result: Renderable, fmt: str = "table", *, width: int | None = None) -> str:
    """Any result (a run, comparison, diff, price list, usage summary...) as ``"table"``,
    ``"json"``, ``"csv"`` or ``"markdown"``; a table fits ``width`` columns (default 160).

    >>> from datetime import date
    >>> from costmodel import bundled_catalogue
    >>> run = run_scenario(load_scenario("claims-triage"), catalogue=bundled_catalogue(),
    ...                    on=date(2026, 12, 1))
    >>> print(render_result(run, "csv").splitlines()[0][:48])
    row,name,model,requests,input_tokens,output_toke
    """
    from costmodel.adapters.render import render

    return render(result, fmt, width=width)


def _example_batch() -> Path:
    """A folder holding one generated batch results file (for the examples above)."""
    import tempfile

    from costmodel.adapters.synthetic import write_results

    folder = Path(tempfile.mkdtemp(prefix="costmodel-example-"))
    models = (("claude-haiku-4-5-20251001", 1.0, False, False),)
    write_results(
        folder / "msgbatch_01Example_results.jsonl",
        40,
        seed=3,
        job="claims",
        errored=0,
        expired=0,
        canceled=0,
        models=models,
    )
    return folder


def _example_source(folder: Path) -> tuple[dict[str, object], object]:
    from datetime import UTC, datetime

    from costmodel.adapters.ingest.files import read_results

    created = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    source = read_results(
        folder / "msgbatch_01Example_results.jsonl", created_at=created, ended_at=created
    )
    return source.batch_meta(), source
