"""`agentbench view`: a local web app over the store (runs, reports, trajectories, comparisons,
release history). Flask, Jinja2 templates with autoescaping, no JavaScript from the network."""
