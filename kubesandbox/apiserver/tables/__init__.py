"""Server-side printing: the `meta.k8s.io/v1 Table` a kube-apiserver 1.32 answers to `kubectl get`.

kubectl asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` and prints whatever columns
the server sends; a plain list makes it fall back to NAME and AGE. So the columns, their order, their
`priority` (1 = only with `-o wide`) and every cell string must be the ones the real printers produce
(kubernetes/kubernetes `pkg/printers/internalversion/printers.go`, release-1.32), or a reader of the
sandbox's `kubectl get` output would learn something a real cluster never says.

Two details of the real server matter for the shape of what is built here:

- The apiserver's TableConvertor always generates with `Wide: true` (`pkg/printers/storage`), so
  every row carries the wide cells too; kubectl drops priority-1 columns unless `-o wide`.
- Row objects follow the `includeObject` query parameter (`apiserver/.../handlers/response.go`
  `asTable`): `Metadata` (kubectl's default) turns each into a `PartialObjectMetadata`.

Kinds without a printer get the apiserver's default convertor: `Name` and `Created At`
(`apiserver/pkg/registry/rest/table.go`) — that is what `kubectl get role` shows on a real cluster.

The package, from the bottom up: `descriptions` (the columns' swagger texts, as data), `columns`
(what a printer is), `format` (ages, labels, selectors: the renderings every printer shares), one
module per family of printers (`pods`, `workloads`, `other`), and `table` (the envelope and the
kind → printer registry).
"""

from kubesandbox.apiserver.tables.columns import Cells, Column, Obj, Printer
from kubesandbox.apiserver.tables.format import (
    format_label_selector,
    format_labels,
    human_duration,
    selector_string,
    since,
)
from kubesandbox.apiserver.tables.other import DEFAULT_PRINTER
from kubesandbox.apiserver.tables.pods import pod_status_reason
from kubesandbox.apiserver.tables.table import INCLUDE_OBJECT_VALUES, PRINTERS, to_table
from kubesandbox.apiserver.tables.workloads import format_hpa_metrics

__all__ = [
    "DEFAULT_PRINTER",
    "INCLUDE_OBJECT_VALUES",
    "PRINTERS",
    "Cells",
    "Column",
    "Obj",
    "Printer",
    "format_hpa_metrics",
    "format_label_selector",
    "format_labels",
    "human_duration",
    "pod_status_reason",
    "selector_string",
    "since",
    "to_table",
]
