"""The pure core: pricing, scenarios, margins and analyses; no I/O, no clock."""
