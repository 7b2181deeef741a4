"""Colour naming against its references: the XKCD survey's majority (people) and our by-eye labels.

Both need ``../shared`` (the survey; the photos) and skip with the reason when it is absent.
The by-eye labels come from two labellers, both AI sessions viewing the photos, not people
(``tests/data/README.md``): labeller 1's file is the measure; labeller 2's independent file and
the photos both name alike (the consensus set) say how much of the measure is the labels' own
disagreement.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from mirror.manifest import default_models_dir
from mirror.vision.colour import ColourResult, describe_colour
from mirror.vision.colour_model import ColourTable
from mirror.vision.colourspace import lab_to_srgb
from mirror.vocab import BASIC_TERMS
from tests.conftest import ROOT, SHARED

LABELS = ROOT / "tests" / "data" / "colour_labels.csv"
TRAIN_LABELS = ROOT / "tests" / "data" / "colour_labels_train.csv"
SECOND_LABELS = ROOT / "tests" / "data" / "colour_labels_second.csv"
BOUNDARY_LABELS = ROOT / "tests" / "data" / "colour_labels_train_boundary.csv"
MORE_LABELS = ROOT / "tests" / "data" / "colour_labels_train_more.csv"
#: Measured by-eye accuracy end to end on the mirror's path (0.803 = 151/188 with segmenter 1.2.0 and
#: colour 1.3.0; 1.2.0: 148/188; 1.1.0 with segmenter 1.1.0: 147/188) is in models/README.md; this floor
#: (147 of 188) guards against regressions (five more misses fail it) and stays below the 0.90 target.
BY_EYE_FLOOR = 0.78
#: Measured on the consensus set (181 photos both labellers name alike): 0.801 = 145/181 with segmenter 1.2.0
#: (tflite; onnx 0.796) and colour 1.3.0 (1.2.0 and 1.1.0: 142), models/README.md. This floor needs 141:
#: five more misses fail it.
CONSENSUS_FLOOR = 0.775
#: The doubt flag (``DOUBT_BELOW``, chosen on the training labels): measured on labeller 1's 188, 53 photos
#: (0.28) in doubt; the 135 answers not in doubt right on 0.867 (117), the doubtful ones' two offered terms
#: holding the label on 0.906 (48 of 53). Floors a few photos below each, and the flag must carry information:
#: the answers it leaves alone must beat the overall accuracy.
CLEAR_FLOOR = 0.84
OFFERED_FLOOR = 0.85
DOUBT_SHARE_MAX = 0.35
#: Labeller 2 looked at the first 300 photos of ``colour_sheets``' shuffled validation order (seed 4), in that order.
SECOND_LABELLED = 300


@pytest.fixture(scope="module")
def table() -> ColourTable:
    return ColourTable.load(default_models_dir() / "colour")


@pytest.mark.shared
def test_xkcd_majority_agreement(table: ColourTable) -> None:
    colors = SHARED / "data" / "colors"
    if not colors.is_dir():
        pytest.skip(f"{colors} absent: the XKCD survey lives in ../shared")
    from models.training.colour_build import basic_matrix, load_survey

    lab, counts, terms = load_survey(colors)
    majority = (counts @ basic_matrix(terms)).argmax(1)
    basic_idx, _ = table.lookup(lab_to_srgb(lab))
    agreement = float(np.mean(basic_idx == majority))
    assert agreement >= 0.85, f"agreement with the survey majority {agreement:.3f}"
    # Every basic term is the majority somewhere and the table uses all eleven.
    assert set(np.unique(basic_idx)) == set(range(len(BASIC_TERMS)))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_by_eye_labels_file() -> None:
    rows = _rows(LABELS)
    assert len(rows) >= 150
    assert {r["basic"] for r in rows} <= set(BASIC_TERMS)
    assert len({r["image"] for r in rows}) == len(rows)


def test_training_labels_file() -> None:
    rows = _rows(TRAIN_LABELS)
    assert len(rows) >= 400
    assert {r["basic"] for r in rows} <= set(BASIC_TERMS)
    assert len({r["image"] for r in rows}) == len(rows)
    assert not {r["image"] for r in rows} & {r["image"] for r in _rows(LABELS)}


@pytest.mark.shared
@pytest.mark.parametrize(
    ("path", "splits"),
    [(TRAIN_LABELS, {"train"}), (BOUNDARY_LABELS, {"train"}), (MORE_LABELS, {"train", ""})],
    ids=["train", "boundary", "more"],
)
def test_training_labels_share_no_sender_with_validation(path: Path, splits: set[str]) -> None:
    """The learned stage is fitted on other people's photos than the ones it is measured on."""
    images = SHARED / "data" / "clothing" / "images.csv"
    if not images.is_file():
        pytest.skip(f"{images} absent: senders and splits live in ../shared")
    info = {r["image"]: r for r in _rows(images)}
    train, validation = _rows(path), _rows(LABELS)
    assert {info[r["image"]]["small_split"] for r in train} == splits
    assert {info[r["image"]]["small_split"] for r in validation} == {"validation"}
    assert not {info[r["image"]]["sender_id"] for r in train} & {info[r["image"]]["sender_id"] for r in validation}


