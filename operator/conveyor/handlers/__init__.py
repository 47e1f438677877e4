"""kopf wiring: thin handlers around the core."""
