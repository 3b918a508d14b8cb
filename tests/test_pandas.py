"""What a pandas user gets from ``to_pandas``: numeric prices by default, exact decimals on
request, categories of the exchanges present, and dtypes that do not depend on the data."""

from __future__ import annotations

import decimal

import pytest

from barter_ffi import MarketDataInMemory, OrderBookL1
from conftest import FIXTURES, decimal_books

pandas = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")


def dtype_names(frame) -> dict[str, str]:
    """Each column's dtype, a categorical's as "category" (its categories are the data's)."""
    return {column: str(dtype) for column, dtype in frame.dtypes.items()}


@pytest.fixture
def books():
    with MarketDataInMemory.from_events(decimal_books()) as data:
        yield data


def test_prices_are_float64_by_default_so_describe_and_arithmetic_see_them(books) -> None:
    l1, l2 = books.to_pandas("l1"), books.to_pandas("l2")
    for frame, columns in ((l1, ["bid_price", "bid_amount", "ask_price", "ask_amount"]), (l2, ["price", "amount"])):
        assert all(frame[column].dtype == "float64" for column in columns), frame.dtypes
        assert set(columns) <= set(frame.describe().columns)
    assert l1["bid_price"].max() == 100.0 and l1["bid_price"].tolist() == [9.5, 10.25, 100.0]
    assert l1["ask_price"].isna().tolist() == [False, True, False]
    notional = (l2["price"] * l2["amount"]).sum()
    assert notional == pytest.approx(9.5 * 2 + 9.25 + 10.25 * 0.5 + 100 * 0.001)
    assert l2.groupby("side", observed=True)["amount"].sum().to_dict() == {"bid": 3.001, "ask": 0.5}


def test_exact_decimals_on_request(books) -> None:
    exact = books.to_pandas("l1", decimals="decimal128")["bid_price"]
    assert exact.tolist() == [decimal.Decimal("9.50"), decimal.Decimal("10.25"), decimal.Decimal("100.00")]
    assert exact.max() == decimal.Decimal("100")
    text = books.to_pandas("l1", decimals="text")["bid_price"]
    assert text.tolist() == [event.kind.best_bid.price_text for event in books if isinstance(event.kind, OrderBookL1)]


def test_exchange_categories_are_the_exchanges_present(books) -> None:
    trades = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").to_pandas("trades")
    present = {event.exchange.value for event in MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl")
               if event.kind.kind_name() == "public_trade"}
    assert set(trades["exchange"].cat.categories) == present
    assert trades["exchange"].value_counts().to_dict() == {name: 1 for name in present}
    # pandas < 3 groups by every category unless observed=True: with only those present, no empty groups
    assert len(trades.groupby("exchange", observed=False)["price"].sum()) == len(present)
    l2 = books.to_pandas("l2")
    assert list(l2["exchange"].cat.categories) == ["binance_spot", "okx"]
    # a side's categories are its whole domain, present or not
    assert list(trades["side"].cat.categories) == ["Buy", "Sell"]
    assert list(l2["side"].cat.categories) == ["bid", "ask"]


def test_dtypes_do_not_depend_on_the_data(books) -> None:
    """A book with no level gives null side, level, price and amount; the columns keep their
    dtypes (a nullable integer level, not floats), as in a data set without such a book."""
    without_empty_book = books.filter(instruments=[1])
    with MarketDataInMemory.from_events([]) as empty:
        for table in ("l1", "l2"):
            dtypes = dtype_names(books.to_pandas(table))
            assert dtypes == dtype_names(without_empty_book.to_pandas(table)) == dtype_names(empty.to_pandas(table))
    l2 = books.to_pandas("l2")
    assert str(l2["level"].dtype) == "UInt32"
    assert l2["level"].isna().tolist() == [False, False, False, True, False]
    assert str(l2["time_engine"].dtype) == "datetime64[ns, UTC]" and l2["time_engine"].isna().sum() == 1


@pytest.mark.parametrize(("table", "sides"), [("trades", ["Buy", "Sell"]), ("liquidations", ["Buy", "Sell"]),
                                              ("l2", ["bid", "ask"])])
def test_side_keeps_both_values_in_an_empty_table_too(table: str, sides: list) -> None:
    """A table without rows exports no dictionary; its side had no categories, so concatenating
    it with a full one made side plain objects."""
    full = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").to_pandas(table)
    empty = MarketDataInMemory.from_json_file(FIXTURES / "candles.jsonl").to_pandas(table)
    assert len(full) and not len(empty)
    assert list(full["side"].cat.categories) == list(empty["side"].cat.categories) == sides
    together = pandas.concat([full, empty])
    assert isinstance(together["side"].dtype, pandas.CategoricalDtype) and list(together["side"].cat.categories) == sides
    exported = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").to_pyarrow(table)["side"]
    assert exported.chunk(0).dictionary.to_pylist() == sides, "the library's dictionary, in its order"


def test_unsigned_integers_are_exact_nullable_uint64() -> None:
    trades = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").to_pandas("trades")
    for column in ("event_index", "instrument"):
        assert str(trades[column].dtype) == "UInt64"
    assert trades["instrument"].max() == 2**64 - 1 and trades["instrument"].iloc[:0].max() is pandas.NA
    assert str(MarketDataInMemory.from_json_file(FIXTURES / "all_kinds.jsonl").to_pandas("l2")["sequence"].dtype) == "UInt64"
    assert str(MarketDataInMemory.from_json_file(FIXTURES / "candles.jsonl").to_pandas("candles")["trade_count"].dtype) == "UInt64"
