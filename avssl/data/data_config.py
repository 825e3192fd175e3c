"""Typed schema of the `data:` section of a config (validated by avssl.config)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ClipConfig:
    """Which span of a video one sample reads. AVID recipe (Morgado et al. 2021, Sec. 4): audio
    2 s at 24 kHz, video 0.5 s at 16 fps placed inside the audio window, ±0.5 s misalignment."""

    video_fps: float = 16.0
    video_frames: int = 8
    audio_duration: float = 2.0
    audio_rate: int = 24000
    max_misalignment: float = 0.5
    clips_per_video: int = 10


@dataclass
class VideoAugmentConfig:
    """Video augmentation on uint8 frames decoded at `decode_short_side`; defaults are the official
    AVID-CMA pretraining transform (multi-scale crop 0.08–1, flip, colour jitter 0.4/0.4/0.4/0.2,
    ImageNet normalisation; evaluation resizes the short side to crop / 0.875)."""

    decode_short_side: int = 128
    crop_size: int = 112
    scale: list[float] = field(default_factory=lambda: [0.08, 1.0])
    flip_prob: float = 0.5
    color_jitter: list[float] = field(default_factory=lambda: [0.4, 0.4, 0.4, 0.2])
    color_jitter_prob: float = 1.0  # official AVID-CMA: jitter every clip (VideoPrep_MSC_CJ)
    grayscale_prob: float = 0.0  # official recipes never apply greyscale
    mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])
    std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])


@dataclass
class AudioFrontendConfig:
    """Log power spectrogram of DESIGN.md; `stats` is an .npz from `avssl prepare --audio-stats`
    (null = the shipped defaults)."""

    n_fft: int = 1024
    hop_length: int = 240
    top_db: float = 100.0
    stats: str | None = None
    volume_jitter: float = 0.1


@dataclass
class ViewConfig:
    """One kind of augmented crop of the image methods (avssl.data.image_views.ViewSpec, whose
    defaults these are: the common SimCLR/BYOL view)."""

    size: int = 224
    scale: list[float] = field(default_factory=lambda: [0.08, 1.0])
    count: int = 1
    flip_prob: float = 0.5
    color_jitter: list[float] = field(default_factory=lambda: [0.4, 0.4, 0.2, 0.1])
    color_jitter_prob: float = 0.8
    grayscale_prob: float = 0.2
    blur_prob: float = 0.5
    blur_sigma: list[float] = field(default_factory=lambda: [0.1, 2.0])
    solarize_prob: float = 0.0


@dataclass
class ImageDataConfig:
    """Data of the image methods (SwAV, SEER, BYOL, SimSiam, Barlow Twins). `source`: `video_frames`
    (frames of `data.manifest`'s videos, decoded at `data.video.decode_short_side`, the instance being
    the video) or `folder` (images under `root`). Views: `views` when given, else the published
    `recipe` (a name in avssl.data.image_views.VIEW_RECIPES); normalisation is `data.video.mean/std`."""

    source: str = "video_frames"
    root: str | None = None
    frames_per_video: int = 1
    recipe: str | None = None
    views: list[ViewConfig] = field(default_factory=list)


@dataclass
class DataConfig:
    manifest: str = "???"
    source_root: str | None = None
    decoder: str = "pyav"
    batch_size: int = 32
    num_workers: int = 2
    max_retries: int = 10
    clip: ClipConfig = field(default_factory=ClipConfig)
    video: VideoAugmentConfig = field(default_factory=VideoAugmentConfig)
    audio: AudioFrontendConfig = field(default_factory=AudioFrontendConfig)
    images: ImageDataConfig = field(default_factory=ImageDataConfig)
