"""Assembling and serving a sandbox: the `Sandbox` facade, scenarios, kubeconfig, TLS, `kubesandbox serve`."""
