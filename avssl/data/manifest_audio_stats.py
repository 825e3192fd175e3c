"""`avssl prepare --audio-stats`: per-frequency spectrogram statistics of a prepared dataset,
for the audio front-end's standardisation (replacing the shipped synthetic defaults)."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from avssl.data.audio_frontend import LogSpectrogram
from avssl.data.audio_stats import AudioStats, AudioStatsAccumulator
from avssl.data.av_dataset import AVClipDataset
from avssl.data.clip_sampling import AVClipSampler, UniformClipSampler
from avssl.data.manifest import Manifest


def manifest_audio_stats(manifest: Manifest, clips_per_video: int = 3, audio_duration: float = 2.0,
                         audio_rate: int = 24000, workers: int = 2, progress: bool = True) -> AudioStats:
    """Stats of the un-standardised log spectrograms of `clips_per_video` evenly spaced audio
    windows of every video (what training sees, without augmentation)."""
    frontend = LogSpectrogram(mean=torch.zeros(257), std=torch.ones(257))
    sampler = AVClipSampler(UniformClipSampler(audio_duration, clips_per_video), video_fps=1.0, video_frames=1)
    dataset = AVClipDataset(manifest, sampler, clips_per_video=clips_per_video, audio_duration=audio_duration,
                            audio_rate=audio_rate, audio_features=frontend.log_power_db, with_video=False)
    loader = DataLoader(dataset, batch_size=None, num_workers=workers)
    accumulator = AudioStatsAccumulator()
    for sample in tqdm(loader, total=len(dataset), desc="audio stats", unit="clip", disable=not progress):
        accumulator.update(sample["audio"])
    return accumulator.result()
