"""Conveyor: asynchronous CI/CD jobs on Kubernetes."""

API_GROUP = "conveyor.dev"
API_VERSION = "v1alpha1"
