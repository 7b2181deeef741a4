"""Config: lookup order, typed parsing, and every kind of problem reported at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mirror.config import ConfigError, Settings, find_config_file, load_settings, parse_settings
from mirror.config import docs as config_docs
from mirror.config.secrets import PASSWORD_ENV, mqtt_password, password_file_problem
from mirror.config.settings import SyncSettings


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, "config.toml")
    return info.value.problems


def test_defaults_without_any_file() -> None:
    settings = load_settings(None, environ={})
    assert settings == Settings()
    assert settings.sync.port == 1883
    assert settings.vision.backend == "tflite"
    assert settings.origin == "built-in defaults"


def test_valid_file_is_typed(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[sync]\nport = 8883\ntls = true\nbackoff_min_s = 2\n[camera]\nsource = "demo"\nrotation = 90\n')
    settings = load_settings(str(path))
    assert settings.sync.port == 8883
    assert settings.sync.tls is True
    assert settings.sync.backoff_min_s == 2.0 and isinstance(settings.sync.backoff_min_s, float)
    assert settings.camera.source == "demo" and settings.camera.rotation == 90
    assert settings.origin == str(path)


def test_lookup_order(tmp_path: Path) -> None:
    explicit, from_env = tmp_path / "a.toml", tmp_path / "b.toml"
    assert find_config_file(str(explicit), {"SMART_MIRROR_CONFIG": str(from_env)}) == explicit
    assert find_config_file(None, {"SMART_MIRROR_CONFIG": str(from_env)}) == from_env
    # --config "$CFG" with CFG unset fell through to the next file: commands acted on another closet.
    with pytest.raises(ConfigError, match=r"^--config: empty path; name the config file, or leave --config out"):
        find_config_file("", {"SMART_MIRROR_CONFIG": str(from_env)})


def test_a_config_name_that_is_not_utf8_reads_with_backslash_escapes(tmp_path: Path) -> None:
    """It came out with a lone surrogate (``\\udce9``), unlike every other name the mirror prints."""
    path = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xe9.toml"))
    path.write_text("[sync]\nport = 0\n")
    with pytest.raises(ConfigError) as info:
        load_settings(str(path))
    [problem] = info.value.problems
    assert problem.startswith(f"{tmp_path}/bad\\xe9.toml: [sync] port:") and problem.encode()


def test_the_example_file_is_complete_and_valid() -> None:
    text = Path(config_docs.EXAMPLE).read_text()
    assert parse_settings(text, "config.example.toml") == Settings(origin="config.example.toml")
    for section in ("device", "camera", "vision", "store", "sync", "ui"):
        assert f"[{section}]" in text


def test_generated_docs_are_current() -> None:
    assert Path(config_docs.MARKDOWN).read_text() == config_docs.render_markdown(), (
        "docs/config.md is stale: run python -m mirror.config.docs"
    )
    assert Path(config_docs.EXAMPLE).read_text() == config_docs.render_example(), (
        "config.example.toml is stale: run python -m mirror.config.docs"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[sync]\nport = "abc"\n', 'config.toml: [sync] port: expected an integer 1–65535, got "abc"'),
        ("[sync]\nport = 70000\n", "config.toml: [sync] port: expected an integer 1–65535, got 70000"),
        ("[sync]\ntls = 1\n", "config.toml: [sync] tls: expected true or false, got 1"),
        ("[vision]\nthreads = 2.5\n", "config.toml: [vision] threads: expected an integer 0–64, got 2.5"),
        ("[vision]\nunsure_below = true\n", "config.toml: [vision] unsure_below: expected a number 0–1, got true"),
        (
            '[vision]\nbackend = "tensorrt"\n',
            'config.toml: [vision] backend: expected one of "tflite", "onnx", got "tensorrt"',
        ),
        ("[camera]\nrotation = 45\n", "config.toml: [camera] rotation: expected one of 0, 90, 180, 270, got 45"),
        ("[sync]\nhost = 5\n", "config.toml: [sync] host: expected a string, got 5"),
        ("sync = 3\n", "config.toml: sync: expected a [sync] table, got 3"),
    ],
)
def test_each_kind_of_bad_value(text: str, expected: str) -> None:
    assert problems_of(text) == [expected]


def test_unknown_keys_and_sections_suggest_the_right_name() -> None:
    problems = problems_of('[sync]\nprot = 1883\n[vison]\nbackend = "onnx"\n[sync2]\n')
    assert 'config.toml: [sync] prot: unknown key; did you mean "port"?' in problems
    assert 'config.toml: [vison]: unknown section; did you mean "vision"?' in problems
    assert any(p.startswith("config.toml: [sync2]: unknown section") for p in problems)


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of('[sync]\nport = "x"\ntls = "yes"\n[camera]\nfps = 0\nsourc = "demo"\n')
    assert len(problems) == 4
    assert all(p.startswith("config.toml: [") and "\n" not in p for p in problems)


def test_cross_field_rules() -> None:
    assert problems_of('[camera]\nsource = "replay"\n') == [
        'config.toml: [camera] replay_path: required when source = "replay"; name a folder of images or a video'
    ]
    assert problems_of("[sync]\nbackoff_min_s = 10\nbackoff_max_s = 5\n") == [
        "config.toml: [sync] backoff_min_s: must not exceed backoff_max_s"
    ]
    # Every cross-field problem at once, not only the first.
    assert problems_of('[sync]\nbackoff_min_s = 100.0\nbackoff_max_s = 1.0\nkey_file = "k.pem"\n') == [
        "config.toml: [sync] backoff_min_s: must not exceed backoff_max_s",
        "config.toml: [sync] key_file: given without cert_file; set both for client certificates, or neither",
    ]


def test_cross_field_rules_are_reported_beside_a_bad_key_elsewhere_but_not_on_its_defaults() -> None:
    """A bad [device] id was left out when any key anywhere was bad ("lists every problem" was not true),
    while a section's own bad key falls back to its default, which its rules must not judge."""
    assert problems_of('[device]\nid = "bad id!"\n[sync]\nport = "x"\n') == [
        'config.toml: [sync] port: expected an integer 1–65535, got "x"',
        "config.toml: [device] id: 'bad id!' is not usable in MQTT topics; use 1–64 letters, digits, - or _",
    ]
    problems = problems_of('[sync]\nbackoff_min_s = "x"\nbackoff_max_s = 0.5\n')  # the default minimum is 1
    assert len(problems) == 1 and "backoff_min_s: expected" in problems[0]


