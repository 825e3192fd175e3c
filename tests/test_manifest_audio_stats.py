"""`avssl prepare --audio-stats`: stats equal a direct computation over the same audio windows."""

from __future__ import annotations

import numpy as np
import torch

from avssl.data.audio_frontend import LogSpectrogram
from avssl.data.clip_sampling import UniformClipSampler
from avssl.data.decoders import create_decoder
from avssl.data.manifest import read_manifest
from avssl.data.manifest_audio_stats import manifest_audio_stats
from avssl.data.prepare import prepare


def test_stats_match_numpy_over_the_same_windows(mixed_folder, tmp_path):
    src, _ = mixed_folder
    prepare(src, tmp_path, workers=0, progress=False)
    manifest = read_manifest(tmp_path)
    stats = manifest_audio_stats(manifest, clips_per_video=2, workers=0, progress=False)
    frontend = LogSpectrogram(mean=torch.zeros(257), std=torch.ones(257))
    decoder, sampler = create_decoder("pyav"), UniformClipSampler(2.0, 2)
    frames = []
    for i, row in enumerate(manifest.rows):
        for j in range(2):
            window = sampler(row.start, row.duration, j)
            wave = decoder.read_audio(manifest.file_for(i), window.start, 2.0, 24000)
            frames.append(frontend.log_power_db(wave).double().numpy().reshape(-1, 257))
    frames = np.concatenate(frames)
    assert stats.count == frames.shape[0] == len(manifest) * 2 * 200
    np.testing.assert_allclose(stats.mean.numpy(), frames.mean(0), rtol=0, atol=1e-6)
    np.testing.assert_allclose(stats.std.numpy(), frames.std(0), rtol=1e-6, atol=1e-6)
