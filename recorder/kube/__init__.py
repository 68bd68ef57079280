"""Kubernetes: `wait_for` and `kube_check` against the API server, the machine's preflight
for kind, and the kind cluster a scenario declares."""
