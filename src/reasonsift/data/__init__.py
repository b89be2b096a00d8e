"""Data layer: the Example record, readers/writers, format importers/exporters, validation."""

from reasonsift.data.errors import DataError, Problem
from reasonsift.data.example import Example

__all__ = ["DataError", "Example", "Problem"]
