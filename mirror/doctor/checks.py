"""The checks an installer needs: data folder, closet database, disk, models, camera, broker."""

from __future__ import annotations

import errno
import os
import socket
import sqlite3
import ssl
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mirror.config import Settings
from mirror.config.secrets import password_file_problem, private_key_problem
from mirror.config.settings import SyncSettings
from mirror.device import device_id
from mirror.doctor.report import Finding, Outcome
from mirror.doctor.system import SYSTEM_CHECKS
from mirror.hosts import is_loopback
from mirror.inference import InferenceError
from mirror.manifest import ManifestError, ModelManifest, models_dir
from mirror.pipeline.models import MODEL_NAMES, ModelsError, models_fix, try_model
from mirror.store import schema, space, translate
from mirror.store.closet import DB_NAME, IMAGES_DIR
from mirror.store.codec import record_from_json
from mirror.store.images import committed_count
from mirror.store.orphan import orphan_log
from mirror.store.peek import closet_device_ids
from mirror.synclink import SyncNotInstalledError, broker_login_problem

REQUIRED_MODELS = MODEL_NAMES
_REINSTALL = "reinstall the project (git pull; pip install -e .)"
#: The fix the model loaders' own messages end in (``mirror.manifest``, ``mirror.inference``).
_FILES_FIX = "reinstall the model files"
NEURAL_BACKENDS = ("tflite", "onnx")


def check_data_dir(settings: Settings) -> Iterator[Finding]:
    """The closet folder: this user can reach and write it, and the closet's database files in it.

    Nothing is made here: a missing folder is made private (0700) by the mirror at its first start, as
    it holds photos of the person; made by this check it was readable by everyone (root's, under sudo).
    """
    path = settings.store.path()
    barrier = translate.barred(path / IMAGES_DIR, path)
    if barrier is not None:  # the store cannot open then; it says the same
        yield Finding(Outcome.FAIL, "data dir", barrier.why, barrier.fix)
        return
    for folder in (path, path / IMAGES_DIR):  # the closet refuses to open with a file in either place
        if folder.exists() and not folder.is_dir():
            fix = "move it aside" + ("" if folder != path else ", or set [store] data_dir to a folder")
            yield Finding(Outcome.FAIL, "data dir", f"{folder} is a file, not a folder", fix)
            return
    if not path.exists():
        yield _not_made_yet(path)
        return
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-") as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            fix = _FULL_FIX
        elif exc.errno == errno.EROFS:
            fix = _READ_ONLY_FIX
        else:
            fix = f"set [store] data_dir to a writable folder or chown it to {_user()}"
        yield Finding(Outcome.FAIL, "data dir", f"{path} is not writable ({exc.strerror})", fix)
        return
    stuck = translate.unwritable(translate.database_files(path / DB_NAME))
    if stuck:  # a backup restored as root: the folder is fine, the mirror can neither keep nor sync
        files, user = " ".join(str(p) for p in stuck), _user()
        yield Finding(
            Outcome.FAIL,
            "data dir",
            f"{translate.listed(p.name for p in stuck)} in {path} not writable by {user}: the mirror can neither "
            "keep nor sync garments",
            f"sudo chown {user} {files} && sudo chmod u+rw {files}",
        )
        return
    yield Finding(Outcome.OK, "data dir", f"{path} is writable")


def _not_made_yet(path: Path) -> Finding:
    """A closet folder not there yet: fine when the mirror can make it in the nearest folder that is."""
    parent = _nearest_existing(path.parent)
    if os.access(parent, os.W_OK | os.X_OK):
        return Finding(Outcome.OK, "data dir", f"{path} not made yet (the mirror makes it, private, when it starts)")
    user = _user()
    if translate.read_only_fs(parent):
        fix = _READ_ONLY_FIX
    else:
        fix = f"sudo install -d -m 700 -o {user} {path}, or set [store] data_dir to a folder {user} can write"
    return Finding(Outcome.FAIL, "data dir", f"{path} does not exist, and {user} may not make it in {parent}", fix)


#: An SD card remounted read-only after errors: chown cannot help.
_READ_ONLY_FIX = "the file system is read-only (see `dmesg`): check the card (fsck) and reboot; the data is unchanged"


