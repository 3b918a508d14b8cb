"""Per-minute VWAP and trade count per exchange across many compressed barter recordings, on Dask.

    python examples/vwap.py 'recordings/*.jsonl.zst' [--scheduler tcp://scheduler:8786]

Without ``--scheduler`` it starts a LocalCluster of two worker processes on this machine. With
one, the same code runs on a cluster across machines: start ``dask scheduler`` on one and
``dask worker tcp://scheduler:8786`` on each of the others (each with barter-ffi installed and the
recordings at the same paths, as on a shared file system), and point ``--scheduler`` at it.
Prints CSV: exchange, minute, vwap, trades.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from distributed import Client, LocalCluster

from barter_ffi.dask import read_market_data


def per_minute_vwap(trades: Any) -> Any:
    """VWAP (sum of price × amount over sum of amount) and trade count per exchange and minute."""
    trades = trades.assign(minute=trades["time_exchange"].dt.floor("1min"), notional=trades["price"] * trades["amount"])
    sums = trades.groupby(["exchange", "minute"], observed=True).agg({"notional": "sum", "amount": "sum", "id": "count"})
    return sums.assign(vwap=sums["notional"] / sums["amount"]).rename(columns={"id": "trades"})[["vwap", "trades"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="recordings, or a glob of them (any shape, compressed or not)")
    parser.add_argument("--scheduler", help="a Dask scheduler's address; default: a LocalCluster here")
    args = parser.parse_args()
    paths = args.paths[0] if len(args.paths) == 1 else args.paths
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    with client:
        trades = read_market_data(paths, table="trades", columns=["time_exchange", "exchange", "id", "price", "amount"],
                                  decimals="float64")
        result = per_minute_vwap(trades).compute().sort_index()
    result.to_csv(sys.stdout)


if __name__ == "__main__":
    main()
