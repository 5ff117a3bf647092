"""The Docker sandbox against a real engine: exec, files, limits, labels, cleanup."""

import time

import pytest

from agentbench.agents.tools import SandboxTools
from agentbench.sandbox.docker import LABEL, DockerSandbox, remove_containers


@pytest.fixture
def box(docker_client, python_image):
    with DockerSandbox.start(docker_client, python_image, labels={"agentbench.run": "test-sandbox"}) as sandbox:
        yield sandbox


def test_exec_reports_exit_code_output_and_duration(box):
    result = box.exec("echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert result.duration_s > 0 and not result.timed_out
    assert box.exec("pwd").stdout == "/workspace\n"
    assert box.exec("pwd", cwd="/tmp").stdout == "/tmp\n"


def test_nul_bytes_in_output_are_shown_not_stored_raw(box):
    assert box.exec(r"printf 'a\0b'").stdout == "a\\0b"  # PostgreSQL text cannot hold NUL


def test_timeout_kills_the_command_inside_the_container(box):
    started = time.monotonic()
    result = box.exec("sleep 300 & sleep 300; echo never", timeout=2)
    assert result.timed_out and result.exit_code == 124
    assert time.monotonic() - started < 10
    assert "never" not in result.stdout
    assert box.exec("pgrep -c sleep").stdout.strip() == "1"  # only the idle `sleep infinity` is left


def test_output_is_capped(docker_client, python_image):
    from agentbench.contracts import SandboxLimits

    with DockerSandbox.start(docker_client, python_image, limits=SandboxLimits(output_bytes=1000)) as small:
        result = small.exec("head -c 100000 /dev/zero | tr '\\0' x")
    assert result.truncated and len(result.stdout) == 1000


def test_files_round_trip(box, tmp_path):
    box.write_file("/workspace/a/b.txt", "héllo\n")
    assert box.read_file("/workspace/a/b.txt") == "héllo\n"
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "f.py").write_text("x = 1\n")
    box.copy_in(tmp_path / "dir", "/data")
    assert box.exec("cat /data/f.py; stat -c %u /data/f.py").stdout == "x = 1\n0\n"
    with pytest.raises(FileNotFoundError):
        box.read_file("/nope")


def test_container_is_limited_labelled_and_offline(box):
    box.container.reload()
    host = box.container.attrs["HostConfig"]
    assert host["Memory"] == 2 * 1024**3 and host["PidsLimit"] == 512 and host["NanoCpus"] == 10**9
    assert host["Privileged"] is False and "ALL" in host["CapDrop"]
    assert box.container.labels[LABEL] == "1"
    assert box.exec("python3 -c \"import socket; socket.create_connection(('1.1.1.1', 53), 2)\"").exit_code != 0


def test_close_removes_the_container(docker_client, python_image):
    box = DockerSandbox.start(docker_client, python_image)
    container_id = box.container.id
    box.close()
    box.close()
    assert not docker_client.containers.list(all=True, filters={"id": container_id})


def test_remove_containers_by_label(docker_client, python_image):
    DockerSandbox.start(docker_client, python_image, labels={"agentbench.run": "orphaned"})
    assert remove_containers(docker_client, {"agentbench.run": "orphaned"}) == 1
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=orphaned"})


def test_a_memory_hog_is_killed_inside_and_the_sandbox_lives_on(box):
    hog = box.exec("python3 -c \"blob = b'x' * (3 * 1024 ** 3); print('allocated')\"", timeout=60)
    assert hog.exit_code == 137 and "allocated" not in hog.stdout and not hog.timed_out
    assert box.exec("echo alive").stdout == "alive\n"
    told = SandboxTools(box, command_timeout_s=60).call("bash", {"command": "python3 -c \"b'x' * (3 * 1024 ** 3)\""}, ["bash"], 60)
    assert told.startswith("exit code: 137 (killed by SIGKILL: most likely the sandbox's memory limit)")


def test_a_fork_bomb_is_contained_by_the_pid_limit_and_killed_at_its_timeout(box):
    started = time.monotonic()
    bomb = box.exec("bomb() { bomb | bomb & }; bomb; sleep 30", timeout=5)
    assert bomb.timed_out and time.monotonic() - started < 30
    assert box.exec("echo alive").stdout == "alive\n"
    left = int(box.exec("ps -e --no-headers | wc -l").stdout)
    assert left < 20, f"{left} processes left after the bomb"


@pytest.mark.parametrize("start", ["setsid bash -c '{bomb}' >/dev/null 2>&1 </dev/null &", "({bomb}) >/dev/null 2>&1 &",
                                   "nohup bash -c '{bomb}' >/dev/null 2>&1 &"])
def test_a_fork_bomb_left_running_does_not_starve_the_next_command(box, start):
    started = box.exec(start.format(bomb=":(){ :|:& };:") + " echo started", timeout=10)
    assert started.exit_code == 0 and "started" in started.output
    time.sleep(2)
    after = box.exec("echo alive", timeout=20)
    assert after.exit_code == 0 and "alive" in after.stdout, after.output[-500:]
    assert int(box.exec("ls -d /proc/[0-9]* | wc -l").stdout) < 20


def test_a_background_server_outlives_its_command(box):
    box.exec("nohup python3 -m http.server 8123 >/dev/null 2>&1 &")
    time.sleep(1)
    assert box.exec("python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:8123').status)\"").stdout.strip() == "200"


def test_writing_past_the_disk_quota_is_the_agents_failure(docker_client, python_image):
    from agentbench.contracts import DiskQuotaExceeded, SandboxLimits

    with DockerSandbox.start(docker_client, python_image, limits=SandboxLimits(disk_bytes=40 * 2**20)) as small:
        one = small.exec("head -c 60M /dev/zero > /tmp/big; echo $?")
        assert one.exit_code != 0 or one.stdout.strip() != "0"  # one file past the quota: cut off (SIGXFSZ)
        small.exec("rm -f /tmp/big")
        with pytest.raises(DiskQuotaExceeded, match="over its disk quota of 40 MiB"):
            small.exec("for n in 1 2 3; do head -c 20M /dev/urandom > /tmp/part$n; done")


def test_a_container_whose_pids_are_all_taken_runs_the_next_command(docker_client, python_image):
    from agentbench.contracts import SandboxLimits

    fill = "(sleep 2; for n in $(seq 80); do sleep 1000 & done) >/dev/null 2>&1 &"  # after the command's own sweep looked
    with DockerSandbox.start(docker_client, python_image, limits=SandboxLimits(pids=48)) as small:
        small.exec(fill, timeout=10)
        time.sleep(5)
        after = small.exec("echo alive", timeout=20)
        assert after.exit_code == 0 and after.stdout == "alive\n", after.output[-500:]
        assert len(docker_client.api.top(small.container.id)["Processes"]) == 2  # init and its sleep
        small.exec(fill, timeout=10)
        time.sleep(5)
        small._make_room()  # what exec does when the engine cannot start a process at all
        commands = sorted(p[-1] for p in docker_client.api.top(small.container.id)["Processes"])
        assert commands == ["/sbin/docker-init -- sleep infinity", "sleep infinity"]  # in whatever order top lists them
        small.container.reload()
        assert small.container.attrs["HostConfig"]["PidsLimit"] == 48