def check_closet(settings: Settings) -> Iterator[Finding]:
    """Open the closet database read-only: integrity, and every garment's stored record readable."""
    db = settings.store.path() / DB_NAME
    try:
        orphan = orphan_log(db)  # before any connection: connecting would delete that log
    except OSError as exc:
        barrier = translate.barred(db, db.parent)
        if barrier is not None:
            fix = barrier.fix
        elif exc.errno == errno.ENOTDIR:  # [store] data_dir names a file: the data dir line says which
            fix = "see the data dir line: [store] data_dir must name a folder"
        else:
            fix = _AS_SERVICE
        yield Finding(Outcome.FAIL, "closet", f"{db} or its -wal file cannot be read ({exc.strerror})", fix)
        return
    if orphan is not None:
        yield Finding(
            Outcome.FAIL,
            "closet",
            f"{db} is missing or empty, but {db.name}-wal beside it holds {orphan.log_bytes // 1024} KB of garments "
            "(doctor did not open it: that would delete the log)",
            f"stop the mirror; put {db.name} back beside it (restore {db.name}* as a pair), or move {db.name}-wal "
            "aside to start an empty closet",
        )
        return
    if not db.exists():  # a lost closet.db with its images left is the moment to say so, before a start makes one
        not_yet = Finding(Outcome.OK, "closet", f"{db} not created yet (the first run creates it)")
        yield _no_garments(settings, db) or not_yet
        return
    if db.is_dir():
        yield Finding(Outcome.FAIL, "closet", f"{db} is a folder, not the closet database", "move it aside")
        return
    try:
        conn = sqlite3.connect(f"{db.absolute().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            # The full check, unlike the store's quick_check at every start: it also compares each index
            # with its table (a bit flip that drops an outbox index entry leaves a version never synced).
            integrity = conn.execute("PRAGMA integrity_check").fetchone()
            found, floor = int(conn.execute("PRAGMA user_version").fetchone()[0]), schema.read_floor(conn)
            refused = schema.too_new(found, floor)  # then its tables may not be the ones read below
            rows = [] if refused else conn.execute(
                "SELECT r.id, r.version, r.body FROM current c JOIN records r ON r.id = c.id AND r.version = c.version"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        if "no such table" in str(exc):
            yield _no_garments(settings, db) or Finding(
                Outcome.OK, "closet", f"{db} is empty (the mirror makes its tables when it starts)"
            )
            return
        corrupt = "malformed" in str(exc) or "not a database" in str(exc)
        if corrupt:  # worded as the integrity check's finding, which deploy.md's table lists
            yield Finding(Outcome.FAIL, "closet", f"{db} is damaged ({exc})", _CLOSET_FIX)
        elif _disk_full(db.parent):  # SQLite says "disk I/O error" on a disk full to the last byte
            yield Finding(Outcome.FAIL, "closet", f"{db} cannot be read ({exc}) on a full disk", _FULL_FIX)
        else:
            yield Finding(Outcome.FAIL, "closet", f"{db} cannot be read ({exc})", _AS_SERVICE)
        return
    if integrity is None or integrity[0] != "ok":
        detail = integrity[0] if integrity else "no answer"
        yield Finding(Outcome.FAIL, "closet", f"{db} is damaged ({detail})", _CLOSET_FIX)
        return
    if refused:  # after the damage check: the store checks that first too
        yield Finding(
            Outcome.FAIL,
            "closet",
            f"{db} is newer than this software ({refused}): the mirror runs without its closet",
            "install the newer version again, or restore the closet's pre-update backup (docs/deploy.md)",
        )
        return
    damaged = [f"{record_id} v{version}" for record_id, version, body in rows if not _readable(body)]
    if damaged:
        yield Finding(
            Outcome.FAIL,
            "closet",
            f"{len(damaged)} of {len(rows)} garment record(s) unreadable: {', '.join(damaged[:3])}",
            "restore the closet from a backup (docs/deploy.md); the other garments are unaffected",
        )
        return
    yield from _check_owner(settings)
    if found > schema.SCHEMA_VERSION:
        yield Finding(
            Outcome.WARN,
            "closet",
            f"{db} was written by newer software (schema {found}); this version (schema "
            f"{schema.SCHEMA_VERSION}) uses it because the change is additive",
            "update the mirror again when you can (docs/deploy.md)",
        )
    warning = None if rows else _no_garments(settings, db)
    yield warning or Finding(Outcome.OK, "closet", f"{db}: {len(rows)} garment version(s), all readable")


def _no_garments(settings: Settings, db: Path) -> Finding | None:
    """A WARN when a closet without garments lies beside images of an earlier closet: moved aside on
    purpose, or its ``-wal`` file lost; ``None`` when ``images/`` holds none.

    Asked whether or not the database has its tables: any open of the store (``closet list``,
    ``sync status``, the service) makes them, and the warning must outlive that. Every garment
    ever kept leaves a version in ``current``, so an empty one has never kept a garment.
    """
    images = settings.store.path() / IMAGES_DIR
    earlier = committed_count(images)
    if not earlier:
        return None
    return Finding(
        Outcome.WARN,
        "closet",
        f"{db} holds no garments, but {images} holds {earlier} garment image(s) of an earlier closet",
        f"if {db.name} was not moved aside on purpose, its -wal file was lost: stop the mirror and restore "
        "both from a backup (docs/deploy.md)",
    )


def _check_owner(settings: Settings) -> Iterator[Finding]:
    """Garments made under another device id cannot sync: the cloud refuses them as device_mismatch."""
    mine = device_id(settings)
    others = [d for d in closet_device_ids(settings.store.path()) if d != mine]
    if others:
        yield Finding(
            Outcome.FAIL,
            "closet",
            f"garments made by device {others[0]} wait unsynced: this mirror is {mine}, and the cloud "
            "refuses another device's garments",
            f'set [device] id = "{others[0]}" in the config (the id the closet was made with)',
        )


_CLOSET_FIX = "stop the mirror and restore the closet from a backup (docs/deploy.md)"
_AS_SERVICE = "run doctor as the service user (sudo -u smart-mirror smart-mirror doctor)"
_FULL_FIX = "free space on that disk (deleting garments works even now), or move [store] data_dir to a larger one"


def _disk_full(folder: Path) -> bool:
    """Whether the disk under ``folder`` has (next to) no room left: under 1 MB, or it cannot tell."""
    try:
        return space.measure(folder, 1).below_floor
    except OSError:
        return False


def _readable(body: str) -> bool:
    try:
        record_from_json(body)
    except ValueError:
        return False
    return True


def _nearest_existing(path: Path) -> Path:
    """``path`` or the nearest folder above it that is there (one this user may not look into counts as not)."""
    while path != path.parent:
        try:
            if path.exists():
                return path
        except OSError:  # Python 3.11 raises PermissionError in a folder this user may not enter
            pass
        path = path.parent
    return path


def check_free_disk(settings: Settings) -> Iterator[Finding]:
    path = _nearest_existing(settings.store.path())
    room = space.measure(path, max(settings.store.min_free_mb, 1))  # under 1 MB nothing can be kept
    free_mb, need = room.free_mb, room.floor_mb
    if room.below_floor:
        yield Finding(
            Outcome.FAIL,
            "free disk",
            f"{free_mb} MB free at {path}, under the {need} MB minimum",
            "free space, or move [store] data_dir to a larger disk",
        )
    elif free_mb < 4 * need:
        yield Finding(Outcome.WARN, "free disk", f"{free_mb} MB free at {path}", "free space soon")
    else:
        yield Finding(Outcome.OK, "free disk", f"{free_mb} MB free at {path}")


def check_models(settings: Settings) -> Iterator[Finding]:
    """One line per model: its manifest and checksums, then the mirror's own loading (one thread) and
    one run on a blank frame, so doctor fails exactly when ``analyze`` and the mirror would."""
    folder = models_dir(settings.vision.models_dir)
    backend = settings.vision.backend
    for name in REQUIRED_MODELS:
        try:
            manifest = ModelManifest.load(folder / name)
        except ManifestError as exc:
            yield Finding(Outcome.FAIL, f"model {name}", _without_fix(str(exc)), _models_fix(settings))
            continue
        problems = manifest.verify()
        if problems:
            yield Finding(Outcome.FAIL, f"model {name}", "; ".join(problems), _FILES_FIX)
            continue
        try:
            version = try_model(folder, name, backend)
        except ModelsError as exc:
            yield Finding(Outcome.FAIL, f"model {name}", _without_fix(str(exc)), _load_fix(exc, settings))
            continue
        yield Finding(Outcome.OK, f"model {name}", f"v{version} loads ({_kind(manifest, backend)})")


def _without_fix(message: str) -> str:
    """A model error without the generic fix its message ends in (written for ``analyze`` and the mirror,
    which print the message alone).

    Why: doctor's line names the one fix that applies after "— fix:"; kept, the line named two
    (``…; reinstall the model files — fix: reinstall the project (…)``, or ``— fix: check [vision]
    models_dir (…)``), and a reader could not tell which to do, or whether both.
    """
    for joint in ("; ", ": "):
        if message.endswith(joint + _FILES_FIX):
            return message.removesuffix(joint + _FILES_FIX)
    return message


def _models_fix(settings: Settings) -> str:
    """``[vision] models_dir`` when it is set, else reinstalling the software that ships the models."""
    configured = settings.vision.models_dir
    return models_fix(configured) if configured else _REINSTALL


def _load_fix(exc: ModelsError, settings: Settings) -> str:
    """The other runtime when this one cannot load a file whose checksum is right; else the install."""
    if isinstance(exc.__cause__, InferenceError):
        return f'try [vision] backend = "{_other(settings.vision.backend)}"'
    return _models_fix(settings)


def _kind(manifest: ModelManifest, backend: str) -> str:
    return backend if backend in manifest.files else ", ".join(sorted(manifest.files))


def _other(backend: str) -> str:
    return next(b for b in NEURAL_BACKENDS if b != backend)


def check_camera(settings: Settings) -> Iterator[Finding]:
    cam = settings.camera
    source = cam.source
    if source == "demo":
        yield Finding(Outcome.OK, "camera", "demo source: no camera needed")
        return
    if source == "replay":
        path = Path(cam.replay_path)
        if path.exists():
            yield Finding(Outcome.OK, "camera", f"replay source {path} exists")
        else:
            yield Finding(Outcome.FAIL, "camera", f"replay source {path} does not exist", "fix [camera] replay_path")
        return
    if source in ("auto", "picamera2"):
        found = _picamera2_cameras()
        if found is not None:
            if found:
                yield Finding(Outcome.OK, "camera", f"picamera2 sees {found} camera(s)")
            else:
                yield Finding(
                    Outcome.FAIL,
                    "camera",
                    "picamera2 is installed but sees no camera",
                    "check the ribbon cable and run: rpicam-hello --list-cameras",
                )
            return
        if source == "picamera2":
            yield Finding(
                Outcome.FAIL,
                "camera",
                "picamera2 is not installed",
                "sudo apt install python3-picamera2 and make the venv with --system-site-packages",
            )
            return
    yield from _check_v4l2(cam.device)


def _picamera2_cameras() -> int | None:
    """Number of cameras libcamera sees, or ``None`` when picamera2 is not installed."""
    try:
        from picamera2 import Picamera2
    except ImportError:
        return None
    return len(Picamera2.global_camera_info())


def _check_v4l2(device: str) -> Iterator[Finding]:
    if not device.isdigit() and not Path(device).exists():
        yield Finding(
            Outcome.FAIL,
            "camera",
            f"no camera at {device}",
            'plug in a camera, set [camera] device, or use source = "demo"',
        )
        return
    import cv2

    cap = cv2.VideoCapture(int(device) if device.isdigit() else device, cv2.CAP_V4L2)
    try:
        ok = cap.isOpened() and cap.read()[0]
    finally:
        cap.release()
    if ok:
        yield Finding(Outcome.OK, "camera", f"{device} delivers frames")
    else:
        yield Finding(
            Outcome.FAIL,
            "camera",
            f"{device} exists but gives no frames",
            f"check that no other program holds it and that {_user()} is in the video group",
        )


def check_device(settings: Settings) -> Iterator[Finding]:
    """The id the mirror goes by: its topics carry it, and with the example ACL it is the broker user name
    (docs/deploy.md, step 5), so an installer needs it before the broker can take the mirror."""
    if settings.device.id:
        how = "[device] id"
    elif closet_device_ids(settings.store.path()):
        how = "the id its closet was made with"
    else:
        how = "made from this machine's id"
    yield Finding(Outcome.OK, "device", f"id {device_id(settings)} ({how})")


def _username_finding(sync: SyncSettings, mine: str) -> Iterator[Finding]:
    """A user name other than the device id: the example ACL refuses every record such a mirror sends."""
    if sync.username and sync.username != mine:
        yield Finding(
            Outcome.WARN,
            "broker",
            f"[sync] username {sync.username!r} is not this mirror's device id {mine!r}: with the example ACL "
            "(user name = device id) the broker refuses its records",
            f'set [sync] username = "{mine}", unless your broker\'s ACL names mirrors otherwise',
        )


def check_broker(settings: Settings) -> Iterator[Finding]:
    sync = settings.sync
    if not sync.enabled:
        yield Finding(Outcome.OK, "broker", "sync disabled: records stay on this mirror")
        return
    yield from credential_findings(sync)
    yield from _username_finding(sync, device_id(settings))
    unreadable = list(_unreadable_sync_files(sync))
    if unreadable:  # the mirror fails on these before it connects; so does this check
        yield from unreadable
        return
    where = f"{sync.host}:{sync.port}"
    try:
        with socket.create_connection((sync.host, sync.port), timeout=3) as sock:
            if sync.tls:
                context = ssl.create_default_context(cafile=sync.ca_file or None)
                if sync.cert_file:
                    context.load_cert_chain(sync.cert_file, sync.key_file or None)
                with context.wrap_socket(sock, server_hostname=sync.host):
                    pass
    except ssl.SSLError as exc:
        yield Finding(
            Outcome.FAIL,
            "broker",
            f"TLS handshake with {where} failed ({exc.reason})",
            "check [sync] ca_file, cert_file and the broker's certificate name",
        )
        return
    except OSError as exc:
        # Offline-first: records wait in the outbox, so an absent broker is a warning.
        yield Finding(
            Outcome.WARN,
            "broker",
            f"{where} unreachable ({exc.strerror or exc}); records will wait in the outbox",
            "start the broker or fix [sync] host/port",
        )
        return
    yield _login_finding(sync, where + (" with TLS" if sync.tls else ""), device_id(settings))


def _login_finding(sync: SyncSettings, where: str, mine: str) -> Finding:
    """Log in as the mirror would: a broker that is up can still refuse its user name or password."""
    user = repr(sync.username) if sync.username else "anonymous"
    try:
        problem = broker_login_problem(sync, sync.mirror_client_id(mine) + "-doctor")
    except SyncNotInstalledError as exc:
        return Finding(Outcome.WARN, "broker", f"{where} reachable, login not tried: {exc}", _REINSTALL)
    except ValueError as exc:  # the client could not be set up (sync.broker.BrokerSetupError)
        return Finding(Outcome.FAIL, "broker", f"{where} reachable, but {exc}", "fix the [sync] TLS files")
    except ConnectionResetError as exc:  # hung up at the login: most often TLS on one side only
        if sync.tls:
            fix = "check [sync] tls and port (a plain listener, often 1883, needs tls = false)"
        else:
            fix = "check [sync] tls and port (a TLS listener, often 8883, needs tls = true)"
        return Finding(Outcome.FAIL, "broker", f"{where} reachable, but {exc}", fix)
    except OSError as exc:  # no verdict: the broker is slow, or went away since the connect above
        return Finding(
            Outcome.WARN,
            "broker",
            f"{where} reachable, but the login got no answer ({exc}); records will wait in the outbox",
            "check the broker's log",
        )
    if not problem:
        return Finding(Outcome.OK, "broker", f"{where} reachable, login as {user} accepted")
    return Finding(
        Outcome.FAIL,
        "broker",
        f"{where} refused the login as {user} ({problem}): records will wait in the outbox for ever",
        f"set [sync] username = \"{mine}\" (the device id, with the example ACL) and the password in "
        "[sync] password_file, and add the same pair to the broker (mosquitto_passwd)",
    )


def _unreadable_sync_files(sync: SyncSettings) -> Iterator[Finding]:
    """A FAIL for each file [sync] names that this user cannot read (the mirror cannot either)."""
    files = [("password_file", sync.password_file)]
    if sync.tls:
        files += [("ca_file", sync.ca_file), ("cert_file", sync.cert_file), ("key_file", sync.key_file)]
    for key, name in files:
        if not name:
            continue
        try:
            with Path(name).open("rb"):
                pass
        except OSError as exc:
            yield Finding(
                Outcome.FAIL,
                "broker",
                f"[sync] {key}: cannot read {name} ({exc.strerror}); nothing can sync",
                f"put the file there, readable by {_user()}, or fix [sync] {key}",
            )


def credential_findings(sync: SyncSettings) -> Iterator[Finding]:
    """The broker password's file, the client's private key, and the password's way to the broker,
    whether or not the broker answers now."""
    warning = password_file_problem(sync)
    if warning:
        yield Finding(Outcome.WARN, "broker", "password file permissions", warning)
    warning = private_key_problem(sync)
    if warning:
        yield Finding(Outcome.WARN, "broker", "private key permissions", warning)
    if (sync.username or sync.password_file) and not sync.tls and not is_loopback(sync.host):
        yield Finding(
            Outcome.WARN,
            "broker",
            f"the broker password goes to {sync.host} unencrypted (anyone on the network can read it)",
            "set [sync] tls = true with ca_file (port 8883), and TLS on the broker",
        )


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return "the service user"


CHECKS = (
    check_data_dir,
    check_closet,
    check_device,
    check_free_disk,
    check_models,
    check_camera,
    check_broker,
    *SYSTEM_CHECKS,
)
