//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures").join(name)
}

/// A trade line in the JSON Lines shape, with `patch` applied to its JSON text.
pub const TRADE_LINE: &str = r#"{"Item":{"time_exchange":"2024-12-20T19:05:18.175Z","time_received":"2024-12-20T19:05:18.319581890Z","exchange":"binance_spot","instrument":0,"kind":{"Trade":{"id":"1","price":1.5,"amount":2.0,"side":"Buy"}}}}"#;
