"""Notebook displays (_repr_html_): parsed as HTML, checked against the data they show."""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

import pytest

from barter_ffi import MarketDataInMemory, iter_json_file
from barter_ffi.notebook import counted, duration_text, size_text
from barter_ffi.summary import kind_fields
from barter_ffi.timestamps import iso
from conftest import FIXTURES

KINDS = FIXTURES / "all_kinds.jsonl"
ROOT = Path(__file__).resolve().parent.parent


class Table:
    def __init__(self) -> None:
        self.caption = ""
        self.rows: list[list[str]] = []

    def column(self, name: str) -> list[str]:
        at = self.rows[0].index(name)
        return [row[at] for row in self.rows[1:]]

    def by_first_cell(self) -> dict[str, list[str]]:
        return {row[0]: row for row in self.rows[1:]}


class Display(HTMLParser):
    """What a reader sees: the title paragraphs' text and each table's caption and cell texts."""

    def __init__(self, markup: str) -> None:
        super().__init__()
        self.paragraphs: list[str] = []
        self.tables: list[Table] = []
        self._text: Optional[list[str]] = None
        self._in_caption = False
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append(Table())
        elif tag == "tr":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th", "p", "caption"):
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if self._text is None:
            return
        text = "".join(self._text)
        if tag in ("td", "th"):
            self.tables[-1].rows[-1].append(text)
        elif tag == "caption":
            self.tables[-1].caption = text
        elif tag == "p":
            self.paragraphs.append(text)
        else:
            return
        self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def table(self, caption_start: str) -> Table:
        return next(table for table in self.tables if table.caption.startswith(caption_start))


def test_a_data_set_shows_counts_by_exchange_and_kind_its_time_span_skips_and_first_events() -> None:
    md = MarketDataInMemory.from_json_file(FIXTURES / "all_kinds_results.json")
    events, summary = md.events(), md.summary()
    shown = Display(md._repr_html_())
    assert shown.paragraphs[0] == "MarketDataInMemory · 6 market events · 2 reconnect markers kept · 3 Err items skipped"
    counts = shown.table("counts by exchange and kind")
    header = counts.rows[0]
    assert header[0] == "exchange" and header[-3:] == ["market events", "instruments", "reconnects"]
    kinds = header[1:-3]
    assert kinds == [kind for kind in ["public_trade", "l1", "l2", "candle", "liquidation"] if kind in summary.by_kind]
    rows = counts.by_first_cell()
    exchanges = {event.exchange.value for event in events} | set(summary.reconnects_by_exchange)
    assert set(rows) == exchanges | {"all"}
    for exchange in exchanges:
        mine = [event for event in events if event.exchange.value == exchange]
        row = rows[exchange]
        assert row[1:-3] == [str(sum(event.kind.kind_name() == kind for event in mine)) for kind in kinds], exchange
        assert row[-3:] == [str(len(mine)), str(len({event.instrument for event in mine})),
                            str(summary.reconnects_by_exchange.get(exchange, 0))], exchange
    assert rows["all"][-3] == str(len(events)) and rows["all"][-1] == "2"
    first, last = min(event.time_exchange_ns for event in events), max(event.time_exchange_ns for event in events)
    assert duration_text(last - first) == "42.825 s"
    assert shown.table("time (UTC)").rows == [["time_exchange from", "time_exchange to", "span", "time_first_event"],
                                              [iso(first), iso(last), "42.825 s", iso(md.time_first_event_ns())]]
    listed = shown.table("first 5 of 6 market events")
    assert listed.rows[0] == ["#", "time_exchange", "exchange", "instrument", "kind", "fields"]
    assert listed.rows[1:] == [[str(index), iso(event.time_exchange_ns), event.exchange.value, str(event.instrument),
                                event.kind.kind_name(), kind_fields(event.kind)] for index, event in enumerate(events[:5])]


def test_the_display_reads_the_librarys_counts_not_every_event(monkeypatch: pytest.MonkeyPatch) -> None:
    import barter_ffi.market_data as market_data

    decoded: list[int] = []
    original = market_data.events_between

    def counting(handle: object, start: int, stop: int) -> list:
        decoded.append(stop - start)
        return original(handle, start, stop)

    monkeypatch.setattr(market_data, "events_between", counting)
    md = MarketDataInMemory.from_json_bytes(KINDS.read_bytes() * 2_000)
    Display(md._repr_html_())
    assert decoded == [5]


def test_closed_empty_and_other_threads_data_sets_render_and_nothing_is_claimed() -> None:
    md = MarketDataInMemory.from_json_file(KINDS)
    clone = md.clone()
    shown: list[str] = []
    worker = threading.Thread(target=lambda: shown.append(clone._repr_html_()))
    worker.start()
    worker.join()
    assert Display(shown[0]).paragraphs[0].startswith("MarketDataInMemory · 11 market events")
    assert clone.events() == md.events()  # the worker's display did not claim the clone
    worker = threading.Thread(target=lambda: shown.append(md._repr_html_()))
    worker.start()
    worker.join()
    assert shown[1] == md._repr_html_(), "owned by the main thread, shown whole by another, as repr is"
    empty = md.filter(kinds=[])
    assert Display(empty._repr_html_()).paragraphs[1] == "empty: no market event"
    md.close()
    assert Display(md._repr_html_()).paragraphs == ["MarketDataInMemory · closed"]


