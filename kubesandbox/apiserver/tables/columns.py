"""What a printer is: its `TableColumnDefinition`s and the function that fills one row's cells.

Every printer module builds `Printer`s from these pieces, and `table.py` only needs this shape to
assemble a Table, so the kinds stay independent of each other and of the Table envelope. The columns
almost every kind repeats (Name, Age, and the wide Containers/Images of workloads) are defined once here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubesandbox.apiserver.tables.descriptions import DOCS

Obj = Mapping[str, Any]
Cells = list[Any]


@dataclass(frozen=True)
class Column:
    """One `TableColumnDefinition`. `doc` is a key of `DOCS` (the API's swagger text) or literal text."""

    name: str
    type: str
    doc: str
    priority: int = 0
    format: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": DOCS.get(self.doc, self.doc),
            "priority": self.priority,
        }


@dataclass(frozen=True)
class Printer:
    """One kind's columns, its row cells (at a given now, for ages) and, optionally, its row conditions."""

    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime], Cells]
    conditions: Callable[[Obj], list[dict[str, str]]] | None = None


NAME = Column("Name", "string", "OM_NAME", format="name")
AGE = Column("Age", "string", "OM_CREATED")
CONTAINERS = Column("Containers", "string", "Names of each container in the template.", 1)
IMAGES = Column("Images", "string", "Images referenced by each container in the template.", 1)
