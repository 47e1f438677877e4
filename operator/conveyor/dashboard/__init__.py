"""`conveyor dashboard`: a read-only live web view of jobs, runs, Workers and history."""
