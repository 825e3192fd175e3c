"""What a decoder sees in a media file: the facts `prepare` validates and samplers rely on."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class MediaInfo:
    """Streams of one file. Times are absolute stream seconds (pts × time_base), so video and
    audio stay in sync even when their start times differ; `*_end` is the end of the last
    decoded frame or sample, measured, not read from a header that may lie or be missing."""

    path: str
    video_start: float | None = None
    video_end: float | None = None
    video_fps: float | None = None
    video_frames: int | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_start: float | None = None
    audio_end: float | None = None
    audio_rate: int | None = None
    audio_channels: int | None = None
    audio_codec: str | None = None
    audio_peak: float | None = None  # max |sample| in [-1, 1] over the whole stream; 0 = digital silence
    corrupt_packets: int = 0  # packets the decoder refused (skipped when reading clips)

    @property
    def has_video(self) -> bool:
        return self.video_start is not None and self.video_end is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_start is not None and self.audio_end is not None

    @property
    def av_start(self) -> float:
        """Start of the span where every present stream has data."""
        starts = [s for s in (self.video_start, self.audio_start) if s is not None]
        return max(starts) if starts else 0.0

    @property
    def av_end(self) -> float:
        """End of the span where every present stream has data."""
        ends = [e for e in (self.video_end, self.audio_end) if e is not None]
        return min(ends) if ends else 0.0

    @property
    def duration(self) -> float:
        """Length of the span where every present stream has data (what clips may use)."""
        return max(0.0, self.av_end - self.av_start)

    def to_dict(self) -> dict:
        return asdict(self)
