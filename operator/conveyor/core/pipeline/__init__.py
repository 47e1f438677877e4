"""Pipelines (DESIGN.md §3b, docs/pipelines.md): the pure core of Pipeline and PipelineRun.

No kopf, no I/O, time passed in. A controller reconciling one PipelineRun does:

    r = run.parse(body)
    pipeline_name, earlier_name = run.needs(r)   # fetch these (None: not needed)
    observed = [c for b in child_bodies             # PipelineJobs labelled
                if (c := children.parse(body=b, run=r.meta.name))]  # conveyor.dev/pipelinerun
    d = run.decide(run=r, pipeline=pipeline_body_or_None,
                   earlier=earlier_body_or_None, observed=observed, now=now)
    create each d.create[i].manifest (complete, ownerReferences included;
        AlreadyExists is adoption), THEN write the status:
    set spec.revoke=true on each PipelineJob named in d.revoke (NotFound: fine);
    new = d.status.to_dict(generation=r.meta.generation,
                           previous_conditions=old_status.get("conditions") or [], now=now)
    patch status with core.status.merge_patch(old=old_status, new=new);
    look again at d.wake_at (the run's timeout, a retry while waiting, or now
    after the first decision, which only records what the run runs).

Modules: spec (models, InvalidSpec judged by the operator), dag, expressions
(the Job templates' sandbox), fanout, naming, children, resolution (what a run
runs, decided once), steps (one step), run (the state machine), runstatus.
"""
