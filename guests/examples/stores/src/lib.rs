//! Example importer plugin: finds the nearest store with the distance another installed plugin
//! provides (acme:geo/distance). wasm.install links it to that plugin.

wit_bindgen::generate!({ world: "stores", path: "wit", generate_all });

use acme::geo::distance::{self as geo, Point};
use exports::acme::stores::finder::Guest;

struct Stores;

/// The stores, with their locations.
const STORES: &[(&str, f64, f64)] = &[
    ("harbour", 0.0, 0.0),
    ("market", 3.0, 4.0),
    ("station", -6.0, 8.0),
    ("airport", 12.0, -5.0),
];

impl Guest for Stores {
    fn nearest_store(x: f64, y: f64) -> String {
        let here = Point { x, y };
        let mut best: Option<(&str, f64)> = None;
        for (name, sx, sy) in STORES {
            let d = geo::distance(here, Point { x: *sx, y: *sy });
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((name, d));
            }
        }
        let (name, d) = best.expect("there are stores");
        format!("{name}@{d:.3}")
    }

    fn between(ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
        geo::distance(Point { x: ax, y: ay }, Point { x: bx, y: by })
    }

    fn provider_calls() -> u32 {
        geo::calls()
    }

    fn provider() -> String {
        geo::implementation()
    }

    fn provider_fail(why: String) -> f64 {
        geo::fail(&why)
    }
}

export!(Stores);
