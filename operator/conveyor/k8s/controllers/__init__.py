"""The controllers, one per concern. Each takes its marks from the work
queue in a round, decides with the pure core on the store's view, and hands
what to do to k8s/effects.py. k8s/controller.py wires them.

A controller is a class built from a `context.Context` with a
`round(now=...)` method; see docs/architecture.md for adding one.
"""
