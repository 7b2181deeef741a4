"""File names that are not UTF-8, as ``smart-mirror analyze`` prints them (docs/analyze.md, "image").

Linux file names are bytes. One that is not valid UTF-8 (a Latin-1 ``café.jpg`` copied from an old
camera card) reaches Python with lone surrogates for the bytes it could not decode: ``shirt\\udcff.jpg``.
Printed as they are, those showed as ``\\udcff`` on stderr and as a ``\\udcff`` escape in the JSON line,
which is not text: UTF-8 cannot encode it and strict JSON readers refuse or mangle it. Each name is
written with ``\\xNN`` for such bytes instead, the same on stdout and stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mirror.cli import exitcodes
from mirror.names import readable
from tests.conftest import ROOT

SCRIPT = "import sys; from mirror.cli.main import main; sys.exit(main(sys.argv[1:]))"


def analyze(*args: bytes, command: bytes = b"analyze") -> subprocess.CompletedProcess[bytes]:
    """A real ``smart-mirror analyze`` (or ``command``) with these argv bytes, in a UTF-8 locale (as on a mirror)."""
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, command, *args], cwd=ROOT, capture_output=True, env=env, timeout=300
    )


def test_a_name_that_is_not_utf8_is_one_readable_well_formed_json_string(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    bad = folder + b"/shirt\xff.jpg"
    with open(bad, "wb") as handle:  # exists, and is no image: an error line, the name in it
        handle.write(b"not a photo")
    missing = folder + b"/caf\xe9.jpg"
    run = analyze(bad, missing)
    assert run.returncode == exitcodes.FAILED, run.stderr
    lines = run.stdout.decode("utf-8").splitlines()  # strict: the whole output is UTF-8
    objs = [json.loads(line) for line in lines]
    assert [o["image"] for o in objs] == [f"{tmp_path}/shirt\\xff.jpg", f"{tmp_path}/caf\\xe9.jpg"]
    assert objs[1]["error"] == "no such file"
    for line, obj in zip(lines, objs, strict=True):
        assert "\\ud" not in line, "no escaped lone surrogate in the JSON"
        json.dumps(obj, ensure_ascii=False).encode("utf-8")  # would raise on a lone surrogate
        assert json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")) == line  # non-ASCII kept readable


def test_a_name_that_is_not_utf8_reads_with_backslash_escapes_on_stderr(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out_dir = os.fsencode(blocker) + b"/cut\xffouts"
    run = analyze(b"x.jpg", b"--save-cutouts", out_dir)  # refused before the models load
    assert run.returncode == exitcodes.USAGE
    err = run.stderr.decode("utf-8")
    assert err == (
        f"smart-mirror analyze: cannot create {blocker}/cut\\xffouts (Not a directory); "
        "pick another --save-cutouts DIR\n"
    )


def test_readable_escapes_only_what_is_not_text() -> None:
    assert readable("café.jpg") == "café.jpg"
    assert readable(os.fsdecode(b"caf\xe9 \xff.jpg")) == "caf\\xe9 \\xff.jpg"
    assert readable("a\ud800b") == "a\\ud800b"  # a lone surrogate no file system byte makes
    assert readable(r"C:\x.jpg") == r"C:\x.jpg"


def test_bench_names_an_unreadable_image_the_same_way(tmp_path: Path) -> None:
    bad = os.fsencode(tmp_path) + b"/shirt\xff.jpg"
    with open(bad, "wb") as handle:
        handle.write(b"not a photo")
    run = analyze(bad, command=b"bench")
    assert run.returncode == exitcodes.USAGE
    err = run.stderr.decode("utf-8")  # strict: no lone surrogate made it out
    assert err.startswith(f"smart-mirror bench: {tmp_path}/shirt\\xff.jpg: ") and err.count("\n") == 1, err
