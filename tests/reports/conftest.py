"""Fixtures of the report tests (the data itself is in ``data``)."""

from reports.data import loaded

__all__ = ["loaded"]
