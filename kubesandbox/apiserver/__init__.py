"""The API server: one request in, one answer out, the way kube-apiserver answers it.

Routing, authentication and RBAC, discovery, the three patch types, validation, dry-run,
managedFields, Tables, protobuf and fault injection. It reads and writes the `store`; it never
imports the controllers (evictions and orphaning are handed in by whoever assembles a sandbox).
"""
