"""The bad-file policy every training dataset shares: a sample whose file fails to decode is
replaced by another instance drawn from the sample's own generator (so the replacement is the same
in any worker and on resume), the failure is logged once per file and counted, and the sample
carries the *replacement's* index, so a method never files one instance's embedding under another's.
Too many consecutive failures mean a broken data set, not a broken file: then the job stops."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import torch

from avssl.data.decoders import DecodeError

log = logging.getLogger(__name__)

T = TypeVar("T")


class DecodeRetry:
    """`decode(index)` with replacement; `name_of(index)` names the file in messages."""

    def __init__(self, count: int, name_of: Callable[[int], str], max_retries: int, advice: str,
                 noun: str = "samples") -> None:
        self.count, self.name_of, self.max_retries, self.advice, self.noun = count, name_of, max_retries, advice, noun
        self._reported: set[str] = set()

    def __call__(self, index: int, decode: Callable[[int], T], generator: torch.Generator) -> tuple[int, T, int]:
        """(index actually decoded, its decoded value, failures before it)."""
        failures = 0
        while True:
            try:
                return index, decode(index), failures
            except (DecodeError, OSError) as error:
                failures += 1
                name = self.name_of(index)
                if name not in self._reported:  # once per file per worker: a bad file must not flood the log
                    self._reported.add(name)
                    log.warning("skipping %s (instance %d): %s", name, index, error)
                if failures > self.max_retries:
                    raise RuntimeError(f"{failures} consecutive {self.noun} failed to decode (last: {error}); "
                                       f"{self.advice}") from error
                index = int(torch.randint(self.count, (), generator=generator))
