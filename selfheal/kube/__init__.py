"""What the job knows about Kubernetes, below everything else: the wire model, the one HTTP path and its
errors, kubectl's view of revisions, how containers fail, the annotations the job reads, and the exact
request bodies it can send. Nothing here knows about findings, plans or the pass.

Import the submodules directly; this package imports none of them, so a pure layer importing
`selfheal.kube.model` never pulls the transport in.
"""
