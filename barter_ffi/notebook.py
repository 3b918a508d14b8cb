"""Notebook displays (``_repr_html_``) of data sets, Arrow tables and file streams.

Each display is a compact table built from what the library counts without decoding the data
(``Summary``: counts per kind and exchange, time spans, skips) and a handful of decoded events
or rows, so that showing a data set of any size costs a walk in Rust, not a decode in Python.
The functions here only render: the classes gather their facts (without claiming a data set
for the displaying thread) and hand them over. Every text is HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Iterable, Mapping, Optional, Sequence

from .data import MarketEvent
from .summary import KIND_NAMES, Group, Summary, kind_fields
from .timestamps import iso

__all__ = ["arrow_table_html", "counted", "file_stream_html", "market_data_html", "notice_html"]

SHOWN_EVENTS = 5
"""How many events (or rows) a display decodes and shows."""

_STYLES = {
    "number": 'style="text-align: right; white-space: nowrap"',
    "text": 'style="text-align: left; white-space: nowrap"',
    "prose": 'style="text-align: left"',
}
"""How a column's cells are set: numbers right, names and times on one line, free text wrapping."""


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _title(name: str, facts: Iterable[str]) -> str:
    parts = [f"<strong>{_text(name)}</strong>", *(_text(fact) for fact in facts)]
    return f"<p>{' · '.join(parts)}</p>"


def _frame(*parts: str) -> str:
    return '<div class="barter-ffi">' + "".join(parts) + "</div>"


def notice_html(name: str, *facts: str) -> str:
    """A display holding only its title: a closed object, or one owned by another thread."""
    return _frame(_title(name, facts))


def counted(count: int, noun: str) -> str:
    """``1 event``, ``620,000 events``."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def size_text(size: int) -> str:
    """``3.2 kB``, ``200.8 MB``: a file's size for people (decimal units, as ``ls -h --si``)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} B"


def duration_text(nanoseconds: int) -> str:
    """``43.948 s``, ``2 h 03 min 04.5 s``, ``3 d 04 h 00 min 00 s``: a span for people."""
    if nanoseconds < 1_000:
        return f"{nanoseconds} ns"
    if nanoseconds < 1_000_000:
        return f"{nanoseconds / 1e3:.3g} µs"
    if nanoseconds < 1_000_000_000:
        return f"{nanoseconds / 1e6:.3g} ms"
    seconds = nanoseconds / 1e9
    if seconds < 60:
        return f"{seconds:.3f} s"
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours:02d} h {minutes:02d} min {seconds:02.0f} s"
    if hours:
        return f"{hours} h {minutes:02d} min {seconds:04.1f} s"
    return f"{minutes} min {seconds:06.3f} s"


def _table(caption: str, header: Sequence[str], rows: Iterable[Sequence[object]], styles: Sequence[str],
           footer: Optional[Sequence[object]] = None, header_rows: Sequence[Sequence[str]] = ()) -> str:
    """A table; ``styles`` names each column's ``_STYLES``; ``header_rows`` (column types) wrap."""
    def row(cells: Sequence[object], tag: str, cell_styles: Sequence[str]) -> str:
        styled = (f"<{tag} {_STYLES[style]}>{_text(cell)}</{tag}>" for cell, style in zip(cells, cell_styles))
        return "<tr>" + "".join(styled) + "</tr>"

    head = row(header, "th", styles) + "".join(row(cells, "th", ["prose"] * len(cells)) for cells in header_rows)
    body = "".join(row(cells, "td", styles) for cells in rows)
    foot = "" if footer is None else f"<tfoot>{row(footer, 'th', styles)}</tfoot>"
    return f"<table><caption>{_text(caption)}</caption><thead>{head}</thead><tbody>{body}</tbody>{foot}</table>"


def _span_table(summary: Summary) -> str:
    first, last = summary.time_exchange_min_ns, summary.time_exchange_max_ns
    assert first is not None and last is not None and summary.time_first_event_ns is not None
    header = ("time_exchange from", "time_exchange to", "span", "time_first_event")
    row = (iso(first), iso(last), duration_text(last - first), iso(summary.time_first_event_ns))
    return _table("time (UTC)", header, [row], ("text", "text", "number", "text"))


