"""A damaged model install is one line naming the file and the fix, in every command that meets it.

Each test copies the shipped models into ``tmp_path`` and damages the copy (never ``models/``):
a malformed ``meta`` in ``model.json``, another model's file in a model's place with its checksum
updated (a careless retrain or copy), or a garbage file whose checksum matches. ``analyze``,
``bench`` and the mirror load through ``load_models``; ``doctor`` must fail on exactly these too.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mirror.cli import exitcodes, main
from mirror.config import Settings
from mirror.doctor.checks import check_models
from mirror.doctor.report import Finding, Outcome
from mirror.inference import InferenceError, load_model
from mirror.manifest import ManifestError, ModelManifest, default_models_dir, sha256_of
from mirror.pipeline.models import MODEL_NAMES, ModelsError, load_models

#: (model, meta key, damaged value): what a hand edit or a half-written file leaves behind.
BAD_META: list[tuple[str, str, Any]] = [
    ("classifier", "labels", 5),
    ("classifier", "input_size", "abc"),
    ("classifier", "input_size", None),
    ("classifier", "unsure_below", None),
    ("classifier", "unsure_below", "high"),
    ("colour", "surface", "abc"),
    ("colour", "surface", {"blackness": 1.0}),
    ("colour", "surface", None),
    ("segmenter", "layout", None),
    ("segmenter", "layout", {"onnx": "nchw"}),  # none for tflite, the backend loaded
    ("segmenter", "input_size", [192]),
    ("segmenter", "mean", None),
    ("segmenter", "classes", 3),
    ("segmenter", "garment_classes", None),
]


def copy_models(tmp_path: Path) -> Path:
    """The shipped model folders, copied: the damage goes to the copy."""
    models = tmp_path / "models"
    for name in MODEL_NAMES:
        shutil.copytree(default_models_dir() / name, models / name)
    return models


def edit_manifest(folder: Path, change: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
    """Rewrite ``folder/model.json`` with ``change`` at the top level and ``meta`` inside its meta."""
    path = folder / "model.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(change)
    data["meta"].update(meta or {})
    path.write_text(json.dumps(data), encoding="utf-8")


def replace_file(folder: Path, filename: str, source: Path) -> None:
    """Put ``source`` in place of ``folder/filename`` and update the manifest's checksum, as a
    careless retrain would: ``verify`` then passes, only loading it can tell."""
    shutil.copyfile(source, folder / filename)
    sha = json.loads((folder / "model.json").read_text(encoding="utf-8"))["sha256"]
    edit_manifest(folder, {"sha256": {**sha, filename: sha256_of(folder / filename)}})


def settings_for(models: Path, backend: str = "tflite") -> Settings:
    base = Settings()
    return dataclasses.replace(base, vision=dataclasses.replace(base.vision, models_dir=str(models), backend=backend))


def findings(models: Path, backend: str = "tflite") -> dict[str, Finding]:
    return {f.check.removeprefix("model "): f for f in check_models(settings_for(models, backend))}


def write_config(tmp_path: Path, models: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[vision]\nmodels_dir = "{models}"\n[camera]\ncapture_width = 320\ncapture_height = 240\n')
    return config


@pytest.mark.parametrize(("model", "key", "value"), BAD_META)
def test_a_malformed_meta_is_a_models_error_naming_the_file_and_key(
    tmp_path: Path, model: str, key: str, value: Any
) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / model, {}, {key: value})
    with pytest.raises(ModelsError) as caught:
        load_models(models, "tflite", 1)
    message = str(caught.value)
    assert message.startswith(f"{models / model / 'model.json'}: malformed meta {key!r} (")
    assert message.endswith("reinstall the model files") and "\n" not in message
    assert caught.value.model == model


@pytest.mark.parametrize("meta", [None, 5, ["labels"]])
def test_a_meta_that_is_not_an_object_names_the_file(tmp_path: Path, meta: Any) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / "classifier", {}, {})
    path = models / "classifier" / "model.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "meta": meta}), encoding="utf-8")
    with pytest.raises(ModelsError, match=r"model\.json: malformed \('meta' is (null|a number|a list), not an obj"):
        load_models(models, "onnx", 1)


@pytest.mark.parametrize("backend", ["tflite", "onnx"])
def test_a_size_that_disagrees_with_the_file_names_both(tmp_path: Path, backend: str) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / "classifier", {}, {"input_size": 256})
    with pytest.raises(ModelsError) as caught:
        load_models(models, backend, 1)
    assert str(caught.value) == (
        f"classifier.{backend} expects 160 px, {models / 'classifier' / 'model.json'} says 256: "
        "reinstall the model files"
    )


def test_another_models_file_in_its_place_is_refused_at_load(tmp_path: Path) -> None:
    """The segmenter's file as the classifier's, checksum updated: it loaded, then every image failed
    with the runtime's "Dimension mismatch" and no model named."""
    models = copy_models(tmp_path)
    replace_file(models / "classifier", "classifier.tflite", models / "segmenter" / "segmenter.tflite")
    assert ModelManifest.load(models / "classifier").verify() == []
    with pytest.raises(ModelsError, match=r"^classifier\.tflite expects 192×256 px, .*classifier/model\.json says 160"):
        load_models(models, "tflite", 1)


