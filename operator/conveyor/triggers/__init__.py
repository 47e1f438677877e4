"""PipelineTriggers: what a webhook delivery means and what it creates.

Pure: no I/O, no clock (time is passed in), no aiohttp, no kubernetes
client. The receiver (conveyor.webhooks) reads the trigger, its Secret and
the request, asks these modules what to do, and makes the API calls:

- signatures: is the delivery signed by the trigger's secret (constant time)?
- payload: decode the body, refusing what is nested too deep;
- deliveries: the delivery's id, event, ref, revision and changed paths;
- filters: events, branches, tags, paths and `when`;
- spec: the PipelineTrigger spec, validated;
- objects: the PipelineJob or PipelineRun to create, named from the delivery;
- policy: Allow, Forbid or Replace among the runs of the same branch;
- tally: the status the receiver writes (counts, last delivery, conditions).
"""
