"""Sandbox images and containers: list, build, prune."""

from __future__ import annotations

from typing import Optional

import typer

from agentbench.cli.output import console, print_status, split_values
from agentbench.cli.task_commands import swebench_images


def images_list() -> None:
    """Our images and their sizes."""
    from rich.table import Table

    from agentbench.sandbox.docker import docker_client
    from agentbench.sandbox.images import list_images

    table = Table("tag", "id", "size")
    for image in list_images(docker_client()):
        table.add_row(", ".join(image.tags) or "<untagged>", image.short_id, f"{image.attrs['Size'] / 1e6:.0f} MB")
    console.print(table)


def images_build(
    names: Optional[list[str]] = typer.Argument(None, help="Images to build (default: all recipes)."),
    suite: Optional[str] = typer.Option(None, "--suite", "-s", help="Instead: the images of a SWE-bench instance file's instances."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="SWE-bench: only these instance ids."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="SWE-bench: folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
) -> None:
    """Build images (base first); what is unchanged is reused. AGENTBENCH_CA_BUNDLE adds a CA."""
    from agentbench.paths import recipe_names
    from agentbench.sandbox.docker import docker_client
    from agentbench.sandbox.images import ensure_image

    client = docker_client()
    if suite:
        from agentbench.swebench.instances import load_instances

        swebench = swebench_images(client, repos, images)
        instances = load_instances(suite, split_values(task) or None)
        for instance in instances:
            swebench.check(instance)
        for instance in instances:
            console.print(f"{instance.instance_id}: {swebench.instance(instance).tag}")
        return
    for name in names or recipe_names():
        console.print(f"{name}: {ensure_image(client, name, progress=print_status)}")


def images_prune(
    instances: bool = typer.Option(False, "--instances", help="Also remove every SWE-bench instance image (environments stay)."),
) -> None:
    """Remove recipe images that no current recipe builds (base and SWE-bench environments stay)."""
    from agentbench.paths import recipe_names
    from agentbench.sandbox.docker import docker_client
    from agentbench.sandbox.images import ca_bundle_from_env, current_recipe_tags, prune_images

    client = docker_client()
    keep = current_recipe_tags(client, ca_bundle_from_env())  # nothing is built to decide
    repositories = {f"agentbench/{name}" for name in recipe_names() if name != "base"}
    if instances:
        repositories |= {"agentbench/sweb.instance", "agentbench/sweb.pulled"}
    for tag in prune_images(client, repositories, keep):
        console.print(f"removed {tag}")


def sandbox_prune(
    run_name: Optional[str] = typer.Option(None, "--run", help="Only this run's containers (default: every one of ours)."),
) -> None:
    """Remove containers of ours left behind by a crash."""
    from agentbench.sandbox.docker import docker_client, remove_containers

    labels = {"agentbench.run": run_name} if run_name else None
    console.print(f"removed {remove_containers(docker_client(), labels)} container(s)")
