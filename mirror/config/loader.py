"""Find the config file, parse it with ``tomllib`` and validate every value."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import tomllib
import typing
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from mirror.config.errors import ConfigError
from mirror.config.fields import BOUNDS, CHOICES
from mirror.config.settings import DEVICE_ID, SECTIONS, Settings
from mirror.names import readable

SYSTEM_CONFIG = Path("/etc/smart-mirror/config.toml")
ENV_VAR = "SMART_MIRROR_CONFIG"


def find_config_file(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file to read: ``--config``, then ``$SMART_MIRROR_CONFIG``, then the system file.

    An explicit path or environment variable must exist (a typo there should not silently
    fall back to defaults); the system file is optional.
    """
    env = os.environ if environ is None else environ
    if explicit is not None:
        if not explicit:  # a script's --config "$CFG" with CFG unset: not "use whatever else is there"
            raise ConfigError(["--config: empty path; name the config file, or leave --config out"])
        return Path(explicit)
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    try:
        return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None
    except PermissionError:  # /etc/smart-mirror is 0750 root:smart-mirror: this user is not in the group
        raise ConfigError(
            [
                f"{SYSTEM_CONFIG}: cannot look into {SYSTEM_CONFIG.parent} (permission denied); run as the service "
                "user (sudo -u smart-mirror smart-mirror …) or as a member of the smart-mirror group"
            ]
        ) from None


def load_settings(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load and validate settings from the file that :func:`find_config_file` picks."""
    path = find_config_file(explicit, environ)
    if path is None:
        return Settings()
    name = readable(str(path))  # a name that is not UTF-8 reads \xNN, as in every other message
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a BOM (Windows editors add one) is not TOML
    except FileNotFoundError:
        raise ConfigError([f"{name}: file not found; fix the path given by --config or ${ENV_VAR}"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{name}: is a directory, not a TOML file"]) from None
    except PermissionError:
        raise ConfigError([f"{name}: cannot read it (permission denied); make it readable by this user"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{name}: not UTF-8 text; save it as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{name}: cannot read it ({exc.strerror})"]) from None
    return parse_settings(text, name)


def parse_settings(text: str, name: str = "config.toml") -> Settings:
    """Parse TOML text into :class:`Settings`, reporting every problem at once."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{name}: invalid TOML: {exc}"]) from None
    problems: list[str] = []
    sections: dict[str, Any] = {}
    fell_back: set[tuple[str, str]] = set()  # (section, key) whose bad value fell back to its default
    for key, value in data.items():
        if key not in SECTIONS:
            problems.append(f"{name}: [{key}]: unknown section{_hint(key, SECTIONS)}")
        elif not isinstance(value, dict):
            problems.append(f"{name}: {key}: expected a [{key}] table, got {_show(value)}")
            fell_back |= {(key, f.name) for f in dataclasses.fields(SECTIONS[key])}
        else:
            sections[key] = _build_section(name, key, SECTIONS[key], value, problems, fell_back)
    settings = Settings(**sections, origin=name)
    # Every problem at once: each cross-field rule too, unless a key it reads had a bad value (it fell back to
    # its default, which the rule must not judge); an unknown key fell back to nothing and hides no rule.
    problems.extend(f"{name}: {p}" for p in _cross_checks(settings, fell_back))
    if problems:
        raise ConfigError(problems)
    return settings


def _build_section(
    name: str, section: str, cls: type, values: dict[str, Any], problems: list[str], fell_back: set[tuple[str, str]]
) -> Any:
    """Validate one table against its dataclass; append problems and the keys whose bad value falls back to its
    default, return the instance."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        where = f"{name}: [{section}] {key}"
        if key not in fields:
            problems.append(f"{where}: unknown key{_hint(key, fields)}")
            continue
        error = _check_value(value, hints[key], fields[key].metadata)
        if error:
            problems.append(f"{where}: expected {error}, got {_show(value)}")
            fell_back.add((section, key))
        else:
            kwargs[key] = float(value) if hints[key] is float else value
    return cls(**kwargs)


def _check_value(value: Any, kind: Any, meta: Mapping[str, Any]) -> str | None:
    """Return what was expected when ``value`` does not fit, else ``None``."""
    choices = meta.get(CHOICES)
    if choices is not None:
        if value in choices and type(value) is type(choices[0]):
            return None
        return "one of " + ", ".join(f'"{c}"' if isinstance(c, str) else str(c) for c in choices)
    low, high = meta.get(BOUNDS, (None, None))
    span = _span(low, high)
    if kind is bool:
        return None if isinstance(value, bool) else "true or false"
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and _within(value, low, high)
        return None if ok else f"an integer{span}"
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and _within(value, low, high)
        return None if ok else f"a number{span}"
    if kind is str:
        return None if isinstance(value, str) else "a string"
    raise TypeError(f"unsupported setting type {kind!r}")


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _span(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" {_num(low)}–{_num(high)}"
    if low is not None:
        return f" ≥ {_num(low)}"
    return f" ≤ {_num(high)}" if high is not None else ""


def _num(x: float) -> str:
    return f"{x:,}".replace(",", "_") if isinstance(x, int) and x >= 100_000 else f"{x:g}"


def _show(value: Any) -> str:
    """Render a bad value the way it would look in TOML."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _hint(key: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else f"; known: {', '.join(known)}"


