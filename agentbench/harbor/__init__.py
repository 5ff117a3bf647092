"""Harbor (Terminal-Bench 2) task folders run unchanged: task.toml, instruction.md,
environment/Dockerfile, tests/test.sh writing a reward, solution/solve.sh.

task.py loads them, images.py builds their environments, grading.py judges a snapshot of the
agent's container by the reward its verifier writes, task_kind.py serves them to the runner.
"""