@pytest.mark.parametrize(
    ("path", "earlier"),
    [(BOUNDARY_LABELS, [TRAIN_LABELS]), (MORE_LABELS, [TRAIN_LABELS, BOUNDARY_LABELS])],
    ids=["boundary", "more"],
)
def test_later_training_labels_file(path: Path, earlier: list[Path]) -> None:
    """A later training file lists every photo looked at (term or ``skip``, 0/1 ``doubt``), none labelled before."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["image", "basic", "doubt"]
        rows = list(reader)
    assert len({r["image"] for r in rows}) == len(rows) >= 100
    assert {r["basic"] for r in rows} <= set(BASIC_TERMS) | {"skip"}
    assert {r["doubt"] for r in rows} <= {"0", "1"}
    images = {r["image"] for r in rows}
    for other in [*earlier, LABELS, SECOND_LABELS]:
        assert not images & {r["image"] for r in _rows(other)}, other.name


@pytest.mark.shared
def test_more_training_labels_are_the_documented_photos() -> None:
    """``colour_labels_train_more.csv`` is, in order, the 343 photos skipped in the first training file's 750
    (``--images``) and then the first 880 unsplit photos of ``colour_sheets``' order (``--split unsplit``)."""
    clothing = SHARED / "data" / "clothing"
    if not clothing.is_dir():
        pytest.skip(f"{clothing} absent: the photo list lives in ../shared")
    from models.training.colour_sheets import candidate_images, read_images_csv, senders_of

    rows = read_images_csv(clothing)
    exclude = frozenset(senders_of(rows, LABELS))
    first = {r["image"] for r in _rows(TRAIN_LABELS)}
    skipped = [i for i in candidate_images(rows, "train", 4, exclude_senders=exclude)[:750] if i not in first]
    unsplit = candidate_images(rows, "unsplit", 4, exclude_senders=exclude)[:880]
    assert [r["image"] for r in _rows(MORE_LABELS)] == skipped + unsplit


def test_second_labels_file() -> None:
    """Labeller 2 answered every photo looked at: a basic term or ``skip``, and a 0/1 ``doubt`` flag."""
    with SECOND_LABELS.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["image", "basic", "doubt"]
        rows = list(reader)
    assert len(rows) == SECOND_LABELLED
    assert len({r["image"] for r in rows}) == len(rows)
    assert {r["basic"] for r in rows} <= set(BASIC_TERMS) | {"skip"}
    assert {r["doubt"] for r in rows} <= {"0", "1"}
    assert sum(r["basic"] != "skip" for r in rows) >= 150
    # Labeller 1 labelled a subset of the same 300 photos, so agreement is measured on photos both saw.
    assert {r["image"] for r in _rows(LABELS)} <= {r["image"] for r in rows}


@pytest.mark.shared
def test_second_labels_are_validation_photos() -> None:
    """Labeller 2's photos are validation photos, like labeller 1's (the training labels share no sender)."""
    images = SHARED / "data" / "clothing" / "images.csv"
    if not images.is_file():
        pytest.skip(f"{images} absent: splits live in ../shared")
    split = {r["image"]: r["small_split"] for r in _rows(images)}
    assert {split[r["image"]] for r in _rows(SECOND_LABELS)} == {"validation"}


