"""The PATCH engine: applies a PATCH body to an object the way a 1.32 kube-apiserver does.

Pure: no store, no HTTP. The HTTP layer calls `apply_patch` with the current object and gets a new one
back (or an `ApiError` to answer with); it validates the result itself (name, namespace, uid, schema).

Each semantic follows the Go sources the apiserver runs, not the RFCs, where they differ; the modules say
why in detail:

* `json_patch` - JSON patch (RFC 6902) as evanphx/json-patch v4.12.0, quirks included;
* `merge_patch` - JSON merge patch (RFC 7386) as the same library's `MergePatch`;
* `strategic` - Kubernetes strategic merge patch (k8s.io/apimachinery `strategicpatch`, server options),
  with its list helpers in `lists`, `directives` and `gosort`, and the per-kind field table in
  `strategies` (`PATCH_STRATEGIES`);
* `failures` - how failures become API errors (status, reason, message) as the apiserver shapes them;
* `gojson` / `goscanner` - Go's encoding/json wording for undecodable bodies and Go's view of values;
* `values` - small helpers on decoded JSON values shared by all of the above.
"""

from __future__ import annotations

from typing import Any, Final

from kubesandbox.apiserver.patching.goscanner import go_syntax_error
from kubesandbox.apiserver.patching.json_patch import (
    MAX_JSON_PATCH_COPY_BYTES,
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
)
from kubesandbox.apiserver.patching.merge_patch import apply_merge_patch
from kubesandbox.apiserver.patching.strategic import apply_strategic_merge_patch
from kubesandbox.apiserver.patching.strategies import PATCH_STRATEGIES, PatchStrategy
from kubesandbox.resources.errors import bad_request, unsupported_media_type

__all__ = [
    "JSON_PATCH",
    "MAX_JSON_PATCH_COPY_BYTES",
    "MAX_JSON_PATCH_OPERATIONS",
    "MERGE_PATCH",
    "PATCH_STRATEGIES",
    "STRATEGIC_MERGE_PATCH",
    "PatchStrategy",
    "apply_patch",
    "check_patch_body",
]

JSON_PATCH: Final = "application/json-patch+json"
MERGE_PATCH: Final = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"


def check_patch_body(patch_body: bytes, content_type: str) -> None:
    """What the PATCH handler refuses before it looks at the object: a type it does not take (415), a body
    that is not JSON at all (400)."""
    media_type = content_type.split(";", 1)[0].strip()
    if media_type not in (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH):
        raise unsupported_media_type(content_type)
    if go_syntax_error(patch_body) is not None:
        raise bad_request("invalid JSON patch")


def apply_patch(original: dict[str, Any], patch_body: bytes, content_type: str, kind: str) -> dict[str, Any]:
    """Return `original` with the PATCH body applied; `original` itself is left untouched.

    `content_type` may carry parameters (`; charset=utf-8`): like the apiserver, only the part before the
    first `;` selects the patch type. `kind` selects the strategic-merge field table (unknown kinds have no
    merge lists, so every list is replaced).
    """
    check_patch_body(patch_body, content_type)
    media_type = content_type.split(";", 1)[0].strip()
    if media_type == JSON_PATCH:
        patched = apply_json_patch(original, patch_body)
    elif media_type == MERGE_PATCH:
        patched = apply_merge_patch(original, patch_body)
    else:
        patched = apply_strategic_merge_patch(original, patch_body, kind)
    return patched
