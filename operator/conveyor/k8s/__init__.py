"""API adapters: the only code that talks to the cluster."""
