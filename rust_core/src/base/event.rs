//! barter's events as every layer holds them, and the number each kind goes by.

use barter_data::{event::DataKind, streams::consumer::MarketStreamEvent, subscription::book::OrderBookEvent};
use barter_instrument::instrument::InstrumentIndex;

/// One item of barter's in-memory market data: a market event or a reconnect marker.
pub type StreamEvent = MarketStreamEvent<InstrumentIndex, DataKind>;

// Each kind's tag: in wire batches (`output/wire.rs`), in a filter's kinds (`EventFilter`,
// `BarterFfiFilter`), and in the header as `BARTER_FFI_TAG_*`. Append, never renumber.
pub const TAG_TRADE: u8 = 0;
pub const TAG_ORDER_BOOK_L1: u8 = 1;
pub const TAG_ORDER_BOOK_SNAPSHOT: u8 = 2;
pub const TAG_ORDER_BOOK_UPDATE: u8 = 3;
pub const TAG_CANDLE: u8 = 4;
pub const TAG_LIQUIDATION: u8 = 5;

/// The tag of `kind`.
pub fn kind_tag(kind: &DataKind) -> u8 {
    match kind {
        DataKind::Trade(_) => TAG_TRADE,
        DataKind::OrderBookL1(_) => TAG_ORDER_BOOK_L1,
        DataKind::OrderBook(OrderBookEvent::Snapshot(_)) => TAG_ORDER_BOOK_SNAPSHOT,
        DataKind::OrderBook(OrderBookEvent::Update(_)) => TAG_ORDER_BOOK_UPDATE,
        DataKind::Candle(_) => TAG_CANDLE,
        DataKind::Liquidation(_) => TAG_LIQUIDATION,
    }
}
