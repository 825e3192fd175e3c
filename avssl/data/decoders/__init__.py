"""Decoder back-ends by name. PyAV is the default; decord and torchcodec are optional extras."""

from __future__ import annotations

from avssl.data.decoders.base import TIMESTAMP_EPSILON, DecodeError, Decoder
from avssl.data.decoders.pyav_decoder import PyAVDecoder

BACKENDS = ("pyav", "decord", "torchcodec")


def create_decoder(name: str = "pyav", threads: int = 1) -> Decoder:
    """The decoder called `name`; optional back-ends fail with the install command to run."""
    if name == "pyav":
        return PyAVDecoder(threads=threads)
    if name == "decord":
        from avssl.data.decoders.decord_decoder import DecordDecoder

        return DecordDecoder(threads=threads)
    if name == "torchcodec":
        from avssl.data.decoders.torchcodec_decoder import TorchCodecDecoder

        return TorchCodecDecoder(threads=threads)
    raise ValueError(f"unknown decoder {name!r}: choose one of {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "TIMESTAMP_EPSILON", "DecodeError", "Decoder", "PyAVDecoder", "create_decoder"]
