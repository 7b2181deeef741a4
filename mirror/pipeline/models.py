"""Loading every model the pipeline needs, once, with its load time.

Why once: the old server reloaded its models for every request and spent most of its 15 s
doing so. The mirror loads them when it starts (and ``analyze`` when it starts), keeps them
in memory and reuses them for every frame; ``bench`` measures both designs side by side.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from mirror.inference import InferenceError
from mirror.manifest import ManifestError
from mirror.manifest import models_dir as models_dir  # re-exported: callers load models from the folder it names
from mirror.pipeline.finder import GarmentFinder
from mirror.vision.classifier import Classifier
from mirror.vision.colour import ColourTable, describe_colour

#: Threads of the live preview's own segmenter (``load_models(preview=True)``). One, so each look runs
#: wholly on the detector thread, whose priority is lowered: a runtime's pool threads are made when
#: the model loads, at normal priority, and with one per core they would wake every core of a Pi five
#: times a second while someone stands in front, competing with the preview and the GUI.
PREVIEW_THREADS = 1

#: The models the pipeline loads, each from its folder under the models directory.
MODEL_NAMES = ("segmenter", "classifier", "colour")


class ModelsError(RuntimeError):
    """A model is missing or broken; the message is one line naming it and the fix, ``model`` its name."""

    def __init__(self, message: str, model: str = "") -> None:
        super().__init__(message)
        self.model = model


@dataclass(frozen=True)
class Models:
    """The loaded segmenter (with instance extraction), classifier and colour table; on the mirror also
    a second, one-thread segmenter for the live preview (``preview_finder``), so detection neither
    waits for a shot's analysis nor runs at the analysis's priority and width."""

    finder: GarmentFinder
    classifier: Classifier
    colours: ColourTable
    backend: str
    threads: int
    load_ms: float
    preview_finder: GarmentFinder | None = None

    @property
    def detector(self) -> GarmentFinder:
        """The segmenter that looks at preview frames: its own when loaded, else the analysis's."""
        return self.preview_finder or self.finder

    @property
    def versions(self) -> dict[str, str]:
        """Model name -> version, stored with every record so a result can be traced to its models."""
        return {
            "segmenter": self.finder.version,
            "classifier": str(self.classifier.manifest.version),
            "colour": self.colours.version,
        }


def resolve_threads(threads: int) -> int:
    """``0`` (the config default) means one thread per core."""
    return threads if threads > 0 else max(1, os.cpu_count() or 1)


def load_models(folder: Path, backend: str, threads: int, min_area: float = 0.0, *, preview: bool = False) -> Models:
    """Load all models under ``folder`` with ``backend`` and ``threads`` (0 = one per core); ``preview``
    adds the live preview's own segmenter (:data:`PREVIEW_THREADS`; the mirror, not ``analyze``)."""
    threads = resolve_threads(threads)
    t0 = time.perf_counter()
    finder = load_finder(folder, backend, threads, min_area)
    classifier = load_classifier(folder, backend, threads)
    colours = load_colours(folder)
    watcher = load_finder(folder, backend, PREVIEW_THREADS, min_area) if preview else None
    load_ms = (time.perf_counter() - t0) * 1000.0
    return Models(finder, classifier, colours, backend, threads, load_ms, preview_finder=watcher)


@contextmanager
def _loading(name: str) -> Iterator[None]:
    """Turn a bad install of model ``name`` into :class:`ModelsError`: every loader raises the
    manifest's or the runtime's one-line error (a malformed ``meta`` included), never a bare one."""
    try:
        yield
    except (ManifestError, InferenceError) as exc:
        raise ModelsError(str(exc), name) from exc


def load_finder(folder: Path, backend: str, threads: int, min_area: float = 0.0) -> GarmentFinder:
    """The segmenter of ``folder/segmenter`` with its instance extraction."""
    with _loading("segmenter"):
        return GarmentFinder.load(folder / "segmenter", backend, threads, min_area)


def load_classifier(folder: Path, backend: str, threads: int) -> Classifier:
    """The category model of ``folder/classifier``."""
    with _loading("classifier"):
        return Classifier.load(folder / "classifier", backend, threads)


def load_colours(folder: Path) -> ColourTable:
    """The colour table (and learned fabric stage) of ``folder/colour``."""
    with _loading("colour"):
        return ColourTable.load(folder / "colour")


def try_model(folder: Path, name: str, backend: str) -> str:
    """Load model ``name`` as :func:`load_models` does (one thread) and run it once on a blank frame;
    return its version, or raise :class:`ModelsError` naming it.

    Why: ``doctor`` must fail exactly when ``analyze`` and the mirror would. Loading the file
    alone passes a model whose ``model.json`` is damaged or whose file belongs to another model;
    the trial run catches what loads and still cannot run. Any exception of the run is caught:
    ``analyze`` reports the same ones as "analysis failed" for every image.
    """
    version, trial = _trial(folder, name, backend)
    try:
        trial()
    except Exception as exc:  # whatever it is, every analysis would meet it: say so, naming the model
        raise ModelsError(f"{folder / name}: loads but cannot run ({exc}); reinstall the model files", name) from exc
    return version


def _trial(folder: Path, name: str, backend: str) -> tuple[str, Callable[[], object]]:
    """Model ``name`` loaded with one thread: its version, and one run of it on a tiny grey frame
    (doctor runs on a Pi), called the way the analysis calls it."""
    frame = np.full((48, 64, 3), 128, np.uint8)
    if name == "segmenter":
        finder = load_finder(folder, backend, 1)
        return finder.version, partial(finder.find, frame)
    if name == "classifier":
        classifier = load_classifier(folder, backend, 1)
        return str(classifier.manifest.version), partial(classifier.classify_image, frame)
    colours = load_colours(folder)
    return colours.version, partial(describe_colour, frame, np.ones(frame.shape[:2], bool), colours)


def models_fix(configured: str) -> str:
    """The fix for a model error: the configured ``[vision] models_dir`` when one is set (the likely
    culprit), else reinstalling the shipped files."""
    return f"check [vision] models_dir ({configured})" if configured else "reinstall the model files"
