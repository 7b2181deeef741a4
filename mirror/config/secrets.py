"""Secrets that must not live in the config file itself.

The MQTT password comes from ``$SMART_MIRROR_MQTT_PASSWORD`` or from ``[sync] password_file``,
a file only the service user can read (systemd's ``LoadCredential=NAME:PATH`` works too: point
``password_file`` at the literal ``/run/credentials/smart-mirror.service/NAME``; nothing in the
config is variable-expanded). It is never logged. Doctor warns when that
file, or the TLS client's private key (``key_file``), is open to other users.
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
    """A warning when the password file is readable by group or others or belongs to another user, else ``None``."""
    return secret_file_problem(sync.password_file) if sync.password_file else None


def private_key_problem(sync: SyncSettings) -> str | None:
    """The same for the client certificate's private key: ``key_file``, or ``cert_file`` when the key is in it."""
    if sync.key_file:
        return secret_file_problem(sync.key_file)
    if sync.cert_file:  # without key_file, ssl takes the key from cert_file
        return secret_file_problem(sync.cert_file, holds=" (it holds the private key: no key_file is set)")
    return None


def secret_file_problem(path: str, uid: int | None = None, holds: str = "") -> str | None:
    """A one-line warning, with the command that fixes it, when the secret file ``path`` can be read
    by anyone but the user ``uid`` (this process's: the service user, for the service and for
    ``sudo -u smart-mirror smart-mirror doctor``): its mode lets its group or others in, or it belongs
    to another user (who can read it or change its mode). A file of root's is not another user's
    (root reads everything anyway); run as root, only the mode is judged. ``None`` when it is private,
    or missing (the mirror's own error says that)."""
    me = os.getuid() if uid is None else uid
    try:
        info = Path(path).stat()
    except OSError:
        return None
    foreign = me != 0 and info.st_uid not in (me, 0)
    loose = bool(info.st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    if not (foreign or loose):
        return None
    user = _user_name(me)
    what = f"belongs to {_user_name(info.st_uid)}, not {user}" if foreign else "is readable by other users"
    if me != 0 and info.st_uid != me:  # chmod alone would lock this user out, or leave the owner in
        return f"{path}{holds} {what}; run: sudo chown {user} {path} && sudo chmod 600 {path}"
    return f"{path}{holds} {what}; run: chmod 600 {path}"


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)
