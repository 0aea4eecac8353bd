"""pps: pipelines."""
