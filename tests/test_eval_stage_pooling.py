"""StagePooling: a feature map becomes a vector by adaptive pooling to a grid, per stage where the
recipe says so (the official probes pool each stage to its own grid)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avssl.eval.feature_sources import StagePooling


def quadrant_max(x: np.ndarray) -> np.ndarray:
    """(C, 4, 4) -> (C, 2, 2) max over each 2x2 block, written out."""
    return x.reshape(x.shape[0], 2, 2, 2, 2).max(axis=(2, 4))


def test_a_per_stage_grid_overrides_the_default_grid():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).view(2, 3, 4, 4).flip(-1)
    pooling = StagePooling("max", None, {"conv2x": [2, 2]})
    assert pooling.size_for("conv2x") == (2, 2) and pooling.size_for("conv5x") is None
    grid = pooling(x, "video/conv2x", "conv2x")
    assert grid.shape == (2, 3 * 4)
    np.testing.assert_array_equal(grid.numpy(), np.stack([quadrant_max(v.numpy()).reshape(-1) for v in x]))
    np.testing.assert_array_equal(pooling(x, "video/conv5x", "conv5x").numpy(), x.amax(dim=(2, 3)).numpy())


def test_average_pooling_and_the_grid_of_every_other_stage():
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    pooling = StagePooling("avg", [1, 1], {"conv3x": [2, 2]})
    expected = x.view(1, 2, 2, 2, 2, 2).mean(dim=(3, 5)).flatten(1)
    torch.testing.assert_close(pooling(x, "audio/conv3x", "conv3x"), expected)
    torch.testing.assert_close(pooling(x, "audio/conv4x", "conv4x"), x.mean(dim=(2, 3)))


def test_pooling_settings_are_part_of_the_extraction_fingerprint():
    from avssl.eval.features import fingerprint

    a, b = StagePooling("max", None, {"conv2x": [1, 12, 12]}), StagePooling("max", None, {"conv2x": [1, 8, 8]})
    assert fingerprint(pooling=a.__dict__) != fingerprint(pooling=b.__dict__)
    assert fingerprint(pooling=a.__dict__) == fingerprint(pooling=StagePooling("max", None, {"conv2x": (1, 12, 12)}).__dict__)


@pytest.mark.parametrize("per_stage, message", [
    ({"conv2x": [0, 2]}, r"stage pooling size of conv2x=\[0, 2\] must be positive"),
    ({"conv2x": []}, r"stage pooling size of conv2x=\[\] must be positive"),
])
def test_bad_grids_are_refused_with_the_stage_named(per_stage, message):
    with pytest.raises(ValueError, match=message):
        StagePooling("max", None, per_stage)


def test_a_grid_with_the_wrong_number_of_axes_names_the_feature():
    with pytest.raises(ValueError, match=r"video/conv2x: pooling size \(1, 12, 12\) has 3 axes .* give 2 numbers"):
        StagePooling("max", None, {"conv2x": [1, 12, 12]})(torch.zeros(1, 2, 4, 4), "video/conv2x", "conv2x")
