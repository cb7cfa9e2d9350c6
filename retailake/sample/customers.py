"""Customers: a full delivery on the first day, then weekly deliveries of new sign-ups and of
updates to known customers (moved house, new loyalty tier, new email or phone)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retailake.sample import people, vocab
from retailake.sample.arrays import (
    bools,
    choose,
    concat,
    ids,
    ints,
    numbers,
    pick,
    texts,
    with_nulls,
)

DELIVERY_EVERY_DAYS = 7
UPDATED_SHARE = 0.08
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class CustomerBase:
    """What sales need before the customer records exist: how often each one buys and when
    they signed up (days relative to the start; negative is before it)."""

    weights: np.ndarray
    signup_day: np.ndarray


@dataclass(frozen=True)
class Customers:
    table: pa.Table
    day: np.ndarray  # delivery day offset of each row, the file it goes to


def customer_base(rng: np.random.Generator, count: int, days: int) -> CustomerBase:
    """A long tail of buying frequency: most buy once or twice, a few come back every week."""
    weights = rng.pareto(1.3, count) + 0.05
    joined_before = rng.random(count) < 0.7
    signup = np.where(
        joined_before, -rng.integers(1, 5 * 365, count), rng.integers(0, days, count)
    )
    return CustomerBase(weights, signup)


def build_customers(
    rng: np.random.Generator,
    base: CustomerBase,
    first_order_day: np.ndarray,
    start: dt.date,
    days: int,
) -> Customers:
    count = len(base.weights)
    # People sign up at the latest when they first buy.
    signup = np.minimum(base.signup_day, first_order_day)
    table = _records(rng, count, signup, start)
    delivery_days = np.unique(np.append(np.arange(0, days, DELIVERY_EVERY_DAYS), days - 1))
    first_delivery = np.searchsorted(delivery_days, np.maximum(signup, 0))

    later = np.flatnonzero(first_delivery < len(delivery_days) - 1)
    updated = np.sort(rng.choice(later, int(len(later) * UPDATED_SHARE), replace=False))
    remaining = len(delivery_days) - 1 - first_delivery[updated]
    later_by = (rng.random(len(updated)) * remaining).astype(np.int64)
    update_delivery = first_delivery[updated] + 1 + later_by
    updates = _updated(rng, table.take(ints(updated)))

    rows = pa.concat_tables([table, updates])
    delivery = np.concatenate([first_delivery, update_delivery])
    order = np.lexsort((np.concatenate([np.arange(count), updated]), delivery))
    return Customers(rows.take(ints(order)), delivery_days[delivery[order]])


def _records(
    rng: np.random.Generator, count: int, signup: np.ndarray, start: dt.date
) -> pa.Table:
    who = people.names(rng, count)
    contact = people.contact(rng, who["first_name"], who["last_name"])
    where = people.address(rng, count)
    start_days = (start - _EPOCH).days
    age_days = (rng.normal(42, 14, count).clip(18, 88) * 365.25).astype(np.int64)
    birth = ints(start_days - age_days, np.int32).cast(pa.date32())
    tier = choose(rng, count, (0.35, 0.3, 0.2, 0.1, 0.05))
    return pa.table(
        {
            "customer_id": ids("C", np.arange(1, count + 1), 7),
            **who,
            "email": contact["email"],
            "phone": people.international(rng, where["phone_prefix"], contact["phone"]),
            **{name: where[name] for name in ("street", "city", "state", "postal_code", "country")},
            "birth_date": with_nulls(pc.cast(birth, pa.string()), rng.random(count) < 0.08),
            "signup_date": pc.cast(
                ints(start_days + signup, np.int32).cast(pa.date32()), pa.string()
            ),
            "loyalty_tier": with_nulls(pick(("", *vocab.LOYALTY_TIERS), tier), tier == 0),
        }
    )


def _updated(rng: np.random.Generator, current: pa.Table) -> pa.Table:
    """One change per updated customer: a move, a tier upgrade, a new email or a new phone."""
    n = current.num_rows
    change = choose(rng, n, (0.45, 0.3, 0.15, 0.1))
    moved = people.address(rng, n)
    columns = {name: current[name].combine_chunks() for name in current.column_names}
    for name in ("street", "city", "state", "postal_code", "country"):
        columns[name] = pc.if_else(bools(change == 0), moved[name], columns[name])
    # A tier review: none -> Bronze, then one step up; Platinum members who spent less drop to Gold.
    tiers = texts([*vocab.LOYALTY_TIERS, vocab.LOYALTY_TIERS[-2]])
    rank = numbers(pc.index_in(columns["loyalty_tier"], texts(vocab.LOYALTY_TIERS)), missing=-1)
    reviewed = tiers.take(ints(rank + 1))
    columns["loyalty_tier"] = pc.if_else(bools(change == 1), reviewed, columns["loyalty_tier"])
    # A new email: same name, another provider.
    domains = texts(vocab.EMAIL_DOMAINS)
    parts = pc.extract_regex(columns["email"], r"^(?P<local>[^@]*)@(?P<domain>.*)$")
    domain = pc.index_in(parts.field("domain"), domains)
    other = (numbers(domain) + rng.integers(1, len(domains), n)) % len(domains)
    new_email = concat(parts.field("local"), "@", domains.take(ints(other)))
    columns["email"] = pc.if_else(bools(change == 2), new_email, columns["email"])
    renewed = people.contact(rng, columns["first_name"], columns["last_name"])
    prefix = pc.utf8_slice_codeunits(columns["phone"], 0, 3)
    abroad = pc.is_in(prefix, texts(["+44", "+49"]))
    prefix = pc.if_else(abroad, prefix, pa.nulls(n, pa.string()))
    phone = people.international(rng, prefix, renewed["phone"])
    columns["phone"] = pc.if_else(bools(change == 3), phone, columns["phone"])
    return pa.table(columns)
