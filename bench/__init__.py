"""Conveyor benchmark: `make bench` / `make bench-quick` (see docs/performance.md)."""
