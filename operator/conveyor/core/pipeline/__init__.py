"""Pipelines (DESIGN.md §3b): the pure core of Pipeline and PipelineRun."""
