"""Decide whether a probed file can serve as a training video, and say why not.

`avssl prepare` keeps a file only if every clip the recipe may ask for can be read from it;
the reasons are short phrases a person can act on, counted in the prepare summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from avssl.data.decoders import DecodeError, Decoder
from avssl.data.media_info import MediaInfo

# One least-significant bit of 16-bit PCM: anything quieter is digital silence.
SILENCE_PEAK = 1.0 / 32768.0


@dataclass(frozen=True)
class MediaRequirements:
    """What the clip recipe needs from a file."""

    min_duration: float = 2.0  # seconds of overlapping audio and video (the AVID audio window)
    need_audio: bool = True  # False = --allow-silent: no audio stream or a silent one is fine
    max_corrupt_packets: int = 0


@dataclass(frozen=True)
class MediaVerdict:
    """A probe result: `info` when the file could be probed, `reason` when it is rejected."""

    info: MediaInfo | None
    reason: str | None

    @property
    def accepted(self) -> bool:
        return self.reason is None


def rejection_reason(info: MediaInfo, needs: MediaRequirements) -> str | None:
    """Why `info` fails `needs`, or None when it passes. Checks run from the most basic up."""
    if not info.has_video:
        return "no decodable video frames" if info.video_codec else "no video stream"
    if needs.need_audio:
        if info.audio_codec is None:
            return "no audio stream"
        if not info.has_audio:
            return "audio stream not decodable"
        if (info.audio_peak or 0.0) <= SILENCE_PEAK:
            return "silent audio"
    if info.corrupt_packets > needs.max_corrupt_packets:
        return f"corrupt data: {info.corrupt_packets} undecodable packets"
    duration = info.duration if needs.need_audio and info.has_audio else _video_duration(info)
    if duration < needs.min_duration:
        return f"too short: {duration:.1f} s < {needs.min_duration:.1f} s"
    return None


def _video_duration(info: MediaInfo) -> float:
    return max(0.0, (info.video_end or 0.0) - (info.video_start or 0.0))


def check_media(path: str, decoder: Decoder, needs: MediaRequirements) -> MediaVerdict:
    """Probe `path` and judge it; never raises for a bad file (a long job must go on)."""
    try:
        info = decoder.probe(path)
    except DecodeError as error:
        return MediaVerdict(None, error.reason)
    except Exception as error:  # noqa: BLE001 — any decoder crash is a property of the file
        return MediaVerdict(None, f"probe failed: {type(error).__name__}: {error}")
    return MediaVerdict(info, rejection_reason(info, needs))
