"""What a kind reads from each CSV row, without the loader knowing the kind.

A kind subclasses ``RowValue``: it names the columns it reads (``columns``: from its config keys)
and turns a row's cells into its value (``read``), raising ``ColumnError`` naming the column for a
cell it cannot read. The loader calls every registered ``RowValue`` on every row, reports each
``ColumnError`` with file, row and column like its own, and keeps the values on ``UserSpec.values``,
where the kind's rule finds them (``spec.value(Schedule)``). A column is optional unless the
config names it on purpose (``required_columns``): an absent optional column reads as blank cells,
and a blank cell leaves the value unmanaged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from clocksync.config import Config

Cells = Callable[[str], str]  # column name -> the row's cell, stripped ("" when blank or absent)


class ColumnError(ValueError):
    """A cell a kind cannot read: ``column`` and what is wrong with it."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class RowValue(ABC):
    """A kind's value from one CSV row (subclasses register themselves)."""

    registry: ClassVar[list[type[RowValue]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RowValue.registry.append(cls)

    @classmethod
    @abstractmethod
    def columns(cls, config: Config) -> tuple[str, ...]:
        """The columns this kind reads, as named by the config."""

    @classmethod
    def required_columns(cls, config: Config) -> dict[str, str]:
        """The columns the users file must have, each with the config key that names it (a column
        a config names on purpose is meant to be there: missing, it is a typo, not blank cells)."""
        return {}

    @classmethod
    @abstractmethod
    def read(cls, cell: Cells, config: Config) -> RowValue | None:
        """The row's value; None when every cell it reads is blank. Raises ColumnError."""
