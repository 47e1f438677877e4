"""canary-analysis: baseline vs canary, metric by metric, interval by interval."""
