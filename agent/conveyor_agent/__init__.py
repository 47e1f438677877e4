"""conveyor-agent: the runtimes of Conveyor's built-in job types.

One module (or subpackage) per job type, each run as
`conveyor-agent <job-type> --params FILE --output FILE`. Standard library
only, apart from PyYAML for reading Helm's and users' manifests: the agent
imports without the operator's dependencies.
"""
