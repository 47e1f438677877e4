"""The pieces of the Pipeline, PipelineRun and PipelineCronJob CRD schemas that
hack/gen_pipeline_crds.py writes (and hack/gen_trigger_crd.py reuses).

source: what is taken from the PipelineJob CRD; rules: the CEL rules on steps;
envelope: the CRD around a schema; steps, run, pipeline, cron: the schemas.
"""
