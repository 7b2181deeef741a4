"""Shipped model manifests: ``models/<name>/model.json``.

Each model folder holds its files and a ``model.json`` naming them per backend with their
SHA-256, the model's version and whatever its pre/post-processing needs (``meta``). The
vision code reads everything it needs from here, so a retrained model ships by replacing
one folder, and ``doctor`` can tell a truncated download from a good file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_NAME = "model.json"


class ManifestError(RuntimeError):
    """A model folder is missing, unreadable or inconsistent; the message says which and why."""


def default_models_dir() -> Path:
    """The ``models/`` folder beside the ``mirror`` package (a checkout or an editable install)."""
    return Path(__file__).resolve().parent.parent / "models"


def models_dir(configured: str) -> Path:
    """``[vision] models_dir`` or, when it is empty, the models shipped with the software."""
    return Path(configured).expanduser() if configured else default_models_dir()


@dataclass(frozen=True)
class ModelManifest:
    """What ``model.json`` says about one shipped model."""

    name: str
    version: str
    folder: Path
    files: dict[str, str]
    sha256: dict[str, str]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path) -> ModelManifest:
        """Read ``folder/model.json``; raise :class:`ManifestError` with a one-line reason."""
        path = folder / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ManifestError(f"{path}: missing; the model {folder.name!r} is not installed") from exc
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{path}: unreadable ({exc}); reinstall the model files") from exc
        try:
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                folder=folder,
                files={str(k): str(v) for k, v in data["files"].items()},
                sha256={str(k): str(v) for k, v in data.get("sha256", {}).items()},
                meta=dict(data.get("meta", {})),
            )
        except (KeyError, AttributeError, TypeError) as exc:
            raise ManifestError(f"{path}: missing or malformed key {exc}; reinstall the model files") from exc

    def path(self, backend: str) -> Path:
        """The file for ``backend`` (``tflite``/``onnx``/``table``…)."""
        try:
            return self.folder / self.files[backend]
        except KeyError as exc:
            raise ManifestError(f"{self.folder / MANIFEST_NAME}: no {backend!r} file for model {self.name!r}") from exc

    def verify(self) -> list[str]:
        """Check every listed file exists and matches its SHA-256; return one line per problem."""
        problems = []
        for filename in sorted(set(self.files.values())):
            path = self.folder / filename
            if not path.is_file():
                problems.append(f"{path}: missing")
                continue
            expected = self.sha256.get(filename)
            if expected and sha256_of(path) != expected:
                problems.append(f"{path}: checksum mismatch (damaged or replaced file)")
        return problems


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(models_dir: Path) -> list[Path]:
    """Model folders under ``models_dir`` (each with a ``model.json``), sorted by name."""
    if not models_dir.is_dir():
        return []
    return sorted(p.parent for p in models_dir.glob(f"*/{MANIFEST_NAME}"))