def test_analyze_says_one_line_and_points_at_the_models_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / "classifier", {}, {"labels": 5})
    code = main(["--config", str(write_config(tmp_path, models)), "analyze", str(tmp_path / "x.jpg")])
    out, err = capsys.readouterr()
    assert code == exitcodes.FAILED and out == ""
    assert err == (
        f"smart-mirror analyze: {models / 'classifier' / 'model.json'}: malformed meta 'labels' "
        f"('int' object is not iterable); reinstall the model files; or check [vision] models_dir ({models})\n"
    )


def test_analyze_without_the_models_dir_names_the_setting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none"
    code = main(["--config", str(write_config(tmp_path, missing)), "analyze", str(tmp_path / "x.jpg")])
    err = capsys.readouterr().err
    assert code == exitcodes.FAILED and len(err.splitlines()) == 1
    assert err.endswith(f"is not installed: reinstall the model files; or check [vision] models_dir ({missing})\n")


def test_bench_reports_a_malformed_meta_instead_of_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / "colour", {}, {"surface": "abc"})
    config = write_config(tmp_path, models)
    code = main(["--config", str(config), "bench", "--repeat", "1", "--backend", "tflite"])
    captured = capsys.readouterr()
    assert code == exitcodes.FAILED and "Traceback" not in captured.err
    error = json.loads(captured.out)["backends"]["tflite"]["error"]
    assert error.startswith(f"{models / 'colour' / 'model.json'}: malformed meta 'surface'")


def test_doctor_passes_the_shipped_models_with_one_line_each(tmp_path: Path) -> None:
    found = findings(copy_models(tmp_path))
    assert list(found) == list(MODEL_NAMES)
    assert all(f.status is Outcome.OK and " loads (" in f.message for f in found.values()), found


@pytest.mark.parametrize(("model", "key", "value"), [BAD_META[0], BAD_META[5], BAD_META[8]])
def test_doctor_fails_a_malformed_meta_as_analyze_would(tmp_path: Path, model: str, key: str, value: Any) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / model, {}, {key: value})
    found = findings(models)
    bad = found.pop(model)
    assert bad.status is Outcome.FAIL
    assert bad.message.startswith(f"{models / model / 'model.json'}: malformed meta {key!r}")
    assert bad.fix == f"check [vision] models_dir ({models})"
    assert all(f.status is Outcome.OK for f in found.values()), found  # the others still said OK


def test_doctor_fails_another_models_file_whose_checksum_matches(tmp_path: Path) -> None:
    models = copy_models(tmp_path)
    replace_file(models / "classifier", "classifier.onnx", models / "segmenter" / "segmenter.onnx")
    bad = findings(models, "onnx")["classifier"]
    assert bad.status is Outcome.FAIL and bad.message.startswith("classifier.onnx expects 192×256 px")


def test_doctor_fails_a_garbage_colour_table_whose_checksum_matches(tmp_path: Path) -> None:
    models = copy_models(tmp_path)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip")
    replace_file(models / "colour", "colour_table.npz", garbage)
    bad = findings(models)["colour"]
    assert bad.status is Outcome.FAIL and "unreadable colour table" in bad.message


