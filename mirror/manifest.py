"""Shipped model manifests: ``models/<name>/model.json``.

Each model folder holds its files and a ``model.json`` naming them per backend with their
SHA-256, the model's version and whatever its pre/post-processing needs (``meta``). The
vision code reads everything it needs from here, so a retrained model ships by replacing
one folder, and ``doctor`` can tell a truncated download from a good file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

MANIFEST_NAME = "model.json"
_REINSTALL = "reinstall the model files"
#: What reading a value of the wrong type or shape out of parsed JSON raises (``int(None)``,
#: ``tuple(5)``, ``5.items()``, ``meta["absent"]``): a damaged manifest, never a bug of ours.
MALFORMED = (KeyError, TypeError, ValueError, AttributeError)

T = TypeVar("T")


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
            raise ManifestError(f"{path}: missing; the model {folder.name!r} is not installed: {_REINSTALL}") from exc
        except (OSError, ValueError) as exc:
            raise ManifestError(f"{path}: unreadable ({exc}); reinstall the model files") from exc
        try:
            if not isinstance(data, dict):
                raise TypeError(f"it is {_json_kind(data)}, not an object")
            return cls(
                name=str(data["name"]),
                version=str(data["version"]),
                folder=folder,
                files={str(k): str(v) for k, v in _object(data, "files").items()},
                sha256={str(k): str(v) for k, v in _object(data, "sha256", {}).items()},
                meta=_object(data, "meta", {}),
            )
        except MALFORMED as exc:
            raise ManifestError(f"{path}: malformed ({_reason(exc)}); {_REINSTALL}") from exc

    @property
    def json_path(self) -> Path:
        """The ``model.json`` this manifest was read from: what an error about it names."""
        return self.folder / MANIFEST_NAME

    def read_meta(self, key: str, convert: Callable[[Any], T], default: Any = None) -> T:
        """``convert(meta[key])`` (``default`` when absent and given), or ManifestError naming the file and key.

        Why here: the vision code turns meta values into ints, tuples and floats where it loads
        its model, and a damaged value (``null``, a string for a number) would otherwise escape
        as a bare TypeError or ValueError: a traceback instead of one line naming the file.
        """
        try:
            return convert(self.meta[key] if default is None else self.meta.get(key, default))
        except MALFORMED as exc:
            raise ManifestError(f"{self.json_path}: malformed meta {key!r} ({_reason(exc)}); {_REINSTALL}") from exc

    def check_input(self, model_path: Path, shape: tuple[int, ...], layout: str, width: int, height: int) -> None:
        """ManifestError when the model file's input is not ``width``×``height`` as ``meta.input_size`` says.

        Why: a mismatched file (another model's, a retrained one without its manifest) would
        otherwise load and then fail every image with the runtime's "Dimension mismatch".
        Dimensions the file leaves open (reported as 1 or less) are not checked.
        """
        if len(shape) != 4:
            raise ManifestError(f"{model_path.name} takes a {len(shape)}-d input, not an image: {_REINSTALL}")
        h, w = (shape[1], shape[2]) if layout == "nhwc" else (shape[2], shape[3])
        if (h > 1 and h != height) or (w > 1 and w != width):
            said = str(width) if width == height else f"{width}×{height}"
            got = str(w) if w == h else f"{w}×{h}"
            raise ManifestError(f"{model_path.name} expects {got} px, {self.json_path} says {said}: {_REINSTALL}")

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


def _object(data: dict[str, Any], key: str, default: dict[str, Any] | None = None) -> dict[str, Any]:
    """``data[key]`` when it is a JSON object (``default`` when absent and given); TypeError naming it otherwise."""
    value = data[key] if default is None else data.get(key, default)
    if not isinstance(value, dict):
        raise TypeError(f"{key!r} is {_json_kind(value)}, not an object")
    return value


def _reason(exc: Exception) -> str:
    """A malformed-value exception in words: a KeyError's text is just the quoted key."""
    return f"no key {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args else str(exc)


def _json_kind(value: Any) -> str:
    """What a JSON value is, for a message ("a list", "null")."""
    if value is None:
        return "null"
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )
