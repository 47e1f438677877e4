"""The conveyor command line."""
