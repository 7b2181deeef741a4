"""Secrets that must not live in the config file itself.

The MQTT password comes from ``$SMART_MIRROR_MQTT_PASSWORD`` or from ``[sync] password_file``,
a file only the service user can read (systemd's ``LoadCredential=`` works too: point
``password_file`` at ``$CREDENTIALS_DIRECTORY/...``). It is never logged.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from mirror.config.errors import ConfigError
from mirror.config.settings import SyncSettings

PASSWORD_ENV = "SMART_MIRROR_MQTT_PASSWORD"


def mqtt_password(sync: SyncSettings, environ: Mapping[str, str] | None = None) -> str | None:
    """The broker password, or ``None`` for anonymous/no password."""
    env = os.environ if environ is None else environ
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if not sync.password_file:
        return None
    path = Path(sync.password_file)
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            [f"[sync] password_file: cannot read {path} ({exc.strerror}); check the path and its owner"]
        ) from None


def password_file_problem(sync: SyncSettings) -> str | None:
    """A warning when the password file is readable by group or others, else ``None``."""
    if not sync.password_file:
        return None
    try:
        mode = Path(sync.password_file).stat().st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{sync.password_file} is readable by other users; run: chmod 600 {sync.password_file}"
    return None
