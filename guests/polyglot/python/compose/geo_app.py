"""The geo example (guests/examples/geo) in Python: it exports acme:geo/distance for other
plugins to import, with the same results as the Rust one. Built into geo-py.wasm by ../build.sh."""

import math

from wit_world import exports
from wit_world.exports import distance as api

_calls = 0


class Distance(exports.Distance):
    def distance(self, a: api.Point, b: api.Point) -> float:
        global _calls
        _calls += 1
        return math.sqrt((a.x - b.x) ** 2 + (a.y - b.y) ** 2)

    def between(self, ax: float, ay: float, bx: float, by: float) -> float:
        return self.distance(api.Point(x=ax, y=ay), api.Point(x=bx, y=by))

    def calls(self) -> int:
        return _calls

    def implementation(self) -> str:
        return "python"

    def fail(self, why: str) -> float:
        raise RuntimeError(f"geo failed: {why}")