def _counts_table(summary: Summary) -> str:
    """Market events by exchange (rows) and kind (columns), with instruments and reconnects."""
    kinds = [name for name in KIND_NAMES if any(group.kind.KIND_NAME == name for group in summary.groups)]  # type: ignore[attr-defined]
    exchanges = sorted({group.exchange.value for group in summary.groups} | set(summary.reconnects_by_exchange))
    counts: dict[tuple[str, str], int] = {}
    instruments: dict[str, set[int]] = {exchange: set() for exchange in exchanges}
    for group in summary.groups:
        key = (group.exchange.value, group.kind.KIND_NAME)  # type: ignore[attr-defined]
        counts[key] = counts.get(key, 0) + group.events
        instruments[group.exchange.value].add(group.instrument)
    header = ["exchange", *kinds, "market events", "instruments", "reconnects"]
    rows = []
    for exchange in exchanges:
        by_kind = [counts.get((exchange, kind), 0) for kind in kinds]
        rows.append([exchange, *by_kind, sum(by_kind), len(instruments[exchange]),
                     summary.reconnects_by_exchange.get(exchange, 0)])
    footer = ["all", *(summary.by_kind.get(kind, 0) for kind in kinds), summary.market_events,
              len(summary.by_instrument), summary.reconnects]
    styles = ["text"] + ["number"] * (len(header) - 1)
    return _table("counts by exchange and kind", header, rows, styles, footer)


def _events_table(caption: str, events: Sequence[MarketEvent], first_index: int = 0) -> str:
    header = ("#", "time_exchange", "exchange", "instrument", "kind", "fields")
    rows = [(first_index + position, iso(event.time_exchange_ns), event.exchange.value, event.instrument,
             event.kind.kind_name(), kind_fields(event.kind)) for position, event in enumerate(events)]
    return _table(caption, header, rows, ("number", "text", "text", "number", "text", "prose"))


def market_data_html(summary: Summary, first_events: Sequence[MarketEvent]) -> str:
    """A data set: its counts, time span and skips, and its first events."""
    title = _title("MarketDataInMemory", [
        counted(summary.market_events, "market event"),
        f"{counted(summary.reconnects, 'reconnect marker')} kept",
        f"{counted(summary.errors_skipped, 'Err item')} skipped",
    ])
    if not summary.market_events:
        markers = [_counts_table(summary)] if summary.reconnects else []  # markers alone are kept too
        return _frame(title, "<p>empty: no market event</p>", *markers)
    shown = f"first {len(first_events)} of {counted(summary.market_events, 'market event')}"
    return _frame(title, _span_table(summary), _counts_table(summary), _events_table(shown, first_events))


def arrow_table_html(table: str, rows: int, decimals: str, columns: Sequence[tuple[str, str]],
                     groups: Sequence[Group], markers: Mapping[str, int],
                     first_rows: Optional[Sequence[Sequence[Optional[str]]]]) -> str:
    """An Arrow table: its size and columns, its events (or markers) by exchange with their
    time spans, and its first rows (``first_rows`` is None when pyarrow is not there to read them)."""
    title = _title("ArrowTable", [repr(table), counted(rows, "row"), f"decimals={decimals!r}"])
    names = [name for name, _ in columns]
    types = [kind for _, kind in columns]
    if first_rows is None:
        shown, body = "columns (install pyarrow to see the first rows)", []
    else:
        shown, body = f"first {len(first_rows)} of {counted(rows, 'row')}", [
            ["" if value is None else value for value in row] for row in first_rows]
    parts = [title]
    if groups:
        parts.append(_exchange_spans_table(groups))
    elif markers:
        parts.append(_table("reconnect markers by exchange", ("exchange", "markers"), sorted(markers.items()),
                            ("text", "number")))
    parts.append(_table(shown, names, body, ["prose"] * len(columns), header_rows=[types]))
    return _frame(*parts)


def _exchange_spans_table(groups: Sequence[Group]) -> str:
    """The events of ``groups`` by exchange, with their instruments and time span, and in all."""
    exchanges: dict[str, list[Group]] = {}
    for group in groups:
        exchanges.setdefault(group.exchange.value, []).append(group)

    def row(name: str, mine: Sequence[Group]) -> list[object]:
        first = min(group.time_exchange_min_ns for group in mine)
        last = max(group.time_exchange_max_ns for group in mine)
        return [name, sum(group.events for group in mine), len({group.instrument for group in mine}), iso(first),
                iso(last), duration_text(last - first)]

    header = ("exchange", "events", "instruments", "time_exchange from", "time_exchange to", "span")
    rows = [row(exchange, mine) for exchange, mine in sorted(exchanges.items())]
    styles = ("text", "number", "number", "text", "text", "number")
    return _table("events by exchange (UTC)", header, rows, styles, footer=row("all", groups))


def file_stream_html(path: str, facts: Sequence[str], selection: Sequence[tuple[str, str]],
                     first_events: Optional[Sequence[MarketEvent]], problem: Optional[str]) -> str:
    """A file stream: the file, its state, what it selects, and the file's first events as the
    stream yields them (``problem``: why they could not be read)."""
    parts = [_title("JsonFileStream", [path, *facts])]
    if selection:
        parts.append(_table("selection", ("", "keeps"), selection, ("text", "prose")))
    if problem is not None:
        parts.append(f"<p>reading the file fails: <code>{_text(problem)}</code></p>")
    elif first_events is not None:
        caption = f"the file's first {len(first_events)} market events (its counts: .summary(), which reads it all)"
        parts.append(_events_table(caption, first_events))
    return _frame(*parts)
