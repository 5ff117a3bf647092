import os
import subprocess
import sys
from pathlib import Path

import pytest

FULL = """
[email]
host = "mail.internal"
port = 2525
use_tls = false
from = "bot@internal"
to = ["a@internal", "b@internal"]

[retry]
max_attempts = 7
backoff_seconds = 0.5

[templates]
dir = "tpl"
"""

MINIMAL = """
[email]
host = "smtp.example.com"
from = "alerts@example.com"
to = "ops@example.com"
"""


def write(tmp_path, text, name="notifier.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_package_imports_from_new_location():
    import notifier
    import notifier.sender
    from notifier.util.fs import expand_path

    assert notifier.load_config is notifier.config.load_config
    assert callable(expand_path)
    assert not Path("notifier/helpers.py").exists()


def test_full_config(tmp_path):
    from notifier import load_config

    cfg = load_config(write(tmp_path, FULL))
    assert cfg.host == "mail.internal"
    assert cfg.port == 2525
    assert cfg.use_tls is False
    assert cfg.sender == "bot@internal"
    assert cfg.recipients == ("a@internal", "b@internal")
    assert cfg.max_attempts == 7
    assert cfg.backoff_seconds == 0.5
    assert Path(cfg.template_dir) == tmp_path / "tpl"


def test_defaults_for_optional_settings_and_sections(tmp_path):
    from notifier import load_config

    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.port == 587
    assert cfg.use_tls is True
    assert cfg.recipients == ("ops@example.com",)
    assert cfg.max_attempts == 3
    assert cfg.backoff_seconds == 1.0
    assert isinstance(cfg.backoff_seconds, float)
    assert Path(cfg.template_dir) == tmp_path / "templates"


def test_partial_retry_section_uses_defaults(tmp_path):
    from notifier import load_config

    cfg = load_config(write(tmp_path, MINIMAL + "\n[retry]\nbackoff_seconds = 2\n"))
    assert cfg.max_attempts == 3
    assert cfg.backoff_seconds == 2.0
    assert isinstance(cfg.backoff_seconds, float)
    cfg = load_config(write(tmp_path, MINIMAL + "\n[retry]\nmax_attempts = 1\n"))
    assert cfg.max_attempts == 1
    assert cfg.backoff_seconds == 1.0


def test_template_dir_expands_user_and_absolute(tmp_path, monkeypatch):
    from notifier import load_config

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cfg = load_config(write(tmp_path, MINIMAL + '\n[templates]\ndir = "~/tpl"\n'))
    assert Path(cfg.template_dir) == tmp_path / "home" / "tpl"
    absolute = tmp_path / "abs"
    cfg = load_config(write(tmp_path, MINIMAL + f'\n[templates]\ndir = "{absolute.as_posix()}"\n'))
    assert Path(cfg.template_dir) == absolute


def test_shipped_example_and_sender(tmp_path):
    from notifier import load_config
    from notifier.sender import build_message, render_template

    cfg = load_config("config.example.toml")
    assert (cfg.host, cfg.port, cfg.max_attempts, cfg.backoff_seconds) == ("smtp.example.com", 2525, 5, 2.5)
    body = render_template(cfg, "disk_full", mount="/var", host="db1", percent="93")
    assert body.strip() == "Disk /var on db1 is 93% full."
    msg = build_message(cfg, "disk", body)
    assert msg["To"] == "ops@example.com, oncall@example.com"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('[email]\nfrom = "a@b"\nto = "c@d"\n', "email.host"),
        ('[email]\nhost = "h"\nto = "c@d"\n', "email.from"),
        ('[email]\nhost = "h"\nfrom = "a@b"\n', "email.to"),
        ('[smtp]\nhost = "h"\nfrom = "a@b"\nto = "c@d"\n', "email"),
        ('[email]\nhost = "h"\nport = "587"\nfrom = "a@b"\nto = "c@d"\n', "email.port"),
        ('[email]\nhost = "h"\nport = true\nfrom = "a@b"\nto = "c@d"\n', "email.port"),
        ('[email]\nhost = "h"\nuse_tls = "yes"\nfrom = "a@b"\nto = "c@d"\n', "email.use_tls"),
        ('[email]\nhost = "h"\nfrom = "a@b"\nto = ["c@d", 5]\n', "email.to"),
        (MINIMAL + "\n[retry]\nmax_attempts = 0\n", "retry.max_attempts"),
        (MINIMAL + '\n[retry]\nmax_attempts = "3"\n', "retry.max_attempts"),
        (MINIMAL + '\n[retry]\nbackoff_seconds = "fast"\n', "retry.backoff_seconds"),
    ],
)
def test_invalid_settings_raise_config_error(tmp_path, text, fragment):
    from notifier import ConfigError, load_config

    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert fragment in str(info.value)


def test_missing_file_and_bad_toml_raise_config_error(tmp_path):
    from notifier import ConfigError, load_config

    with pytest.raises(ConfigError):
        load_config(tmp_path / "does-not-exist.toml")
    with pytest.raises(ConfigError):
        load_config(write(tmp_path, "[email\nhost = \n"))


def run_check(*args):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "notifier", "check-config", *args], capture_output=True, text=True, timeout=30, env=env
    )


def test_check_config_cli_ok():
    proc = run_check("config.example.toml")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        "config OK: smtp.example.com:2525 (tls), from alerts@example.com to 2 recipient(s), 5 attempt(s)"
    )


def test_check_config_cli_error(tmp_path):
    proc = run_check(str(write(tmp_path, '[email]\nfrom = "a@b"\nto = "c@d"\n')))
    assert proc.returncode == 1
    assert proc.stderr.startswith("config error:")
    assert "email.host" in proc.stderr
    assert "Traceback" not in proc.stderr
