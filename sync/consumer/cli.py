"""``smart-mirror-consumer``: the reference cloud consumer as a long-running command.

Example::

    smart-mirror-consumer --host broker.example --tls --ca-file ca.pem --username cloud \\
        --password-file /run/secrets/mqtt --db /var/lib/closet/consumer.db \\
        --device mirror-1a2b3c4d5e
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from mirror.cli.argtypes import bounded
from mirror.config.secrets import PASSWORD_ENV
from mirror.hosts import is_loopback
from mirror.logsetup import configure_logging
from sync.broker import SESSION_EXPIRY_S, BrokerConfig, BrokerSetupError
from sync.consumer.db import ConsumerDB, ConsumerDBError
from sync.consumer.devices import DEVICE_ID, DeviceRegistry, DevicesFileError
from sync.consumer.handler import PENDING_TTL_S, Limits, MessageHandler
from sync.consumer.service import ConsumerService
from sync.consumer.uploads import UploadServer
from sync.remote_cli import port_arg, topic_prefix_arg

#: A consumer's session outlives a restart (what it had not PUBACKed is redelivered) but not much
#: more: mosquitto keeps handing a gone member of a shared-subscription group its share until the
#: session expires, and those versions then wait for the mirror's ack timeout.
CONSUMER_SESSION_EXPIRY_S = 900
#: The longest ``--session-expiry``: the mirror's own (7 days); a member of a ``--group`` gone that
#: long would keep its share of the messages all the while, so longer is a typo.
MAX_SESSION_EXPIRY_S = SESSION_EXPIRY_S
#: An MQTT message is at most 256 MiB, and the consumer asks for its largest plus 64 KiB (topic, headers).
MAX_IMAGE_MB = 255
MAX_RECORD_KB = MAX_IMAGE_MB * 1024

log = logging.getLogger(__name__)


def device_arg(text: str) -> str:
    """The argparse ``type`` of ``--device`` and ``--erase-device``: the devices file's rule
    (:data:`~sync.consumer.devices.DEVICE_ID`), so a mirror named on the command line could send records."""
    if not DEVICE_ID.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text[:80]!r} is not a device id (1-64 of A-Z a-z 0-9 _ -)")
    return text


def unreachable_uploads(bind: str, url: str) -> str:
    """A warning when the upload server listens on this machine only while its URLs name another
    host that nothing forwards to it (the default bind became loopback: mirrors on the LAN would
    get "connection refused" and retry for ever, with nothing said here)."""
    host = urlsplit(url).hostname or "" if url else ""
    if not is_loopback(bind) or not host or is_loopback(host):
        return ""
    return (
        f"the upload server listens on {bind} only, but its URLs name {host}: mirrors reach it only "
        "through a proxy on this machine (e.g. TLS in front); otherwise pass --http-bind 0.0.0.0"
    )

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="smart-mirror-consumer",
        description="Reference cloud consumer: store the mirrors' garments idempotently and ack them.",
    )
    p.add_argument("--host", default="localhost", help="broker host (default localhost)")
    p.add_argument("--port", type=port_arg, default=1883, help="broker port (default 1883)")
    p.add_argument(
        "--prefix",
        type=topic_prefix_arg,
        default="smart-mirror",
        help="topic prefix the mirrors use (default %(default)s)",
    )
    p.add_argument(
        "--group",
        default="smart-mirror",
        help="shared-subscription group; the consumers in it split the load (default %(default)s)",
    )
    p.add_argument("--client-id", default="", help="MQTT client id (default smart-mirror-consumer-<host name>)")
    p.add_argument(
        "--session-expiry",
        type=bounded(int, "a number of seconds", 0, MAX_SESSION_EXPIRY_S, unit=" s", lowest_ok=True),
        default=CONSUMER_SESSION_EXPIRY_S,
        metavar="S",
        help="seconds the broker keeps this consumer's session while it is away (default %(default)s, at most "
        f"{MAX_SESSION_EXPIRY_S}); a gone "
        "member of a --group keeps getting its share of the messages until then",
    )
    p.add_argument("--username", default="", help="broker user name")
    p.add_argument(
        "--password-file", default="", help=f"file holding the broker password (${PASSWORD_ENV} overrides it)"
    )
    p.add_argument("--tls", action="store_true", help="connect with TLS")
    p.add_argument("--ca-file", default="", help="CA certificate for TLS")
    p.add_argument("--cert-file", default="", help="client certificate for TLS")
    p.add_argument("--key-file", default="", help="client key for TLS")
    p.add_argument("--db", default="consumer.db", help="SQLite path or postgresql:// URL (default consumer.db)")
    p.add_argument(
        "--device", type=device_arg, action="append", default=[], metavar="ID", help="accept this mirror (repeatable)"
    )
    p.add_argument(
        "--devices-file",
        type=Path,
        metavar="PATH",
        help="also accept the mirrors listed in this file, one id per line (# comments); re-read when it changes, "
        "so a new mirror needs no restart",
    )
    p.add_argument("--any-device", action="store_true", help="accept every mirror (development only)")
    p.add_argument(
        "--max-record-kb",
        type=bounded(int, "a number of KiB", 0, MAX_RECORD_KB),
        default=256,
        metavar="KB",
        help=f"larger record messages are dead-lettered (default %(default)s, at most {MAX_RECORD_KB})",
    )
    p.add_argument(
        "--max-image-mb",
        type=bounded(int, "a number of MiB", 0, MAX_IMAGE_MB),
        default=16,
        metavar="MB",
        help=f"larger images are dead-lettered, or refused by the upload server (default %(default)s, at most "
        f"{MAX_IMAGE_MB}); but one over this plus 64 KiB never reaches the consumer: the broker drops it, unanswered, "
        "and its mirror sends it again at each reconnect, so keep this above the largest cut-out a mirror makes",
    )
    p.add_argument(
        "--http-port",
        type=bounded(int, "a port number", 0, 65535, lowest_ok=True),
        default=0,
        metavar="PORT",
        help="serve presigned image uploads on this port (images=http; default 0: no upload server)",
    )
    p.add_argument(
        "--http-bind",
        default="127.0.0.1",
        help="address the upload server listens on (default %(default)s: a TLS reverse proxy in front of it "
        "is the public --http-url https://...)",
    )
    p.add_argument("--http-url", default="", help="public base URL of the upload server (default http://<bind>:<port>)")
    p.add_argument(
        "--upload-secret-file",
        default="",
        help="file holding the HMAC key for upload URLs; give every consumer of a --group the same one "
        "(default: a random key per start, so URLs signed before a restart stop working)",
    )
    tending = p.add_mutually_exclusive_group()  # each does its one job on --db and exits
    tending.add_argument(
        "--erase-device",
        type=device_arg,
        metavar="ID",
        help="delete everything this mirror sent (its garments' versions and the images only it named) from "
        "--db, then exit; for a mirror retired or a person who asks to be forgotten",
    )
    tending.add_argument(
        "--collect-images",
        action="store_true",
        help="delete from --db the images no garment names that came more than 7 days ago (a record that never "
        "followed its images), then exit; run it daily, e.g. from a systemd timer",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return p


def open_db(url: str) -> ConsumerDB | None:
    """The database, or ``None`` once the reason is printed (one line)."""
    try:
        return ConsumerDB.open(url)
    except ConsumerDBError as exc:
        print(f"smart-mirror-consumer: {exc}", file=sys.stderr)
        return None


def collect_images(db: ConsumerDB, now: float | None = None) -> int:
    """``--collect-images``: one line saying what went; exit status."""
    with db.transaction() as tx:
        images, size = tx.collect_images((time.time() if now is None else now) - PENDING_TTL_S)
    print(f"collected {images} image(s), {size / 1e6:.1f} MB, that no garment names and came over 7 days ago")
    return 0


def erase_device(db: ConsumerDB, device_id: str) -> int:
    """``--erase-device``: one line saying what went; exit status."""
    with db.transaction() as tx:
        versions, images = tx.erase_device(device_id)
    print(f"erased mirror {device_id}: {versions} garment version(s) and {images} image(s) only it named")
    return 0


MIN_SECRET_BYTES = 16


def read_password(path: str) -> str | None:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    if not path:
        return None
    warn_if_shared(path, "--password-file")
    return Path(path).read_text(encoding="utf-8").strip()


def read_upload_secret(path: str) -> bytes:
    """The HMAC key for upload URLs (``b""``: none given, a random one per start); ValueError if too short."""
    if not path:
        return b""
    warn_if_shared(path, "--upload-secret-file")
    secret = Path(path).read_bytes().strip()
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"--upload-secret-file {path} holds {len(secret)} bytes, the key needs at least {MIN_SECRET_BYTES}; "
            f"make one with: head -c 32 /dev/urandom | base64 > {path}"
        )
    return secret


def warn_if_shared(path: str, option: str) -> None:
    """Warn when a secret's file may be read or changed by other users than its owner."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return  # reading it says why
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s %s is open to other users (mode %03o); run: chmod 600 %s", option, path, mode & 0o777, path)


