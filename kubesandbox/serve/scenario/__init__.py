"""Scenarios: a cluster's state written down as YAML, loaded into the sandbox store.

A scenario file holds what `kubectl get -o yaml` prints for the objects of a namespace, status
included: a multi-document YAML stream, or one `kind: List` with `items`. The sandbox then serves
those objects as if a real cluster had reached that state. Because a real API server would never
have held an invalid object, the loader rejects what the server would have rejected on the way in
(selector that does not match the template labels, containers without name or image, non-string
labels or annotations, bad names) and what a snapshot of a real cluster cannot contain (duplicate
objects or uids, owner references to objects that are not there). Each failure is a
`ScenarioError` whose text is one line naming the file, the document and the field, e.g.
`ea-plan-v5.yaml: document 7 (Deployment/web): spec.replicas: expected an integer, got "three"`.

`ImageBehavior` documents (`apiVersion: sandbox.selfheal.dev/v1alpha1`) are not Kubernetes objects:
they tell the kubelet emulation what the containers of an image do (see BEHAVIORS). They are
collected into `Scenario.behaviors` and never stored.

Decisions:

- Objects are stored as written, like a snapshot: no defaulting. Write what a real server shows
  (defaults included). `metadata.resourceVersion` is dropped because the store assigns every object
  a fresh one; `uid`, `creationTimestamp` and `generation` are kept, and filled by the store when
  missing.
- `metadata.namespace` is required on namespaced objects, since `kubectl get -o yaml` always prints
  it, except when the file has exactly one Namespace document: then it defaults to that namespace.
  When the file has Namespace documents, every namespace used must be one of them, so that a typo
  fails instead of quietly creating a second namespace. When it has none, a Namespace object is
  created for each namespace used (or for `default` if none is), shaped as the API server creates
  one.
- `ownerReferences` are resolved by kind and name in the dependent's own namespace (the garbage
  collector treats an owner in another namespace as absent). The owner must be in the scenario,
  because a real garbage collector would have deleted a dependent whose owner is missing. Its
  `apiVersion` must be the owner's. `uid` may be left out in hand-written scenarios: it is then
  copied from the owner, which gets a uid derived from its namespace, kind and name if it has none.
  When `uid` is given it must be the owner's. An object with a controller reference to a
  Deployment, ReplicaSet or Job must carry labels that match the owner's selector, because the
  controller would release (orphan) it otherwise.
- Times are absolute RFC 3339. The sandbox clock starts at `clock.DEFAULT_EPOCH`
  (2026-01-01T12:00:00Z), so write status times shortly before it.
- YAML is read as the API server reads JSON: unquoted timestamps stay strings, and a duplicate key
  in a mapping is an error (PyYAML would silently keep the last one).
- An image with no ImageBehavior gets the kubelet emulation's default behaviour. An ImageBehavior for
  an image that no container uses is allowed, since tests switch to such images (`kubectl set image`).
- Document numbers count every `---`-separated document from 1, empty ones included, so they match
  the file. Items of a `kind: List` are numbered from 1 within their document.
"""

from kubesandbox.serve.scenario.loader import (
    bundled_scenarios,
    load_into,
    load_scenario,
    parse_scenario,
    resolve,
)
from kubesandbox.serve.scenario.model import (
    BEHAVIORS,
    IMAGE_BEHAVIOR_KIND,
    SANDBOX_API_VERSION,
    Scenario,
    ScenarioError,
)
from kubesandbox.serve.scenario.timeline import replay_at, shift_scenario

__all__ = [
    "BEHAVIORS",
    "IMAGE_BEHAVIOR_KIND",
    "SANDBOX_API_VERSION",
    "Scenario",
    "ScenarioError",
    "bundled_scenarios",
    "load_into",
    "load_scenario",
    "parse_scenario",
    "replay_at",
    "resolve",
    "shift_scenario",
]
