"""The frames and sound of one video's middle clip, for reports (grids, report.html).

The clip is the one evaluation takes with a single uniform clip per video: the audio window
centred in the video, the video clip centred in the window, frames at the decode size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avssl.data.av_dataset import DecodeSize
from avssl.data.clip_sampling import AVClipSampler, UniformClipSampler
from avssl.data.decoders import DecodeError, Decoder
from avssl.data.manifest import Manifest


@dataclass
class ClipMedia:
    """`frames` uint8 (T, H, W, 3) or None (no video); `audio` float32 (S,) at `rate` or None."""

    frames: np.ndarray | None
    audio: np.ndarray | None
    rate: int

    def middle_frame(self, fallback_size: int = 64) -> np.ndarray:
        """The clip's middle frame, or a grey square when there is no video (audio-only sets)."""
        if self.frames is None or len(self.frames) == 0:
            return np.full((fallback_size, fallback_size, 3), 128, dtype=np.uint8)
        return self.frames[len(self.frames) // 2]


def middle_clip_media(manifest: Manifest, video: int, data_cfg, decoder: Decoder) -> ClipMedia:
    """Decode the middle clip of manifest row `video` with `decoder`; a stream that fails to decode
    (a silent UCF-101 video has no audio) is left out rather than failing the report."""
    row = manifest.rows[video]
    path = manifest.file_for(video)
    clip = data_cfg.clip
    sampler = AVClipSampler(UniformClipSampler(clip.audio_duration, 1), clip.video_fps, clip.video_frames)
    span = sampler(row.start, row.duration)
    frames = audio = None
    if row.width and row.height:
        try:
            size = DecodeSize(data_cfg.video.decode_short_side).for_frame(row.width, row.height)
            frames = decoder.read_video(path, span.video_times, size).numpy()
        except (DecodeError, OSError):
            frames = None
    if row.audio_rate:
        try:
            audio = decoder.read_audio(path, span.audio.start, clip.audio_duration, clip.audio_rate).numpy()
            audio = audio.reshape(-1).astype(np.float32)
        except (DecodeError, OSError):
            audio = None
    return ClipMedia(frames, audio, int(clip.audio_rate))
