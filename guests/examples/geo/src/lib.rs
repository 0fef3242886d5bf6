//! Example provider plugin: plane geometry, exported as the interface acme:geo/distance for
//! other plugins to import (see examples/stores).

use std::cell::Cell;

wit_bindgen::generate!({ world: "geo", path: "wit" });

use exports::acme::geo::distance::{Guest, Point};

struct Geo;

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

impl Guest for Geo {
    fn distance(a: Point, b: Point) -> f64 {
        CALLS.with(|c| c.set(c.get() + 1));
        ((a.x - b.x).powi(2) + (a.y - b.y).powi(2)).sqrt()
    }

    fn between(ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
        Self::distance(Point { x: ax, y: ay }, Point { x: bx, y: by })
    }

    fn calls() -> u32 {
        CALLS.with(|c| c.get())
    }

    fn implementation() -> String {
        "rust".into()
    }

    fn fail(why: String) -> f64 {
        panic!("geo failed: {why}")
    }
}

export!(Geo);
