"""Conveyor: asynchronous CI/CD jobs on Kubernetes."""

# Defined in core/names.py (one source); kept here for the shell's imports.
from conveyor.core.names import API_GROUP, API_VERSION

__all__ = ["API_GROUP", "API_VERSION"]
