"""Typed settings, one frozen dataclass per TOML table.

Each field's default is what the mirror does with no config file at all: run on whatever
camera it finds, store under the user's data folder, and sync to a broker on localhost
when one is there (records wait in the outbox when none is).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from mirror.config.fields import setting

#: A configured device id: it becomes an MQTT topic level, so no wildcards (+ #), slashes or spaces.
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Most CPU threads one model may use (a Pi has 4 cores; more is a typo, and thousands crash the runtime).
MAX_THREADS = 64


def _default_data_dir() -> str:
    """systemd's ``StateDirectory`` when run as the service, else the XDG data folder."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return state.split(":")[0]
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(xdg) / "smart-mirror")


@dataclass(frozen=True)
class DeviceSettings:
    """Who this mirror is."""

    id: str = setting(
        "",
        "Device id used in records, MQTT topics and the client id: 1–64 letters, digits, - or _; "
        "empty means the id the closet's garments were made with, or for a new closet one derived "
        "from /etc/machine-id.",
    )
    name: str = setting("Smart mirror", "Human-readable name shown on the About screen and in Home Assistant.")


@dataclass(frozen=True)
class CameraSettings:
    """Where frames come from."""

    source: str = setting(
        "auto",
        "Frame source: auto (picamera2 if installed, else the V4L2 device), picamera2, v4l2, "
        "replay (a folder of images or a video file) or demo (built-in synthetic scene, no camera).",
        choices=("auto", "picamera2", "v4l2", "replay", "demo"),
    )
    device: str = setting("/dev/video0", "V4L2 device path or index for source = v4l2.")
    replay_path: str = setting("", "Folder of images or a video file for source = replay.")
    fps: int = setting(15, "Preview frame rate asked of the camera (and replay speed).", bounds=(1, 120))
    preview_width: int = setting(640, "Preview frame width in pixels.", bounds=(160, 4096))
    preview_height: int = setting(480, "Preview frame height in pixels.", bounds=(120, 4096))
    capture_width: int = setting(1640, "Still capture width in pixels (full-resolution shot).", bounds=(160, 8192))
    capture_height: int = setting(1232, "Still capture height in pixels.", bounds=(120, 8192))
    rotation: int = setting(
        0, "Rotate frames by 0, 90, 180 or 270 degrees (camera mounted sideways).", choices=(0, 90, 180, 270)
    )
    hflip: bool = setting(True, "Mirror the preview horizontally, as a mirror would show it.")


@dataclass(frozen=True)
class VisionSettings:
    """How garments are found and named."""

    backend: str = setting(
        "tflite", "Inference runtime: tflite (LiteRT) or onnx (ONNX Runtime).", choices=("tflite", "onnx")
    )
    threads: int = setting(
        0,
        "CPU threads per model for a shot's analysis; 0 means one per core (the live preview's detector uses one).",
        bounds=(0, MAX_THREADS),
    )
    models_dir: str = setting("", "Folder holding the model folders; empty means the models shipped with the software.")
    min_garment_area: float = setting(
        0.02, "Smallest garment to register, as a fraction of the frame area.", bounds=(0.0, 1.0)
    )
    unsure_below: float = setting(
        0.55, "Category score under which the mirror asks the person to confirm.", bounds=(0.0, 1.0)
    )
    hold_still_ms: int = setting(
        800, "How long the garment must be held still before the countdown.", bounds=(0, 10000)
    )
    countdown_s: int = setting(3, "Countdown seconds before the automatic capture.", bounds=(0, 10))
    auto_capture: bool = setting(
        True, "Capture automatically when a garment is held still (manual capture always works)."
    )


@dataclass(frozen=True)
class StoreSettings:
    """Where the closet lives."""

    data_dir: str = setting(
        "",
        "Closet folder (database and images); empty means $STATE_DIRECTORY under systemd, "
        "else $XDG_DATA_HOME/smart-mirror (~/.local/share/smart-mirror when XDG_DATA_HOME is unset).",
    )
    min_free_mb: int = setting(
        200, "Refuse new captures when less than this much disk is free (MB of 1,048,576 bytes).", bounds=(0, 1_000_000)
    )

    def path(self) -> Path:
        """The closet folder, with the empty default resolved."""
        return Path(self.data_dir).expanduser() if self.data_dir else Path(_default_data_dir())


