"""Configuration: one TOML file parsed into typed, validated settings.

Lookup order: ``--config``, ``$SMART_MIRROR_CONFIG``, ``/etc/smart-mirror/config.toml``, else
built-in defaults. Every problem in a file is reported at once, one line each, so an
installer fixes a config in one pass instead of one error per restart.
"""

from mirror.config.errors import ConfigError
from mirror.config.loader import SYSTEM_CONFIG, find_config_file, load_settings, parse_settings
from mirror.config.settings import (
    CameraSettings,
    DeviceSettings,
    Settings,
    StoreSettings,
    SyncSettings,
    UiSettings,
    VisionSettings,
)

__all__ = [
    "SYSTEM_CONFIG",
    "CameraSettings",
    "ConfigError",
    "DeviceSettings",
    "Settings",
    "StoreSettings",
    "SyncSettings",
    "UiSettings",
    "VisionSettings",
    "find_config_file",
    "load_settings",
    "parse_settings",
]