#: A cross-field rule: called with the values of the keys its parameters name, it yields its problems.
_Check = Callable[..., Iterator[str]]
#: The rules in the order their problems are reported: (section, {parameter: the key it reads}, the rule).
_RULES: list[tuple[str, dict[str, str], _Check]] = []


def _rule(section: str) -> Callable[[_Check], _Check]:
    """Register a rule of ``section``. Its parameters name the keys it reads, and their values are all it
    gets, so the keys that decide whether it may run (:func:`_cross_checks`) cannot drift from what it reads.
    A trailing underscore is dropped (``id_`` reads ``id``), so a key may share a builtin's name."""

    def register(check: _Check) -> _Check:
        keys = {param: param.rstrip("_") for param in inspect.signature(check).parameters}
        unknown = set(keys.values()) - {f.name for f in dataclasses.fields(SECTIONS[section])}
        if unknown:
            raise TypeError(f"{check.__name__} reads {sorted(unknown)}, not keys of [{section}]")
        _RULES.append((section, keys, check))
        return check

    return register


def _cross_checks(settings: Settings, fell_back: set[tuple[str, str]]) -> list[str]:
    """Rules that involve more than one key (or more than a value's type), save those reading a key in
    ``fell_back``."""
    problems: list[str] = []
    for section, keys, check in _RULES:
        if not any((section, key) in fell_back for key in keys.values()):
            values = getattr(settings, section)
            problems.extend(check(**{param: getattr(values, key) for param, key in keys.items()}))
    return problems


@_rule("camera")
def _replay_needs_a_path(source: str, replay_path: str) -> Iterator[str]:
    if source == "replay" and not replay_path:
        yield '[camera] replay_path: required when source = "replay"; name a folder of images or a video'


@_rule("sync")
def _backoff_in_order(backoff_min_s: float, backoff_max_s: float) -> Iterator[str]:
    if backoff_min_s > backoff_max_s:
        yield "[sync] backoff_min_s: must not exceed backoff_max_s"


@_rule("device")
def _device_id_is_a_topic_level(id_: str) -> Iterator[str]:
    if id_ and not DEVICE_ID.fullmatch(id_):
        yield f"[device] id: {id_!r} is not usable in MQTT topics; use 1–64 letters, digits, - or _"


#: The longest ``[sync] client_id`` taken: MQTT allows 65,535 bytes, brokers far fewer in practice, and
#: the mirror adds suffixes of its own (``-drain``, ``-doctor``).
MAX_CLIENT_ID_BYTES = 128


# A topic prefix or client id the MQTT client would refuse only once it connects (a traceback per
# reconnect while the mirror never syncs): said at load, like any other bad value.
@_rule("sync")
def _topic_prefix_is_usable(topic_prefix: str) -> Iterator[str]:
    if not topic_prefix:
        yield "[sync] topic_prefix: empty; topics would start with '/'. Use e.g. \"smart-mirror\""
    elif any(c in topic_prefix for c in "+#\0") or topic_prefix.startswith(("$", "/")) or topic_prefix.endswith("/"):
        yield (
            f"[sync] topic_prefix: {topic_prefix!r} is not usable in MQTT topics; no +, # or NUL, "
            "and no $ or / at the start or / at the end"
        )


@_rule("sync")
def _client_id_is_usable(client_id: str) -> Iterator[str]:
    if len(client_id.encode()) > MAX_CLIENT_ID_BYTES or any(not c.isprintable() or c.isspace() for c in client_id):
        yield (
            f"[sync] client_id: must be at most {MAX_CLIENT_ID_BYTES} bytes of printable characters without "
            "spaces (empty: smart-mirror-<device id>)"
        )


@_rule("sync")
def _key_needs_a_cert(key_file: str, cert_file: str) -> Iterator[str]:
    if key_file and not cert_file:
        yield "[sync] key_file: given without cert_file; set both for client certificates, or neither"


@_rule("sync")
def _host_is_bare(host: str) -> Iterator[str]:
    if problem := _host_problem("host", host):
        yield f"[sync] host: {problem}"


@_rule("sync")
def _upload_hosts_are_bare(upload_hosts: str) -> Iterator[str]:
    for host in filter(None, (h.strip() for h in upload_hosts.split(","))):
        if problem := _host_problem("upload_hosts", host):
            yield f"[sync] upload_hosts: {problem}"


def _host_problem(key: str, host: str) -> str:
    """Why ``host`` is not a bare host name or address ("" when it is): a URL or a port here never matches."""
    port_goes = "as [sync] port" if key == "host" else "nowhere (upload URLs are matched by host name only)"
    if "://" in host or "/" in host:
        bare = host.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1].split(":")[0]
        return f"{host!r} is a URL; give the host name alone, e.g. {bare!r}"
    if host.count(":") == 1:  # one colon: name:port (an IPv6 address has several)
        name, port = host.split(":")
        return f"{host!r} includes a port; give {name!r} here, and {port} {port_goes}"
    if any(c.isspace() for c in host):
        return f"{host!r} contains spaces"
    return ""
