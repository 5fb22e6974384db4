"""Adapters to the outside world: files, the usage store, the APIs, output formats."""
