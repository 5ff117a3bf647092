"""Attempts spread over a Ray cluster: nodes that advertise a Docker engine run them, the
driver schedules and records them (agentbench.cluster.ray_executor)."""
