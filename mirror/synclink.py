"""The core's view of the cloud link: the three things the service needs of a sync worker.

Why a Protocol and a factory: ``sync`` is a separate package (paho-mqtt, the message contract)
that the core must not be built around. The service holds the running link only through
:class:`SyncLink` and gets it from a :data:`SyncFactory`, so a test or another transport can be
handed in. This module is the service's only route to ``sync``, imported when a mirror with sync
enabled starts, so a mirror without the package still runs (and says so). The CLI commands (the
composition root: ``smart-mirror sync``, ``bench --sync``) import ``sync`` lazily too, each
inside the action that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from mirror.config.settings import SyncSettings
from mirror.store import ClosetStore


class SyncLink(Protocol):
    """A running link to the cloud: it delivers the outbox and passes remote commands in."""

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection (the status line says online or offline)."""
        ...

    def start(self) -> None:
        """Begin delivering, on a thread of its own."""
        ...

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop and wait up to ``timeout`` seconds for the thread; ``False`` when it is still running
        (it then stops on its own, and the closet must stay open for it)."""
        ...


class CommandSink(Protocol):
    """The service's side of a remote command (``MirrorService.command``): ``""`` if it will be
    carried out, else the refusal as ``code: one line``."""

    def __call__(self, name: str, *, screen: str = "", record_id: str = "", command_id: str = "") -> str: ...


#: Make (not start) the link for this closet and device.
SyncFactory = Callable[
    [ClosetStore, SyncSettings, str, str, CommandSink, Callable[[list[tuple[str, int]]], None]], SyncLink
]


class SyncNotInstalledError(Exception):
    """Sync is enabled but the ``sync`` package or one of its dependencies is missing."""

    def __init__(self, missing: str) -> None:
        super().__init__(f"sync is enabled but its package is not installed ({missing} missing)")
        self.missing = missing


def mqtt_link(
    store: ClosetStore,
    settings: SyncSettings,
    device_id: str,
    device_name: str,
    on_command: CommandSink,
    on_acked: Callable[[list[tuple[str, int]]], None],
) -> SyncLink:
    """The shipped link: ``sync.worker.SyncWorker`` over MQTT."""
    try:
        from sync.worker import SyncWorker  # see the module docstring: only when sync is enabled
    except ImportError as exc:
        raise SyncNotInstalledError(exc.name or "sync") from exc
    return SyncWorker(
        store,
        settings,
        device_id,
        device_name=device_name,
        on_command=lambda c: on_command(c.name, screen=c.screen, record_id=c.record_id, command_id=c.id),
        on_acked=on_acked,
    )


def broker_login_problem(settings: SyncSettings, client_id: str, timeout_s: float = 5.0) -> str:
    """Log in to the broker as the mirror would, under ``client_id``, and out again: ``""`` when the
    broker accepted, else why not (``sync.probe``; doctor's broker check)."""
    try:
        from sync.probe import login_problem
    except ImportError as exc:
        raise SyncNotInstalledError(exc.name or "sync") from exc
    return login_problem(settings, client_id, timeout_s)
