"""The mean aggregate of guests/fixtures/aggregates (resource mean: every optional method,
and add-batch), in Python: componentize-py finds the exported interface stats' resources in a module named
stats, and its functions in class Stats of the app module."""

import struct
import wit_world
from wit_world import exports
from wit_world.exports import stats as api

_live = 0


class Stats(exports.Stats):
    def live_states(self) -> int:
        return _live


class Mean(api.Mean):
    def __init__(self) -> None:
        global _live
        _live += 1
        self.sum = 0.0
        self.n = 0

    def __del__(self):
        global _live
        _live -= 1

    def add(self, x: float) -> None:
        self.sum += x
        self.n += 1

    def add_batch(self, xs) -> None:
        # One at a time, in order: the same sum as add row by row, to the last bit.
        for x in xs:
            self.sum += x
        self.n += len(xs)

    def finish(self):
        return self.sum / self.n if self.n else None

    def merge(self, other) -> None:
        self.sum += other.sum
        self.n += other.n

    def serialize(self) -> bytes:
        return struct.pack("<dQ", self.sum, self.n)

    @classmethod
    def deserialize(cls, bytes):
        m = cls()
        m.sum, m.n = struct.unpack("<dQ", bytes)
        return m

    def remove(self, x: float) -> None:
        self.sum -= x
        self.n -= 1