@dataclass(frozen=True)
class SyncSettings:
    """How finished records reach the cloud over MQTT."""

    enabled: bool = setting(True, "Sync records to the broker; when false they stay on the mirror only.")
    host: str = setting("localhost", "MQTT broker host name or address.")
    port: int = setting(1883, "MQTT broker port (8883 is usual with TLS).", bounds=(1, 65535))
    protocol: str = setting("5", "MQTT protocol version: 5 or 3.1.1.", choices=("5", "3.1.1"))
    topic_prefix: str = setting("smart-mirror", "Topic prefix; topics are <prefix>/<device id>/....")
    client_id: str = setting("", "MQTT client id; empty means smart-mirror-<device id>.")
    username: str = setting("", "Broker user name; empty for anonymous.")
    password_file: str = setting(
        "",
        "File holding the broker password (readable only by the service user). "
        "$SMART_MIRROR_MQTT_PASSWORD overrides it.",
    )
    tls: bool = setting(False, "Connect with TLS.")
    ca_file: str = setting("", "CA certificate file for TLS; empty means the system store.")
    cert_file: str = setting("", "Client certificate file for TLS client authentication (optional).")
    key_file: str = setting("", "Private key file for the client certificate (optional).")
    keepalive_s: int = setting(30, "MQTT keepalive interval in seconds.", bounds=(5, 3600))
    max_inflight: int = setting(
        16, "Records published but not yet acknowledged by the cloud, at most.", bounds=(1, 1000)
    )
    ack_timeout_s: int = setting(
        60, "Republish a record when its cloud ack has not come after this long.", bounds=(1, 86400)
    )
    backoff_min_s: float = setting(1.0, "First reconnect delay in seconds (doubles, with jitter).", bounds=(0.1, 3600))
    backoff_max_s: float = setting(60.0, "Longest reconnect delay in seconds.", bounds=(0.1, 86400))
    images: str = setting(
        "mqtt",
        "How images travel: mqtt (binary messages) or http (upload to a presigned URL the backend hands out).",
        choices=("mqtt", "http"),
    )
    upload_hosts: str = setting(
        "",
        "With images = http: comma-separated host names the cloud's presigned upload URLs may point at, "
        "besides the broker's host (e.g. uploads.example.com); a URL to any other host is refused.",
    )
    ha_discovery: bool = setting(False, "Publish Home Assistant MQTT discovery for the mirror's status and counts.")

    def mirror_client_id(self, device_id: str) -> str:
        """The running mirror's MQTT client id. Its short-lived helpers (``sync drain``, doctor's login
        probe) add a suffix to it: sharing the id itself would knock the mirror off the broker."""
        return self.client_id or f"smart-mirror-{device_id}"


@dataclass(frozen=True)
class UiSettings:
    """How the mirror shows itself."""

    orientation: str = setting(
        "auto",
        "Screen layout: auto (from the screen's shape), portrait or landscape.",
        choices=("auto", "portrait", "landscape"),
    )
    fullscreen: bool = setting(True, "Fill the screen (false opens a window, for development).")
    font_scale: float = setting(
        1.0,
        "Multiply all type sizes (readability from a distance). At most 1.5: larger type no longer fits a "
        "landscape panel's 1080 px height (the home screen's clock, hint, buttons and status, or the closet's "
        "filters and a line of garments). On a small panel such as the official 7\" 800x480 one use 1.4-1.5: "
        "sizes follow the pixels, and at 1.0 its smallest text is about 2.3 mm and its buttons under 9 mm. "
        "Where the display reports a sensible physical size the mirror raises small text and buttons towards "
        "3.5 mm and 9 mm by itself (never beyond what 1.5 gives, or 1.7 on a portrait panel 10:16 or taller, where the "
        "layouts hold it); set this where it does not.",
        bounds=(0.5, 1.5),
    )
    preview: bool = setting(True, "Show the dimmed live preview while capturing.")
    result_timeout_s: float = setting(
        60.0,
        "Seconds a result may wait for the person; then the mirror goes home, keeping a confident "
        "result and dropping an unsure one (it needs the person's answer). The last 10 s count down on "
        "the screen.",
        bounds=(1.0, 3600.0),
    )
    screenshot_dir: str = setting(
        "", "When set, write a PNG of each screen shown here (used by the demo on machines with no display)."
    )


@dataclass(frozen=True)
class Settings:
    """All settings, plus where they came from (for messages)."""

    device: DeviceSettings = field(default_factory=DeviceSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    vision: VisionSettings = field(default_factory=VisionSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    origin: str = "built-in defaults"


SECTIONS: dict[str, type] = {
    "device": DeviceSettings,
    "camera": CameraSettings,
    "vision": VisionSettings,
    "store": StoreSettings,
    "sync": SyncSettings,
    "ui": UiSettings,
}