class UsageError(Exception):
    """A start-up problem the operator fixes on the command line: said in one line, exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    if args.erase_device or args.collect_images:
        return _tend(args)
    db: ConsumerDB | None = None
    try:
        devices = _devices(args)
        password, secret = _secrets(args)
        db = open_db(args.db)
        if db is None:
            return 1
        broker = _broker(args, password)
        handler = MessageHandler(
            db,
            args.prefix,
            devices,
            Limits(max_record_bytes=args.max_record_kb * 1024, max_image_bytes=args.max_image_mb * 1024 * 1024),
        )
        uploads = _upload_server(args, handler, secret)
        try:
            service = ConsumerService(handler, broker, group=args.group, uploads=uploads)
        except BrokerSetupError as exc:
            raise UsageError(str(exc)) from None
    except UsageError as exc:
        print(f"smart-mirror-consumer: {exc}", file=sys.stderr)
        if db is not None:
            db.close()
        return 2

    def stop(_signum: int, _frame: FrameType | None) -> None:
        service.stop_forever()

    signal.signal(signal.SIGTERM, stop)
    log.info("consuming %s/+/... from %s into %s", args.prefix, broker.describe(), db.where)
    try:
        service.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        db.close()
    return 0


def _tend(args: argparse.Namespace) -> int:
    """``--erase-device`` or ``--collect-images``: one job on the database, then exit."""
    tending = open_db(args.db)
    if tending is None:
        return 1
    try:
        return erase_device(tending, args.erase_device) if args.erase_device else collect_images(tending)
    finally:
        tending.close()


def _devices(args: argparse.Namespace) -> DeviceRegistry | None:
    """The mirrors accepted (``None``: any, with ``--any-device``); one must be named, on purpose."""
    if not args.device and not args.devices_file and not args.any_device:
        raise UsageError("name the mirrors it accepts with --device ID or --devices-file PATH (or --any-device)")
    try:
        return None if args.any_device else DeviceRegistry(args.device, args.devices_file)
    except DevicesFileError as exc:
        raise UsageError(str(exc)) from None


def _secrets(args: argparse.Namespace) -> tuple[str | None, bytes]:
    """The broker password and the upload-URL secret, from their files."""
    try:
        password = read_password(args.password_file)
    except OSError as exc:
        raise UsageError(f"cannot read --password-file {args.password_file} ({exc.strerror})") from None
    try:
        secret = read_upload_secret(args.upload_secret_file)
    except OSError as exc:
        raise UsageError(f"cannot read --upload-secret-file {args.upload_secret_file} ({exc.strerror})") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return password, secret


def _broker(args: argparse.Namespace, password: str | None) -> BrokerConfig:
    return BrokerConfig(
        host=args.host,
        port=args.port,
        protocol="5",
        client_id=args.client_id or f"smart-mirror-consumer-{socket.gethostname()}",
        username=args.username,
        password=password,
        tls=args.tls,
        ca_file=args.ca_file,
        cert_file=args.cert_file,
        key_file=args.key_file,
        session_expiry_s=args.session_expiry,
    )


def _upload_server(args: argparse.Namespace, handler: MessageHandler, secret: bytes) -> UploadServer | None:
    """The HTTP server for image uploads, with ``--http-port``."""
    if not args.http_port:
        return None
    warning = unreachable_uploads(args.http_bind, args.http_url)
    if warning:
        log.warning("%s", warning)
    try:
        return UploadServer(handler, args.http_bind, args.http_port, args.http_url, secret)
    except OSError as exc:
        raise UsageError(
            f"upload server on {args.http_bind}:{args.http_port} ({exc.strerror or exc}); check --http-port/--http-bind"
        ) from None


def entry_point() -> None:
    sys.exit(main())
