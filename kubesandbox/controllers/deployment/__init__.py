"""The Deployment controller (pkg/controller/deployment), decision for decision.

One ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, found again by
`EqualIgnoreHash` so a scenario's ReplicaSet is adopted rather than duplicated); revisions,
revision history and the desired/max-replicas annotations as `deployment_util.go` keeps them;
RollingUpdate with maxSurge/maxUnavailable resolved like `ResolveFenceposts`, Recreate,
proportional scaling of a paused or mid-rollout Deployment, `revisionHistoryLimit` cleanup,
and the status and `Available` / `Progressing` conditions of `sync.go` / `progress.go` with
their messages. Within one sync the ReplicaSet objects are not re-read after scaling them,
exactly like the Go controller; the next pass (the manager reconciles until quiet) sees them.

The modules follow the Go controller's files: `controller` (the loop and `syncDeployment`),
`sync_context` (one sync's working copy and its writes), `revisions` (new/old ReplicaSets, revision
annotations, history cleanup), `scaling` (`sync`/`scale` of a paused or resized Deployment),
`rollout` (RollingUpdate and Recreate) and `status` (status and conditions). The pure helpers they
share (defaults, maxSurge/maxUnavailable, annotations, conditions) are in `..deployment_util`.
"""

from kubesandbox.controllers.deployment.controller import DeploymentController
from kubesandbox.controllers.deployment_util import DEPLOYMENTS

__all__ = ["DEPLOYMENTS", "DeploymentController"]
