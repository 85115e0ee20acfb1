"""Two models behind one API: which of them answers a record, and what the log says.

``serve --challenger`` runs an online experiment between the champion (the model
``serve`` loads anyway) and a challenger. In A/B mode the challenger answers a share
of the records; in shadow mode the champion answers every record and the challenger
predicts it too once the response has gone, for the log alone, so clients never wait
for it. A record's arm comes from a hash of the field ``serving.experiment.key`` names,
so an entity meets the same model on every request; only that hash is logged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

CHAMPION, CHALLENGER = "champion", "challenger"
AB, SHADOW = "ab", "shadow"
MODES = (AB, SHADOW)
HASH_DIGITS = 16  # hex digits of SHA-256 kept: 64 bits, ample to split traffic evenly


@dataclass(frozen=True)
class Assignment:
    """Who a record is, as far as the experiment knows, and which model answers it."""

    key: str  # a hash of the record's key field, or of its place in its request
    arm: str  # CHAMPION or CHALLENGER


@dataclass(frozen=True)
class Experiment:
    """How records are split: ``mode`` (AB, SHADOW, or None when there is no
    challenger), the challenger's ``share`` of the records in A/B mode, and the field
    whose value names the entity (``key``)."""

    mode: str | None
    share: float
    key: str | None

    def name(self, champion: str, challenger: str) -> str:
        """What every log line of the experiment between two model versions carries, so
        that its report reads its lines only, not those of earlier experiments."""
        return f"{self.mode} {champion} against {challenger}"

    def assign(self, value: object, request_id: str, index: int) -> Assignment:
        """The assignment of the record at ``index`` of a request whose key field holds
        ``value`` (None: the record has no key, and is assigned by its request)."""
        basis = f"request {request_id} {index}" if value is None else f"{self.key} {value}"
        key = hashlib.sha256(basis.encode()).hexdigest()[:HASH_DIGITS]
        if self.mode != AB:
            return Assignment(key, CHAMPION)
        challenger = int(key, 16) < self.share * 16**HASH_DIGITS
        return Assignment(key, CHALLENGER if challenger else CHAMPION)
