"""The Table envelope: which printer a kind gets, and how rows and their objects are wrapped.

This is the only part that knows about the `meta.k8s.io/v1 Table` shape and its query options
(`includeObject`, `noHeaders`); the printer modules only produce columns and cells. Keeping the two
apart is what lets a printer be tested cell by cell and the envelope once for every kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubesandbox.apiserver.tables.columns import Obj, Printer
from kubesandbox.apiserver.tables.other import DEFAULT_PRINTER, OTHER_PRINTERS
from kubesandbox.apiserver.tables.pods import POD_PRINTERS
from kubesandbox.apiserver.tables.workloads import WORKLOAD_PRINTERS
from kubesandbox.resources.errors import bad_request

INCLUDE_OBJECT_VALUES = ("None", "Metadata", "Object")

# printers.go AddHandlers, in the order and with the priorities of release-1.32
PRINTERS: dict[str, Printer] = {**POD_PRINTERS, **WORKLOAD_PRINTERS, **OTHER_PRINTERS}


def to_table(
    kind: str,
    objects: list[dict[str, Any]],
    now: datetime,
    *,
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    no_headers: bool = False,
) -> dict[str, Any]:
    """Render `objects` (all of `kind`) as the Table the real apiserver would send.

    `list_meta` becomes the Table's `metadata`: the list's resourceVersion/continue for a LIST, the
    object's resourceVersion for a single GET (that is what the real TableGenerator copies).

    `include_object` is the `includeObject` query parameter ("" counts as the default, Metadata);
    anything else is the same 400 the apiserver answers. `no_headers` mirrors `TableOptions.noHeaders`
    (watch events after the first omit the column definitions).
    """
    if include_object not in INCLUDE_OBJECT_VALUES and include_object != "":
        raise bad_request(f'unrecognized includeObject value: "{include_object}"')
    printer = PRINTERS.get(kind, DEFAULT_PRINTER)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj) if printer.conditions else []
        if conditions:
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    table: dict[str, Any] = {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(list_meta or {}),
    }
    if not no_headers:
        table["columnDefinitions"] = [c.to_json() for c in printer.columns]
    table["rows"] = rows
    return table


def _row_object(obj: Obj, include_object: str) -> dict[str, Any] | None:
    if include_object == "None":
        return None  # RawExtension with nothing in it marshals as `null`
    if include_object == "Object":
        return dict(obj)
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(obj.get("metadata") or {}),
    }
