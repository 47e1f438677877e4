"""The pure core: no kopf, no API calls, no clock of its own."""
