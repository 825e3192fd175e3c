"""Config → AVClipDataset and DataLoader: the one place the `data:` section is turned into objects."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader

from avssl.data.audio_frontend import LogSpectrogram
from avssl.data.audio_stats import AudioStats, default_audio_stats
from avssl.data.audio_transforms import VolumeJitter
from avssl.data.av_dataset import AVClipDataset, DecodeSize
from avssl.data.clip_sampling import AVClipSampler, RandomClipSampler, UniformClipSampler
from avssl.data.data_config import DataConfig
from avssl.data.decoders import Decoder
from avssl.data.manifest import Manifest, read_manifest
from avssl.data.video_transforms import VideoEvalTransform, VideoTrainTransform


def build_audio_frontend(cfg: DataConfig) -> LogSpectrogram:
    stats = AudioStats.load(cfg.audio.stats) if cfg.audio.stats else default_audio_stats()
    return LogSpectrogram(n_fft=cfg.audio.n_fft, hop_length=cfg.audio.hop_length,
                          num_frames=round(cfg.clip.audio_duration * cfg.clip.audio_rate / cfg.audio.hop_length),
                          top_db=cfg.audio.top_db, mean=stats.mean.float(), std=stats.std.float())


def build_av_dataset(cfg: DataConfig, training: bool, manifest: Manifest | None = None, seed: int = 0,
                     with_video: bool = True, with_audio: bool = True, decoder: Decoder | None = None) -> AVClipDataset:
    """Training: random audio windows, misalignment, augmentation. Evaluation: `clips_per_video`
    evenly spaced windows, centred video, deterministic transform."""
    manifest = manifest if manifest is not None else read_manifest(cfg.manifest, cfg.source_root)
    clip, video = cfg.clip, cfg.video
    if training:
        window = RandomClipSampler(clip.audio_duration)
        video_transform = VideoTrainTransform(
            crop_size=video.crop_size, scale=tuple(video.scale), flip_prob=video.flip_prob,
            color_jitter=tuple(video.color_jitter), color_jitter_prob=video.color_jitter_prob,
            grayscale_prob=video.grayscale_prob, mean=video.mean, std=video.std)
        audio_transform = VolumeJitter(cfg.audio.volume_jitter) if cfg.audio.volume_jitter else None
    else:
        window = UniformClipSampler(clip.audio_duration, clip.clips_per_video)
        video_transform = VideoEvalTransform(resize_short_side=video.decode_short_side, crop_size=video.crop_size,
                                             mean=video.mean, std=video.std)
        audio_transform = None
    sampler = AVClipSampler(window, clip.video_fps, clip.video_frames,
                            max_misalignment=clip.max_misalignment if training else 0.0)
    return AVClipDataset(
        manifest, sampler, clips_per_video=clip.clips_per_video, audio_duration=clip.audio_duration,
        audio_rate=clip.audio_rate, video_transform=video_transform, audio_transform=audio_transform,
        audio_features=build_audio_frontend(cfg) if with_audio else None,
        decode_size=DecodeSize(video.decode_short_side), decoder=decoder or cfg.decoder, with_video=with_video,
        with_audio=with_audio, max_retries=cfg.max_retries, seed=seed)


def build_loader(cfg: DataConfig, dataset: AVClipDataset, shuffle: bool, seed: int = 0) -> DataLoader:
    return DataLoader(dataset, batch_size=cfg.batch_size, shuffle=shuffle, num_workers=cfg.num_workers,
                      generator=torch.Generator().manual_seed(seed) if shuffle else None,
                      persistent_workers=False, pin_memory=torch.cuda.is_available(), drop_last=shuffle)
