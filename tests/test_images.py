"""Image tiers: hash-tagged, reused when unchanged, and a CA bundle layered in on request."""

import time

from agentbench.sandbox.docker import DockerSandbox
from agentbench.sandbox.images import BASE_TAG, CA_PATH, ca_bundle_from_env, current_recipe_tags, ensure_image, image_exists

from test_cli import agentbench


def test_recipe_images_are_reused_when_unchanged(docker_client, python_image):
    assert python_image.startswith("agentbench/python:")
    assert ensure_image(docker_client, "python") == python_image
    base = docker_client.images.get(BASE_TAG)
    assert base.id in [layer["Id"] for layer in docker_client.images.get(python_image).history()]


def test_ca_bundle_is_trusted_inside_images(docker_client, python_image, tmp_path):
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n")
    tag = ensure_image(docker_client, "python", ca_bundle=bundle)
    assert tag != python_image
    with DockerSandbox.start(docker_client, tag) as box:
        assert box.read_file(CA_PATH) == bundle.read_text()
        assert box.exec("echo $PIP_CERT $SSL_CERT_FILE").stdout.split() == [CA_PATH, CA_PATH]
        assert box.exec("python3 --version && git --version && python3 -m pytest --version").exit_code == 0
    docker_client.images.remove(tag)


def test_prune_keeps_what_today_s_recipes_build_and_removes_the_rest(docker_client, python_image):
    """It decides from the recipes' hashes alone, building nothing, and removes a stale tag."""
    assert python_image in current_recipe_tags(docker_client, ca_bundle_from_env())
    docker_client.images.get(BASE_TAG).tag("agentbench/python", "000000000000")  # an image no recipe builds today
    done = agentbench("images", "prune")
    assert done.returncode == 0, done.stderr
    assert "removed agentbench/python:000000000000" in done.stdout
    assert image_exists(docker_client, python_image) and not image_exists(docker_client, "agentbench/python:000000000000")


def _hold_build_lock(tag: str, seconds: float, spans) -> None:
    from agentbench.sandbox.images import build_lock

    with build_lock(tag):
        entered = time.time()
        time.sleep(seconds)
        spans.put((entered, time.time()))


def test_processes_of_one_machine_build_an_image_one_at_a_time():
    """The lock a cluster node's worker processes take before building one image: never two at once."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    spans = context.Queue()
    workers = [context.Process(target=_hold_build_lock, args=("agentbench/x:1", 0.5, spans)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    held = sorted(spans.get(timeout=5) for _ in workers)
    assert all(later[0] >= earlier[1] for earlier, later in zip(held, held[1:]))  # each began after the last one ended
