"""The design card's boundaries, checked: the core never loads Qt, sync never loads vision."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import importlib, pkgutil, sys
import {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    if info.name.endswith("__main__"):
        continue
    importlib.import_module(info.name)
print(",".join(sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r})))
"""


def loaded_by(package: str, forbidden: set[str]) -> str:
    code = PROBE.format(package=package, forbidden=forbidden)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return result.stdout.strip()


def test_core_never_imports_qt() -> None:
    assert loaded_by("mirror", {"PySide6", "shiboken6", "ui"}) == ""


def test_sync_knows_records_not_vision() -> None:
    assert loaded_by("sync", {"PySide6", "ui", "cv2"}) == ""
    assert "mirror.vision" not in loaded_by("sync", {"mirror"})


def modules_after(statement: str) -> set[str]:
    """Top-level packages loaded by ``statement`` in a fresh interpreter."""
    code = f"{statement}\nimport sys\nprint(','.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(result.stdout.strip().split(","))


def test_the_vocabulary_loads_no_vision() -> None:
    """The words for categories and colours cost no OpenCV (the UI's pickers, ``smart-mirror --help``)."""
    assert not {"cv2", "numpy"} & modules_after("import mirror.vocab")
    assert "cv2" not in modules_after("import ui.vocab")


FIRST_IMPORT_PROBE = """
import importlib, pkgutil, sys
names = []
for package in ("mirror", "sync"):
    root = importlib.import_module(package)
    names += [i.name for i in pkgutil.walk_packages(root.__path__, package + ".") if not i.name.endswith("__main__")]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m.split(".")[0] in ("mirror", "sync")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed.append(f"{name}: {exc}")
print("\\n".join(failed))
"""


def test_every_module_imports_first() -> None:
    """Each core and sync module imports in a process that has loaded none of the project yet.

    An import cycle hides while every entry point happens to import the packages in a working
    order (``import mirror.device`` before ``mirror.store`` failed: device reads the closet
    through the store package, whose factory imported device back)."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_IMPORT_PROBE], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "", result.stdout


def test_every_entry_point_limits_opencvs_decoder_before_it_loads() -> None:
    """OpenCV reads OPENCV_IO_MAX_IMAGE_PIXELS once, when it is imported: the CLI and the UI must
    set it (through the mirror package) before anything imports cv2."""
    from mirror import MAX_IMAGE_PIXELS

    for entry in ("mirror.cli.main", "ui.app"):  # smart-mirror and python -m mirror; the mirror UI
        code = f"import {entry}, os, sys; print(os.environ.get('OPENCV_IO_MAX_IMAGE_PIXELS'))"
        env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env)
        assert result.stdout.strip() == str(MAX_IMAGE_PIXELS), (entry, result.stderr[-400:])
