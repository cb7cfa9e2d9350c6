"""Daily stock snapshots per store and product, driven by the sales: stock falls with what
was sold, rises with returns and with replenishment ordered when it drops to the reorder
point, and runs out when demand during the lead time beats the reorder point."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from retailake.sample.arrays import decimal, ints, iso_dates
from retailake.sample.catalog import Catalog
from retailake.sample.sales import Sales

MAX_LEAD_DAYS = 8


def build_inventory(
    rng: np.random.Generator, sales: Sales, catalog: Catalog, dates: list[dt.date]
) -> tuple[pa.Table, np.ndarray]:
    """The snapshot table in (date, store, product) order and the day of each row.

    One loop step per day over the whole store x product grid: days are few, cells many.
    Units sold beyond the stock on hand are back-ordered (the shelf shows 0, a stockout)."""
    days, stores, products = len(dates), len(catalog.store_ids), len(catalog.product_ids)
    cells = stores * products
    cell = sales.store * products + sales.product
    net = np.bincount(sales.day * cells + cell, weights=sales.quantity, minlength=days * cells)
    net = net.reshape(days, cells)  # units leaving the shelf (returns negative)

    daily = np.maximum(net.sum(axis=0) / days, 0.05)
    lead = rng.integers(2, MAX_LEAD_DAYS, cells)
    reorder_point = np.ceil(daily * lead * rng.uniform(0.6, 1.3, cells)).astype(np.int64) + 1
    order_up_to = reorder_point + np.ceil(daily * rng.integers(7, 21, cells)).astype(np.int64) + 2
    on_hand = np.round(order_up_to * rng.uniform(0.5, 1.0, cells)).astype(np.int64)
    arriving = np.zeros((MAX_LEAD_DAYS, cells), dtype=np.int64)  # ring buffer by arrival day
    on_order = np.zeros(cells, dtype=np.int64)
    snapshot_on_hand = np.empty((days, cells), dtype=np.int64)
    snapshot_on_order = np.empty((days, cells), dtype=np.int64)
    for day in range(days):
        received = arriving[day % MAX_LEAD_DAYS]
        on_order -= received
        on_hand = np.maximum(on_hand + received - net[day].astype(np.int64), 0)
        arriving[day % MAX_LEAD_DAYS] = 0
        short = on_hand + on_order <= reorder_point
        quantity = np.where(short, order_up_to - on_hand - on_order, 0)
        arriving[(day + lead) % MAX_LEAD_DAYS, np.arange(cells)] += quantity  # one slot per cell
        on_order += quantity
        snapshot_on_hand[day], snapshot_on_order[day] = on_hand, on_order

    store = ints(np.tile(np.repeat(np.arange(stores), products), days))
    product = np.tile(np.arange(products), stores * days)
    product_index = ints(product)
    day_of_row = np.repeat(np.arange(days), cells)
    table = pa.table(
        {
            "snapshot_date": iso_dates(dates, day_of_row),
            "store_id": catalog.store_ids.take(store),
            "product_id": catalog.product_ids.take(product_index),
            "product_name": catalog.product_names.take(product_index),
            "category": catalog.categories.take(product_index),
            "brand": catalog.brands.take(product_index),
            "quantity_on_hand": ints(snapshot_on_hand.ravel()),
            "quantity_on_order": ints(snapshot_on_order.ravel()),
            "unit_cost": decimal(catalog.cost_cents, 12, 2).take(product_index),
            "reorder_point": ints(np.tile(reorder_point, days)),
        }
    )
    return table, day_of_row