def _consensus() -> list[tuple[str, str]]:
    """Labeller 1's rows whose photo labeller 2 names with the same term (``skip`` never matches a term)."""
    second = {r["image"]: r["basic"] for r in _rows(SECOND_LABELS)}
    return [(r["image"], r["basic"]) for r in _rows(LABELS) if second.get(r["image"]) == r["basic"]]


@pytest.fixture(scope="module")
def by_eye_results(table: ColourTable) -> dict[str, tuple[str, ColourResult]]:
    """Labeller 1's photos -> shipped segmenter -> the analyzer's colour region -> colour, with each label.

    One pass serves every end-to-end measure below (the consensus photos are a subset).
    """
    clothing = SHARED / "data" / "clothing"
    if not clothing.is_dir():
        pytest.skip(f"{clothing} absent: the labelled photos live in ../shared")
    segmenter = default_models_dir() / "segmenter" / "model.json"
    assert segmenter.is_file(), f"{segmenter} is missing: the segmenter is shipped; the end-to-end measure needs it"
    from models.training.colour_data import RegionSource

    regions = RegionSource("mirror", default_models_dir())
    results = {}
    for row in _rows(LABELS):
        name = row["image"]
        image = np.asarray(cv2.imread(str(clothing / "images" / f"{name}.jpg"), cv2.IMREAD_COLOR), np.uint8)
        results[name] = (row["basic"], describe_colour(*regions.region(image, name), table))
    return results


def _accuracy(results: dict[str, tuple[str, ColourResult]], names: list[str]) -> float:
    return float(np.mean([results[n][1].basic == results[n][0] for n in names]))


@pytest.mark.shared
@pytest.mark.slow
def test_by_eye_accuracy_end_to_end(by_eye_results: dict[str, tuple[str, ColourResult]]) -> None:
    """The by-eye measure: labeller 1's labels."""
    assert _accuracy(by_eye_results, list(by_eye_results)) >= BY_EYE_FLOOR


@pytest.mark.shared
@pytest.mark.slow
def test_consensus_accuracy_end_to_end(by_eye_results: dict[str, tuple[str, ColourResult]]) -> None:
    """The same on the photos both labellers name with the same term (labels nobody disputes)."""
    names = [name for name, _ in _consensus()]
    assert len(names) >= 150
    accuracy = _accuracy(by_eye_results, names)
    assert accuracy >= CONSENSUS_FLOOR, f"consensus accuracy {accuracy:.3f} on {len(names)} photos"


@pytest.mark.shared
@pytest.mark.slow
def test_doubt_flag_marks_the_answers_to_ask_about(by_eye_results: dict[str, tuple[str, ColourResult]]) -> None:
    """Where the mirror is sure it is right more often; where it doubts, the label is one of the two it offers."""
    clear = [n for n, (_, r) in by_eye_results.items() if r.alternative is None]
    doubtful = [n for n, (_, r) in by_eye_results.items() if r.alternative is not None]
    assert len(doubtful) / len(by_eye_results) <= DOUBT_SHARE_MAX, f"{len(doubtful)} of {len(by_eye_results)} in doubt"
    clear_accuracy = _accuracy(by_eye_results, clear)
    assert clear_accuracy >= CLEAR_FLOOR and clear_accuracy > _accuracy(by_eye_results, list(by_eye_results))
    offered = np.mean(
        [by_eye_results[n][0] in (by_eye_results[n][1].basic, by_eye_results[n][1].alternative) for n in doubtful]
    )
    assert offered >= OFFERED_FLOOR, f"the label among the two offered on {offered:.3f} of {len(doubtful)} photos"
    assert all(by_eye_results[n][1].alternative != by_eye_results[n][1].basic for n in doubtful)


def test_doubtful_lists_the_flagged_photos(tmp_path: Path) -> None:
    """``colour_fit --clear-only`` leaves out the rows flagged ``doubt = 1``; files without the column flag none."""
    from models.training.colour_data import doubtful

    flagged = tmp_path / "flagged.csv"
    flagged.write_text("image,basic,doubt\na,blue,1\nb,black,0\nc,skip,1\n", encoding="utf-8")
    assert doubtful(flagged) == {"a", "c"}
    assert doubtful(LABELS) == frozenset()
