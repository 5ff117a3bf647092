"""`python -m agentbench` runs the command line."""

from agentbench.cli import main

main()
