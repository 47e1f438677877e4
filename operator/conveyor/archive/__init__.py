"""The archive: finished PipelineJobs and PipelineRuns kept in SQLite or
PostgreSQL after the API has deleted them (docs/history.md)."""
