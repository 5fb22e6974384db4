"""A made-up model with a dated price change and a retirement, laid over the bundled catalogue:
what the forecast and the Ranges page's fan chart are tested against."""

from __future__ import annotations

from pathlib import Path

from costmodel.adapters.catalogue_files import bundled_catalogue, load_price_file
from costmodel.core.catalogue import Catalogue

ACME_PRICES = """\
name: Test prices
models:
  acme-model:
    name: Acme model
    retired: 2027-03-10
    prices:
      - {from: 2026-01-01, input_mtok: 1, output_mtok: 2, source: "contract"}
      - {from: 2027-01-16, input_mtok: 2, output_mtok: 4, source: "contract, second year"}
"""


def acme_catalogue(folder: Path) -> Catalogue:
    """The bundled catalogue with ``acme-model`` laid over it (its price file written in
    ``folder``)."""
    path = folder / "prices.yaml"
    path.write_text(ACME_PRICES)
    return load_price_file(path, bundled_catalogue())
