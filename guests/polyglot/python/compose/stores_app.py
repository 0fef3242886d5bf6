"""The stores example (guests/examples/stores) in Python: it imports acme:geo/distance, which
another installed plugin provides (Rust geo or Python geo), and exports acme:stores/finder with
the same results as the Rust one. Built into stores-py.wasm by ../build.sh (componentize-py)."""

from wit_world import exports
from wit_world.imports import distance as geo

STORES = [
    ("harbour", 0.0, 0.0),
    ("market", 3.0, 4.0),
    ("station", -6.0, 8.0),
    ("airport", 12.0, -5.0),
]


class Finder(exports.Finder):
    def nearest_store(self, x: float, y: float) -> str:
        here = geo.Point(x=x, y=y)
        best = None
        for name, sx, sy in STORES:
            d = geo.distance(here, geo.Point(x=sx, y=sy))
            if best is None or d < best[1]:
                best = (name, d)
        return f"{best[0]}@{best[1]:.3f}"

    def between(self, ax: float, ay: float, bx: float, by: float) -> float:
        return geo.distance(geo.Point(x=ax, y=ay), geo.Point(x=bx, y=by))

    def provider_calls(self) -> int:
        return geo.calls()

    def provider(self) -> str:
        return geo.implementation()

    def provider_fail(self, why: str) -> float:
        return geo.fail(why)
