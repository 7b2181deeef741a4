"""Loading every model the pipeline needs, once, with its load time.

Why once: the old server reloaded its models for every request and spent most of its 15 s
doing so. The mirror loads them when it starts (and ``analyze`` when it starts), keeps them
in memory and reuses them for every frame; ``bench`` measures both designs side by side.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from mirror.inference import InferenceError
from mirror.manifest import ManifestError
from mirror.manifest import models_dir as models_dir  # re-exported: callers load models from the folder it names
from mirror.pipeline.finder import GarmentFinder
from mirror.vision.classifier import Classifier
from mirror.vision.colour import ColourTable

#: Threads of the live preview's own segmenter (``load_models(preview=True)``). One, so each look runs
#: wholly on the detector thread, whose priority is lowered: a runtime's pool threads are made when
#: the model loads, at normal priority, and with one per core they would wake every core of a Pi five
#: times a second while someone stands in front, competing with the preview and the GUI.
PREVIEW_THREADS = 1


class ModelsError(RuntimeError):
    """A model is missing or broken; the message is one line naming it and the fix."""


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
    try:
        finder = GarmentFinder.load(folder / "segmenter", backend, threads, min_area)
        classifier = Classifier.load(folder / "classifier", backend, threads)
        colours = ColourTable.load(folder / "colour")
        watcher = GarmentFinder.load(folder / "segmenter", backend, PREVIEW_THREADS, min_area) if preview else None
    except (ManifestError, InferenceError) as exc:
        raise ModelsError(str(exc)) from exc
    load_ms = (time.perf_counter() - t0) * 1000.0
    return Models(finder, classifier, colours, backend, threads, load_ms, preview_finder=watcher)
