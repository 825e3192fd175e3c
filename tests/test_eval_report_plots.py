"""Report figures: valid PNGs of the requested pixel size, written atomically."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from avssl.eval.report_plots import plot_loss_curves, plot_recall_at_k, plot_retrieval_grid

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND", f"{path} is truncated"
    return width, height


def only_the_target_remains(folder: Path, name: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == [name]


def test_loss_curves_png_has_the_requested_size(tmp_path):
    history = {
        "nce_v2a": [(s, 9.0 - 0.01 * s) for s in range(0, 500, 10)],
        "nce_a2v": [(s, 9.2 - 0.012 * s) for s in range(0, 500, 10)],
        "cma_within": [(20, 3.0), (10, 3.5)],
    }
    out = tmp_path / "plots" / "loss.png"
    plot_loss_curves(history, out, figsize=(5.0, 3.0), dpi=100)
    assert png_size(out) == (500, 300)
    assert out.stat().st_size > 2000
    only_the_target_remains(out.parent, "loss.png")


def test_recall_at_k_png_with_chance_level_and_curve(tmp_path):
    curves = {
        "AVID video->video": {1: 0.31, 5: 0.52, 10: 0.63, 20: 0.72, 50: 0.84},
        "AVID+CMA audio->video": {1: 0.12, 5: 0.30, 10: 0.41, 20: 0.55, 50: 0.70},
    }
    out = tmp_path / "recall.png"
    plot_recall_at_k(curves, out, chance=0.01)
    assert png_size(out) == (640, 400)
    out2 = tmp_path / "recall_curve.png"
    plot_recall_at_k(curves, out2, chance={1: 0.01, 50: 0.4}, figsize=(4.0, 4.0), dpi=80)
    assert png_size(out2) == (320, 320)
    plot_recall_at_k(curves, tmp_path / "recall_none.png", chance=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recall.png", "recall_curve.png", "recall_none.png"]


def frame(rng, h=40, w=56):
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_retrieval_grid_png_size_and_borders(tmp_path):
    rng = np.random.default_rng(0)
    queries = [frame(rng), frame(rng, 32, 32)]
    neighbours = [[frame(rng) for _ in range(4)], [frame(rng) for _ in range(3)]]
    correct = [[True, False, True, False], [False, False, True]]
    out = tmp_path / "grid.png"
    plot_retrieval_grid(
        queries, neighbours, correct, out, titles=["diving", "golf"], cell_inches=1.5, dpi=100
    )
    assert png_size(out) == (5 * 150, 2 * 150)
    only_the_target_remains(tmp_path, "grid.png")


def test_retrieval_grid_draws_green_and_red_frames(tmp_path):
    matplotlib_image = pytest.importorskip("matplotlib.image")
    grey = np.full((60, 60, 3), 128, dtype=np.uint8)
    out = tmp_path / "grid.png"
    plot_retrieval_grid([grey], [[grey, grey]], [[True, False]], out)
    pixels = (matplotlib_image.imread(out)[..., :3] * 255).round().astype(int)
    green = ((pixels[..., 1] > 150) & (pixels[..., 0] < 60) & (pixels[..., 2] < 60)).sum()
    red = ((pixels[..., 0] > 180) & (pixels[..., 1] < 60) & (pixels[..., 2] < 60)).sum()
    assert green > 100 and red > 100


def test_failed_plot_leaves_no_file_behind(tmp_path):
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"neighbour_images\[0\]\[1\] must be an HxWx3 uint8"):
        plot_retrieval_grid(
            [frame(rng)], [[frame(rng), frame(rng).astype(np.float32)]], [[True, True]], tmp_path / "grid.png"
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("queries", "neighbours", "correct", "message"),
    [
        ([], [], [], "no query images"),
        ([0], [[0], [0]], [[True]], "1 queries but 2 neighbour rows"),
        ([0], [[0, 0]], [[True]], "2 neighbour images but 1 correct flags"),
    ],
)
def test_retrieval_grid_rejects_inconsistent_inputs(tmp_path, queries, neighbours, correct, message):
    rng = np.random.default_rng(2)

    def images(obj):
        return [images(o) for o in obj] if isinstance(obj, list) else frame(rng)

    with pytest.raises(ValueError, match=message):
        plot_retrieval_grid(images(queries), images(neighbours), correct, tmp_path / "grid.png")
    assert list(tmp_path.iterdir()) == []


def test_empty_inputs_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="history is empty"):
        plot_loss_curves({}, tmp_path / "loss.png")
    with pytest.raises(ValueError, match="curves is empty"):
        plot_recall_at_k({}, tmp_path / "recall.png", chance=None)
    assert list(tmp_path.iterdir()) == []
