"""Sales lines: orders of several lines over the sample's days, with weekday and December
peaks, a long tail of repeat customers, anonymous walk-ins, discounts and about 3% returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retailake.sample.arrays import (
    choose,
    choose_sorted,
    clock_bytes,
    date_bytes,
    decimal,
    fixed,
    id_bytes,
    ints,
    pick,
    share_draws,
    with_nulls,
)
from retailake.sample.catalog import Catalog

WEEKDAY_FACTORS = (0.85, 0.85, 0.9, 0.95, 1.1, 1.35, 1.2)  # Monday .. Sunday
MONTH_FACTORS = {1: 0.85, 11: 1.15, 12: 1.7}
CHANNELS = ("store", "online", "mobile")
CHANNEL_SHARES = (0.68, 0.22, 0.10)
ANONYMOUS_SHARE = (0.45, 0.03, 0.0)  # per channel: walk-ins pay without a loyalty card
RETURN_ORDER_SHARE = 0.03
QUANTITIES = (1, 2, 3, 4, 5, 6)
QUANTITY_SHARES = (0.72, 0.18, 0.06, 0.025, 0.01, 0.005)
DISCOUNTS_BP = (500, 1000, 1500, 2000, 2500, 3000, 4000, 5000)  # basis points of 1
DISCOUNT_SHARES = (0.2, 0.25, 0.15, 0.15, 0.1, 0.08, 0.04, 0.03)


@dataclass(frozen=True)
class Sales:
    """The sales table in time order, plus what inventory and customers derive from it."""

    table: pa.Table
    day: np.ndarray  # day offset of each line, the file it goes to
    store: np.ndarray
    product: np.ndarray
    quantity: np.ndarray
    first_order_day: np.ndarray  # per customer, days; a large value when it never ordered


def day_weights(dates: list[dt.date]) -> np.ndarray:
    """Relative order volume per day: weekday rhythm, a slow January, the holiday season."""
    weekday = np.array([WEEKDAY_FACTORS[d.weekday()] for d in dates])
    month = np.array([MONTH_FACTORS.get(d.month, 1.0) for d in dates])
    return weekday * month


def build_sales(
    rng: np.random.Generator,
    lines: int,
    dates: list[dt.date],
    catalog: Catalog,
    customer_weights: np.ndarray,
) -> Sales:
    # Orders of 1..8 lines (mean 1.99), trimmed so the lines add up exactly: one draw almost
    # always suffices.
    per_order = np.minimum(rng.geometric(0.5, int(lines / 1.99 + 4 * lines**0.5) + 64), 8)
    while per_order.sum() < lines:
        per_order = np.concatenate([per_order, np.minimum(rng.geometric(0.5, lines // 8 + 64), 8)])
    ends = np.cumsum(per_order)
    orders = int(np.searchsorted(ends, lines)) + 1
    per_order = per_order[:orders]
    per_order[-1] -= ends[orders - 1] - lines
    ends = np.cumsum(per_order)

    day = choose_sorted(rng, orders, day_weights(dates))
    channel = share_draws(rng, orders, CHANNEL_SHARES)
    store_hour = rng.normal(14.5, 3.0, orders).clip(8, 20.99)
    online_hour = rng.normal(15, 6.0, orders) % 24
    seconds = (np.where(channel == 0, store_hour, online_hour) * 3600).astype(np.int64)
    # Time order (order ids then follow the clock): one sort of (day, second, channel) packed
    # in an integer; equal keys are interchangeable orders.
    key = np.sort((day * 86_400 + seconds) * len(CHANNELS) + channel)
    clock, channel = np.divmod(key, len(CHANNELS))
    day, seconds = np.divmod(clock, 86_400)
    store = np.where(
        channel == 0, choose(rng, orders, catalog.store_weights), catalog.web_store
    )
    anonymous = rng.random(orders) < np.array(ANONYMOUS_SHARE)[channel]
    customer = np.where(anonymous, -1, choose(rng, orders, customer_weights))
    is_return = rng.random(orders) < RETURN_ORDER_SHARE
    unnamed = (channel == 0) & (rng.random(orders) < 0.04)  # the default, store, left out

    # Lines: each repeats its order's attributes.
    of = np.repeat(np.arange(orders), per_order)
    line_number = np.arange(1, lines + 1) - np.repeat(ends - per_order, per_order)
    line_day = day[of]
    product = choose(rng, lines, catalog.popularity)
    quantity = np.take(QUANTITIES, share_draws(rng, lines, QUANTITY_SHARES))
    quantity = np.where(is_return[of], -quantity, quantity)
    december = np.array([d.month == 12 for d in dates])[line_day]
    discounted = rng.random(lines) < np.where(december, 0.4, 0.22)
    discount = np.zeros(lines, dtype=np.int64)  # 0 for none, else 1 + index into DISCOUNTS_BP
    discount[discounted] = 1 + share_draws(rng, int(np.count_nonzero(discounted)), DISCOUNT_SHARES)
    no_discount = ~discounted & (rng.random(lines) < 0.3)
    no_currency = rng.random(lines) < 0.08

    # Text as bytes matrices: per order (then repeated per line) or per customer (then
    # gathered), from integer arithmetic; no string formatting per value.
    stamp = np.empty((orders, 19), dtype=np.uint8)
    stamp[:, :10] = np.take(date_bytes(dates), day, axis=0)
    stamp[:, 10] = ord("T")
    stamp[:, 11:] = np.take(clock_bytes(), seconds, axis=0)
    order_ids = id_bytes("O", np.arange(1, orders + 1), 9)
    customer_ids = id_bytes("C", np.arange(1, len(customer_weights) + 1), 7)
    line_store, line_customer = store[of], customer[of]
    named = line_customer >= 0
    usd = np.frombuffer(b"USD", np.uint8)
    table = pa.table(
        {
            "order_id": fixed(np.repeat(order_ids, per_order, axis=0)),
            "line_number": ints(line_number),
            "order_ts": fixed(np.repeat(stamp, per_order, axis=0)),
            "store_id": catalog.store_ids.take(ints(line_store)),
            "channel": with_nulls(pick(CHANNELS, channel[of]), unnamed[of]),
            "customer_id": fixed(np.take(customer_ids, line_customer * named, axis=0), named),
            "product_id": catalog.product_ids.take(ints(product)),
            "quantity": ints(quantity),
            "unit_price": decimal(catalog.price_cents, 12, 2).take(ints(product)),
            "discount_pct": with_nulls(
                decimal(np.array((0, *DISCOUNTS_BP)), 5, 4).take(ints(discount)), no_discount
            ),
            "currency": fixed(np.broadcast_to(usd, (lines, 3)), ~no_currency),
        }
    )
    first_order = np.full(len(customer_weights), np.iinfo(np.int64).max)
    known = customer >= 0
    np.minimum.at(first_order, customer[known], day[known])
    return Sales(table, line_day, line_store, product, quantity, first_order)
