"""The measurements behind ``smart-mirror bench``: latency per stage, load time, memory, reload ratio.

Why measured here and not in unit tests: timings depend on the machine and on what else
runs, so the targets (photo → record ≤ 120 ms at one thread, ≥ 20× faster than reloading
the models per image, ``analyze`` peak RSS ≤ 250 MB, models load ≤ 2 s) are figures in a
report that says what it measured and where, not assertions that flake.

"Photo → record stored" starts from the captured frame in memory (what the mirror holds
after the shutter) and ends when ``ClosetStore.add`` has committed the record, its images
fsynced, through the real store in a temporary folder. The reload design is the same
pipeline loading its models again for every image, as the old server did.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2

import mirror
from mirror.benchstats import summary
from mirror.camera.demo_scene import GARMENTS, Timeline, pose_at, render
from mirror.config import Settings
from mirror.imagetypes import Image
from mirror.inference import BACKENDS
from mirror.pipeline.analyzer import Analyzer
from mirror.pipeline.drafts import to_draft
from mirror.pipeline.models import Models, ModelsError, load_models, models_dir, resolve_threads
from mirror.store import ClosetStore

#: Runs argv[1:] as a child and prints "<exit code> <child's peak RSS in kB>" (Linux units).
_MEASURE_CHILD = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
    "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)

#: Images timed with a fresh process each (each costs a second or two).
PROCESS_IMAGES = 3

TARGETS = {
    "photo_to_record_median_ms_1_thread": 120.0,
    "photo_to_record_cpu_median_ms_1_thread": 120.0,
    "speedup_vs_reload": 20.0,
    "speedup_vs_process_per_image": 20.0,
    "analyze_peak_rss_mb": 250.0,
    "model_load_ms": 2000.0,
}


def stats(values: Sequence[float]) -> dict[str, float]:
    """Median and 90th percentile, rounded to 0.01 ms (``n`` says how many samples).

    Worked out by ``mirror.benchstats``, as the UI and sync benches do, so the reports compare."""
    figures = summary(values, (50, 90))
    return {"median": round(figures.at[50], 2), "p90": round(figures.at[90], 2), "n": figures.n}


def demo_frames(width: int, height: int, count: int = 3) -> list[Image]:
    """``count`` synthetic stills, each a different garment held still, at full resolution."""
    timeline = Timeline()
    held = timeline.empty_s + timeline.raise_s + 1.0
    return [
        render(pose_at(k * timeline.cycle_s + held, timeline), width, height, seed=k)
        for k in range(min(count, len(GARMENTS)))
    ]


def machine() -> dict[str, Any]:
    """What the figures were measured on, and how busy it was (load average) when measuring."""
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": [round(v, 2) for v in os.getloadavg()],
    }


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports kB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


class Bench:
    """One bench run over ``images`` with ``settings``; ``run`` returns the JSON-ready report."""

    def __init__(self, images: Sequence[Image], settings: Settings, *, repeat: int = 3, config: str | None = None):
        self.images = list(images)
        self.settings = settings
        self.repeat = max(1, repeat)
        self.config = config
        self.folder = models_dir(settings.vision.models_dir)
        self.default_threads = resolve_threads(settings.vision.threads)

    def _load(self, backend: str, threads: int) -> Models:
        v = self.settings.vision
        return load_models(self.folder, backend, threads, v.min_garment_area)

    def _measure(self, models: Models, store: ClosetStore) -> dict[str, Any]:
        """Per-stage and end-to-end figures for one backend at one thread count."""
        analyzer = Analyzer(models, unsure_below=self.settings.vision.unsure_below)
        analyzer.analyze(self.images[0])  # warm-up: first-run allocations are not the steady state
        stages: dict[str, list[float]] = {}
        stages_cpu: dict[str, list[float]] = {}
        analysis: list[float] = []
        stored: list[float] = []
        to_record: list[float] = []
        to_record_cpu: list[float] = []
        garments = 0
        for _ in range(self.repeat):
            for image in self.images:
                c0 = time.process_time()
                t0 = time.perf_counter()
                result = analyzer.analyze(image, encode=True)
                t1 = time.perf_counter()
                if result.garments:
                    store.add(to_draft(result))
                t2 = time.perf_counter()
                to_record_cpu.append((time.process_time() - c0) * 1000)
                garments += len(result.garments)
                for name, ms in result.timings_ms.items():
                    stages.setdefault(name, []).append(ms)
                for name, ms in result.timings_cpu_ms.items():
                    stages_cpu.setdefault(name, []).append(ms)
                analysis.append((t1 - t0) * 1000)
                stored.append((t2 - t1) * 1000)
                to_record.append((t2 - t0) * 1000)
        return {
            "stages_ms": {name: stats(v) for name, v in stages.items()},
            "stages_cpu_ms": {name: stats(v) for name, v in stages_cpu.items()},
            "analysis_ms": stats(analysis),
            "store_add_ms": stats(stored),
            "photo_to_record_ms": stats(to_record),
            "photo_to_record_cpu_ms": stats(to_record_cpu),
            "garments_per_image": round(garments / (self.repeat * len(self.images)), 2),
        }

    def backend(self, backend: str, store: ClosetStore) -> dict[str, Any]:
        """Load time and figures at one thread and at the default thread count."""
        out: dict[str, Any] = {"load_ms": {}, "threads": {}}
        for threads in sorted({1, self.default_threads}):
            t0 = time.perf_counter()
            try:
                models = self._load(backend, threads)
            except ModelsError as exc:
                return {"error": str(exc)}
            out["load_ms"][str(threads)] = round((time.perf_counter() - t0) * 1000, 1)
            out["threads"][str(threads)] = self._measure(models, store)
            out["model_versions"] = models.versions
        return out

    def reload_per_image(self, backend: str, store: ClosetStore, warm_median: float) -> dict[str, Any]:
        """The old design: load the models, analyse one image, store it, drop the models; per image."""
        times = []
        for image in self.images:
            t0 = time.perf_counter()
            analyzer = Analyzer(self._load(backend, 1), unsure_below=self.settings.vision.unsure_below)
            result = analyzer.analyze(image, encode=True)
            if result.garments:
                store.add(to_draft(result))
            times.append((time.perf_counter() - t0) * 1000)
            del analyzer
        ms = stats(times)
        return {
            "backend": backend,
            "threads": 1,
            "photo_to_record_ms": ms,
            "warm_photo_to_record_median_ms": warm_median,
            "speedup": round(ms["median"] / warm_median, 1) if warm_median > 0 else None,
        }

    def process_per_image(self, backend: str, warm_analysis_median: float) -> dict[str, Any]:
        """A fresh ``smart-mirror analyze`` process per image: interpreter, imports, models, one analysis.

        What a server that starts a worker per request pays. Compared with the warm
        analysis (no store: ``analyze`` does not store).
        """
        times = []
        with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
            for k, image in enumerate(self.images[:PROCESS_IMAGES]):
                path = Path(tmp) / f"one-{k}.jpg"
                cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
                command = [sys.executable, "-m", "mirror", *(["--config", self.config] if self.config else [])]
                command += ["analyze", "--backend", backend, "--threads", "1", str(path)]
                t0 = time.perf_counter()
                subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
                times.append((time.perf_counter() - t0) * 1000)
        ms = stats(times)
        return {
            "backend": backend,
            "threads": 1,
            "ms": ms,
            "warm_analysis_median_ms": warm_analysis_median,
            "speedup": round(ms["median"] / warm_analysis_median, 1) if warm_analysis_median > 0 else None,
        }

    def analyze_rss(self, backend: str) -> dict[str, Any]:
        """Peak RSS of a real ``smart-mirror analyze`` process over the bench images (one thread).

        The process is started by a tiny intermediate Python: a child forked straight from
        this (large) bench process would be charged this process's pages until its exec,
        and report the bench's peak instead of its own.
        """
        with tempfile.TemporaryDirectory(prefix="mirror-bench-") as tmp:
            paths = []
            for k, image in enumerate(self.images):
                path = Path(tmp) / f"bench-{k}.jpg"
                cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92])
                paths.append(str(path))
            command = [sys.executable, "-m", "mirror"]
            if self.config:
                command += ["--config", self.config]
            command += ["analyze", "--backend", backend, "--threads", "1", *paths]
            result = subprocess.run(
                [sys.executable, "-c", _MEASURE_CHILD, *command], capture_output=True, text=True, check=False
            )
        lines = result.stdout.strip().splitlines()
        code, peak_kb = (int(v) for v in lines[-1].split()) if lines else (-1, 0)
        report: dict[str, Any] = {
            "backend": backend,
            "images": len(paths),
            "exit_code": code,
            "peak_rss_mb": round(peak_kb / 1024.0, 1),
        }
        if code != 0 and result.stderr.strip():  # 1 is also "the models could not be loaded"
            report["stderr"] = result.stderr.strip().splitlines()[-1]
        return report

    def run(self, backends: Sequence[str] = BACKENDS, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
        say = progress or (lambda _msg: None)
        report: dict[str, Any] = {
            "version": mirror.__version__,
            "machine": machine(),
            "images": {"count": len(self.images), "sizes": [[int(i.shape[1]), int(i.shape[0])] for i in self.images]},
            "repeat": self.repeat,
            "default_threads": self.default_threads,
            "backends": {},
        }
        with tempfile.TemporaryDirectory(prefix="mirror-bench-store-") as tmp:
            store = ClosetStore.open(Path(tmp), "bench", min_free_mb=0)
            try:
                for backend in backends:
                    say(f"bench: {backend}")
                    report["backends"][backend] = self.backend(backend, store)
                main = self.settings.vision.backend
                figures = report["backends"].get(main, {})
                if "threads" in figures:
                    say("bench: reloading models per image")
                    warm = figures["threads"]["1"]["photo_to_record_ms"]["median"]
                    report["reload_per_image"] = self.reload_per_image(main, store, warm)
                    say("bench: a fresh process per image")
                    warm_analysis = figures["threads"]["1"]["analysis_ms"]["median"]
                    report["process_per_image"] = self.process_per_image(main, warm_analysis)
            finally:
                store.close()
        say("bench: analyze peak memory")
        report["analyze"] = self.analyze_rss(self.settings.vision.backend)
        report["peak_rss_mb"] = peak_rss_mb()
        report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        report["targets"] = targets(report, self.settings.vision.backend)
        return report


def targets(report: dict[str, Any], backend: str) -> dict[str, Any]:
    """Each target with what was measured and whether it was met (None: not measured)."""
    main = report["backends"].get(backend, {})
    one = main.get("threads", {}).get("1", {})
    analyze = report.get("analyze", {})
    measured = {
        "photo_to_record_median_ms_1_thread": one.get("photo_to_record_ms", {}).get("median"),
        "photo_to_record_cpu_median_ms_1_thread": one.get("photo_to_record_cpu_ms", {}).get("median"),
        "speedup_vs_reload": report.get("reload_per_image", {}).get("speedup"),
        "speedup_vs_process_per_image": report.get("process_per_image", {}).get("speedup"),
        # A failed run's peak is no measure: one that could not load its models stays small.
        "analyze_peak_rss_mb": analyze.get("peak_rss_mb") if analyze.get("exit_code") == 0 else None,
        "model_load_ms": max(main["load_ms"].values()) if main.get("load_ms") else None,
    }
    lower_is_better = {
        "photo_to_record_median_ms_1_thread",
        "photo_to_record_cpu_median_ms_1_thread",
        "analyze_peak_rss_mb",
        "model_load_ms",
    }
    out: dict[str, Any] = {}
    for name, target in TARGETS.items():
        value = measured[name]
        met = None if value is None else (value <= target if name in lower_is_better else value >= target)
        out[name] = {"target": target, "measured": value, "met": met, "backend": backend}
    return out