def test_an_unknown_key_hides_no_cross_field_rule_of_its_section() -> None:
    """An unknown key falls back to nothing, yet it hid every rule of its section until the next run."""
    assert problems_of('[sync]\nprot = 1\nkey_file = "k.pem"\n') == [
        'config.toml: [sync] prot: unknown key; did you mean "port"?',
        "config.toml: [sync] key_file: given without cert_file; set both for client certificates, or neither",
    ]


@pytest.mark.parametrize("bad", ['"x"', "0"])  # the wrong type, out of bounds
def test_a_rule_reading_a_key_that_fell_back_is_skipped_and_only_that_rule(bad: str) -> None:
    """backoff_min_s = 100 beside a bad backoff_max_s is not judged against the default maximum (60); the
    section's other rules still run."""
    assert problems_of(f'[sync]\nbackoff_min_s = 100\nbackoff_max_s = {bad}\nkey_file = "k.pem"\n') == [
        f"config.toml: [sync] backoff_max_s: expected a number 0.1–86400, got {bad}",
        "config.toml: [sync] key_file: given without cert_file; set both for client certificates, or neither",
    ]


def test_a_bad_port_beside_a_broker_given_as_a_url_reports_both() -> None:
    assert problems_of('[sync]\nport = "x"\nhost = "mqtt://broker.lan"\n') == [
        'config.toml: [sync] port: expected an integer 1–65535, got "x"',
        "config.toml: [sync] host: 'mqtt://broker.lan' is a URL; give the host name alone, e.g. 'broker.lan'",
    ]


@pytest.mark.parametrize("bad", ["a/b", "mirror #1", "x+", "é", "a" * 65])
def test_a_device_id_must_be_usable_as_an_mqtt_topic_level(bad: str) -> None:
    assert problems_of(f'[device]\nid = "{bad}"\n') == [
        f"config.toml: [device] id: {bad!r} is not usable in MQTT topics; use 1–64 letters, digits, - or _"
    ]


@pytest.mark.parametrize("bad", ["a/#/+", "$SYS", "/mirrors", "mirrors/", "x+y"])
def test_a_topic_prefix_the_mqtt_client_would_refuse_is_said_at_load(bad: str) -> None:
    """It used to pass as valid and then raise in the sync worker at every reconnect."""
    [problem] = problems_of(f'[sync]\ntopic_prefix = "{bad}"\n')
    assert problem.startswith(f"config.toml: [sync] topic_prefix: {bad!r} is not usable in MQTT topics")
    assert problems_of('[sync]\ntopic_prefix = ""\n') == [
        "config.toml: [sync] topic_prefix: empty; topics would start with '/'. Use e.g. \"smart-mirror\""
    ]
    assert parse_settings('[sync]\ntopic_prefix = "home/mirrors"\n').sync.topic_prefix == "home/mirrors"


@pytest.mark.parametrize("bad", ["a b", "tab\\there", "x" * 129])
def test_a_client_id_the_broker_would_refuse_is_said_at_load(bad: str) -> None:
    [problem] = problems_of(f'[sync]\nclient_id = "{bad}"\n')
    assert problem.startswith("config.toml: [sync] client_id: must be at most 128 bytes")
    assert parse_settings('[sync]\nclient_id = "hall-mirror.1"\n').sync.client_id == "hall-mirror.1"