def test_doctor_fails_a_model_that_loads_but_cannot_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the trial run is for: a model whose loading passes and whose every analysis would fail."""
    from mirror.vision.classifier import Classifier

    def broken(self: Classifier, on_black_bgr: object) -> object:
        raise IndexError("index 10 is out of bounds for axis 0 with size 10")

    monkeypatch.setattr(Classifier, "scores", broken)
    models = copy_models(tmp_path)
    bad = findings(models)["classifier"]
    assert bad.status is Outcome.FAIL
    # One fix on the line: the loader's own "reinstall the model files" is not said beside doctor's.
    assert bad.line() == (
        f"FAIL model classifier: {models / 'classifier'}: loads but cannot run "
        f"(index 10 is out of bounds for axis 0 with size 10) — fix: check [vision] models_dir ({models})"
    )


def test_doctor_names_one_fix_for_a_shipped_model_that_loads_but_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line read "…; reinstall the model files — fix: reinstall the project (git pull; pip install -e .)":
    two instructions for one problem. The shipped model files come with the project: reinstalling it is the fix."""
    from mirror.vision.classifier import Classifier

    def broken(self: Classifier, on_black_bgr: object) -> object:
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")

    monkeypatch.setattr(Classifier, "scores", broken)
    [bad] = [f for f in check_models(Settings()) if f.check == "model classifier"]
    line = bad.line()
    assert line == (
        f"FAIL model classifier: {default_models_dir() / 'classifier'}: loads but cannot run (operands could not be "
        "broadcast together with shapes (3,) (4,)) — fix: reinstall the project (git pull; pip install -e .)"
    )
    assert line.count("reinstall") == 1 and "\n" not in line


@pytest.mark.parametrize(("model", "key", "value"), [BAD_META[0], BAD_META[8]])
def test_doctor_names_one_fix_for_a_malformed_meta(tmp_path: Path, model: str, key: str, value: Any) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / model, {}, {key: value})
    line = findings(models)[model].line()
    assert line.startswith(f"FAIL model {model}: {models / model / 'model.json'}: malformed meta {key!r} (")
    assert line.endswith(f") — fix: check [vision] models_dir ({models})") and "reinstall" not in line


def test_doctor_suggests_the_other_runtime_when_this_one_cannot_load_a_good_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mirror.vision.classifier as classifier

    def refuse(path: Path, backend: str, threads: int = 1) -> object:
        raise InferenceError(f"{path}: not a loadable TFLite model (unsupported op)")

    monkeypatch.setattr(classifier, "load_model", refuse)
    bad = findings(copy_models(tmp_path))["classifier"]
    assert bad.status is Outcome.FAIL and bad.fix == 'try [vision] backend = "onnx"'


def test_the_loader_points_a_pi_user_at_the_model_files_not_a_dev_script(tmp_path: Path) -> None:
    with pytest.raises(InferenceError) as caught:
        load_model(tmp_path / "none.tflite", "tflite")
    assert str(caught.value) == f"{tmp_path / 'none.tflite'}: model file missing; reinstall the model files"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"name": "x", "version": "1", "files": 5}', "'files' is a number, not an object"),
        ('{"name": "x", "version": "1", "files": [["a", "b"]]}', "'files' is a list, not an object"),
        ('{"name": "x", "files": {}}', "no key 'version'"),
        ("[1, 2]", "it is a list, not an object"),
    ],
)
def test_a_malformed_manifest_says_what_is_wrong_in_words(tmp_path: Path, body: str, reason: str) -> None:
    (tmp_path / "model.json").write_text(body, encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        ModelManifest.load(tmp_path)
    assert str(caught.value) == f"{tmp_path / 'model.json'}: malformed ({reason}); reinstall the model files"


def test_doctor_prints_one_fail_line_for_the_damaged_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = copy_models(tmp_path)
    edit_manifest(models / "classifier", {}, {"input_size": "abc"})
    config = tmp_path / "config.toml"
    config.write_text(
        f'[store]\ndata_dir = "{tmp_path / "closet"}"\n[camera]\nsource = "demo"\n'
        f'[vision]\nmodels_dir = "{models}"\n[sync]\nenabled = false\n'
    )
    code = main(["--config", str(config), "doctor"])
    lines = capsys.readouterr().out.splitlines()
    assert code == exitcodes.FAILED
    assert f"FAIL model classifier: {models / 'classifier' / 'model.json'}: malformed meta 'input_size' " in "\n".join(
        lines
    )
    assert any(line.startswith("OK   model segmenter: v") for line in lines)
    assert any(line.startswith("OK   model colour: v") for line in lines)
