"""Presentation for people: `conveyor why` diagnoses, ages and durations. Used
by the CLI (and later the dashboard); reads the core, never the cluster."""
