"""A run's suites as tasks: task folders, Harbor task folders and SWE-bench instance files or
datasets alike."""

from __future__ import annotations

from agentbench.harbor.task import harbor_root, load_harbor_suite
from agentbench.spec import RunSpec
from agentbench.swebench.instances import is_instance_suite, load_instances
from agentbench.swebench.task import SwebenchTask
from agentbench.tasks import load_suite


def load_tasks(spec: RunSpec) -> list:
    """Every task of the spec's suites, filtered by its task ids, the first `limit` of them."""
    tasks: list = []
    for suite in spec.suites:
        if is_instance_suite(suite):
            tasks += [SwebenchTask(instance, spec.hints) for instance in load_instances(suite, spec.tasks or None)]
        elif harbor_root(suite):
            tasks += load_harbor_suite(suite, spec.tasks or None)
        else:
            tasks += load_suite(suite, spec.tasks or None)
    return tasks[:spec.limit] if spec.limit else tasks