def test_sizes_counts_and_durations_read_as_people_write_them() -> None:
    assert [counted(1, "event"), counted(620_000, "event")] == ["1 event", "620,000 events"]
    assert [size_text(size) for size in (999, 3_169, 200_790_154, 5_000_000_000)] == [
        "999 B", "3.2 kB", "200.8 MB", "5.0 GB"]
    assert [duration_text(ns) for ns in (500, 2_500_000, 42_825_000_500, 7_384_500_000_000, 273_600 * 10**9)] == [
        "500 ns", "2.5 ms", "42.825 s", "2 h 03 min 04.5 s", "3 d 04 h 00 min 00 s"]


def test_every_text_is_escaped(tmp_path: Path) -> None:
    line = KINDS.read_text().splitlines()[0].replace('"id":"4314349047"', '"id":"<b>&amp;</b>"')
    md = MarketDataInMemory.from_json_bytes(line)
    markup = md._repr_html_()
    assert "<b>" not in markup and "&lt;b&gt;&amp;amp;&lt;/b&gt;" in markup
    assert Display(markup).table("first").rows[1][-1].startswith("id=<b>&amp;</b> price=")
    path = tmp_path / "<i>.jsonl"
    path.write_text(line)
    stream_markup = iter_json_file(path)._repr_html_()
    assert "<i>" not in stream_markup and Display(stream_markup).paragraphs[0].startswith(f"JsonFileStream · {path}")


def test_an_arrow_table_shows_its_columns_its_events_by_exchange_and_first_rows() -> None:
    pyarrow = pytest.importorskip("pyarrow")
    md = MarketDataInMemory.from_json_file(KINDS)
    for table, kind in [("trades", "public_trade"), ("l2", "l2"), ("reconnects", None)]:
        export = md.to_arrow(table)  # type: ignore[arg-type]
        arrow = pyarrow.table(export)
        shown = Display(export._repr_html_())
        assert shown.paragraphs[0] == f"ArrowTable · '{table}' · {arrow.num_rows} rows · decimals='decimal128'"
        rows = shown.table("first")
        assert rows.rows[0] == arrow.schema.names
        assert rows.rows[1] == [f"dictionary<{field.type.value_type}>" if pyarrow.types.is_dictionary(field.type)
                                else str(field.type) for field in arrow.schema]
        expected = [["" if value is None else value for value in row] for row in
                    zip(*(pyarrow.compute.cast(column, pyarrow.string()).to_pylist()
                          for column in arrow.slice(0, 5).columns))]
        assert rows.rows[2:] == [list(row) for row in expected]
        if kind is None:
            markers = shown.table("reconnect markers by exchange").by_first_cell()
            assert {name: int(row[1]) for name, row in markers.items()} == md.summary().reconnects_by_exchange
            continue
        events = [event for event in md if event.kind.kind_name() == kind]
        by_exchange = shown.table("events by exchange")
        assert by_exchange.rows[0] == ["exchange", "events", "instruments", "time_exchange from", "time_exchange to",
                                       "span"]
        expected_rows = []
        for exchange in sorted({event.exchange.value for event in events}) + ["all"]:
            mine = [event for event in events if exchange in ("all", event.exchange.value)]
            first, last = min(e.time_exchange_ns for e in mine), max(e.time_exchange_ns for e in mine)
            expected_rows.append([exchange, str(len(mine)), str(len({e.instrument for e in mine})), iso(first),
                                  iso(last), duration_text(last - first)])
        assert by_exchange.rows[1:] == expected_rows, table
    md.close()
    assert Display(export._repr_html_()).paragraphs[0].startswith("ArrowTable · 'reconnects'")


def test_a_file_stream_shows_its_file_state_selection_and_first_events(tmp_path: Path) -> None:
    stream = iter_json_file(KINDS, kinds=["public_trade", "l2"], end=1_734_721_560_000_000_000)
    shown = Display(stream._repr_html_())
    assert shown.paragraphs[0] == f"JsonFileStream · {KINDS} · {KINDS.stat().st_size / 1e3:.1f} kB on disk · not read yet"
    assert {row[0]: row[1] for row in shown.table("selection").rows[1:]} == {
        "kinds": "public_trade, l2", "end": "2024-12-20T19:06:00.000000000Z (exclusive)"}
    expected = MarketDataInMemory.from_json_file(KINDS, kinds=["public_trade", "l2"],
                                                 end=1_734_721_560_000_000_000).events()[:5]
    assert shown.table("the file's first").column("time_exchange") == [iso(e.time_exchange_ns) for e in expected]
    events = iter(stream)
    assert next(events) == expected[0]
    done, total = stream.progress
    assert done == total == KINDS.stat().st_size  # a small file is read whole at once
    assert f"reading: {total / 1e3:.1f} kB of {total / 1e3:.1f} kB read from disk" in Display(
        stream._repr_html_()).paragraphs[0]
    assert list(events)[:4] == expected[1:]  # the display read the file with a stream of its own
    stream.close()
    assert Display(stream._repr_html_()).paragraphs == [f"JsonFileStream · {KINDS} · closed"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"Item":oops}\n')
    shown = Display(iter_json_file(bad)._repr_html_())
    assert shown.paragraphs[-1].startswith(f"reading the file fails: {bad}: line 1 column")


def test_the_example_notebook_runs_and_shows_the_displays(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(ROOT / "examples" / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    html_outputs = [output["data"]["text/html"] for cell in notebook.cells if cell.cell_type == "code"
                    for output in cell.get("outputs", []) if "text/html" in output.get("data", {})]
    titles = [Display(markup).paragraphs[0].split(" · ")[0] for markup in html_outputs]
    assert {"MarketDataInMemory", "ArrowTable", "JsonFileStream"} <= set(titles), titles