def test_good_device_ids_and_the_empty_default_load() -> None:
    assert parse_settings('[device]\nid = "hall-mirror_2"\n').device.id == "hall-mirror_2"
    assert parse_settings('[device]\nid = ""\n').device.id == ""  # empty: derived from /etc/machine-id


def test_invalid_toml_names_the_line() -> None:
    [problem] = problems_of("[sync\nport = 1\n")
    assert problem.startswith("config.toml: invalid TOML:") and "line 1" in problem


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(str(tmp_path / "nope.toml"))
    assert info.value.problems == [
        f"{tmp_path / 'nope.toml'}: file not found; fix the path given by --config or $SMART_MIRROR_CONFIG"
    ]


def test_unreadable_file_permission_denied(tmp_path: Path) -> None:
    """Root reads any file, so as root the check runs as the unprivileged user ``nobody``."""
    path = tmp_path / "secret.toml"
    path.write_text("[sync]\n")
    path.chmod(0)
    tmp_path.chmod(0o755)
    if os.geteuid() != 0:
        with pytest.raises(ConfigError) as info:
            load_settings(str(path))
        assert "permission denied" in info.value.problems[0]
        return
    # mirror.config needs only the standard library, so the system Python (which
    # ``nobody`` may execute, unlike a venv under /root) can import it from the checkout.
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    code = (
        "from mirror.config import ConfigError, load_settings\n"
        f"try:\n    load_settings({str(path)!r})\nexcept ConfigError as e:\n    print(e)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        result = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, user=65534, cwd="/", env=env, check=False
        )
    except PermissionError:
        pytest.skip("user nobody may not execute any Python interpreter here")
    if result.returncode != 0:
        pytest.skip(f"user nobody cannot import this checkout: {result.stderr.strip()[-200:]}")
    assert result.stdout.strip() == f"{path}: cannot read it (permission denied); make it readable by this user"


def test_unreadable_file(tmp_path: Path) -> None:
    directory = tmp_path / "dir.toml"
    directory.mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        load_settings(str(directory))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(str(binary))


def test_password_from_env_or_file(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("hunter2\n")
    secret.chmod(0o600)
    sync = SyncSettings(password_file=str(secret))
    assert mqtt_password(sync, environ={}) == "hunter2"
    assert mqtt_password(sync, environ={PASSWORD_ENV: "from-env"}) == "from-env"
    assert mqtt_password(SyncSettings(), environ={}) is None
    assert password_file_problem(sync) is None
    secret.chmod(0o644)
    assert "chmod 600" in (password_file_problem(sync) or "")


def test_password_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="password_file: cannot read"):
        mqtt_password(SyncSettings(password_file=str(tmp_path / "none")), environ={})


def test_data_dir_default_follows_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/smart-mirror")
    assert Settings().store.path() == Path("/var/lib/smart-mirror")


def test_a_system_config_folder_this_user_may_not_enter_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """/etc/smart-mirror is 0750 root:smart-mirror: an admin's `smart-mirror doctor` without sudo -u."""
    from mirror.cli import exitcodes, main

    class Locked(type(Path())):  # type: ignore[misc]
        def is_file(self) -> bool:
            raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr("mirror.config.loader.SYSTEM_CONFIG", Locked("/etc/smart-mirror/config.toml"))
    monkeypatch.delenv("SMART_MIRROR_CONFIG", raising=False)
    assert main(["closet", "list"]) == exitcodes.USAGE
    err = capsys.readouterr().err
    assert "Traceback" not in err and "permission denied" in err and "sudo -u smart-mirror" in err


def test_a_broker_given_as_a_url_or_with_its_port_is_named_with_the_fix() -> None:
    """`host = "mqtt://broker.lan:1883"` passed, and doctor then said "mqtt://broker.lan:1883:1883 unreachable … start
    the broker"; an upload host given as a URL could never match a URL's host."""
    with pytest.raises(ConfigError) as caught:
        parse_settings(
            '[sync]\nhost = "mqtt://broker.lan:1883"\nupload_hosts = "uploads.example.com, https://cdn.example.com/x"\n'
        )
    assert caught.value.problems == [
        "config.toml: [sync] host: 'mqtt://broker.lan:1883' is a URL; give the host name alone, e.g. 'broker.lan'",
        "config.toml: [sync] upload_hosts: 'https://cdn.example.com/x' is a URL; give the host name alone, "
        "e.g. 'cdn.example.com'",
    ]
    with pytest.raises(ConfigError, match=r"\[sync\] host: 'broker.lan:8883' includes a port; give 'broker.lan' "
                                          r"here, and 8883 as \[sync\] port"):  # fmt: skip
        parse_settings('[sync]\nhost = "broker.lan:8883"\n')
    for fine in ("broker.lan", "192.168.1.20", "::1", "fe80::1%eth0"):
        assert parse_settings(f'[sync]\nhost = "{fine}"\n').sync.host == fine


def test_a_config_saved_with_a_byte_order_mark_reads_like_any_other(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + b'[device]\nname = "Hall"\n')
    assert load_settings(str(config)).device.name == "Hall"
