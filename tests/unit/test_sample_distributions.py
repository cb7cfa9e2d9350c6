"""The sample looks like retail: checked on the written files, against figures chosen from
the brief (about 3% returns, a December peak, repeat customers, stockouts that happen)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from retailake.sample import SampleSpec, generate


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("clean")
    # A whole year: the December test compares it with February to October.
    spec = SampleSpec(sales_lines=40_000, seed=3, dirty_rate=0.0, start=dt.date(2025, 1, 1),
                      days=365)
    generate(spec, root)
    return root


def read_csvs(root: Path, source: str) -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
         for p in sorted((root / source).rglob("*.csv"))],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def sales(sample) -> pd.DataFrame:
    frame = read_csvs(sample, "sales")
    frame["ts"] = pd.to_datetime(frame["order_ts"])
    frame["quantity"] = frame["quantity"].astype(int)
    frame["unit_price"] = frame["unit_price"].astype(float)
    return frame


@pytest.fixture(scope="module")
def inventory(sample) -> pd.DataFrame:
    frame = pd.concat(
        [pd.read_json(p, lines=True, dtype={"snapshot_date": str})
         for p in sorted((sample / "inventory").rglob("*.jsonl"))],
        ignore_index=True,
    )
    return frame


def test_exact_line_count_and_order_shape(sales):
    assert len(sales) == 40_000
    lines = sales.groupby("order_id")["line_number"].agg(["count", "max"])
    assert (lines["count"] == lines["max"].astype(int)).all()  # lines numbered 1..n
    assert 1.6 < lines["count"].mean() < 2.4
    assert lines["count"].max() > 3


def test_about_three_percent_returns(sales):
    assert 0.02 < (sales["quantity"] < 0).mean() < 0.04


def test_december_and_weekend_uplift(sales):
    per_day = sales.groupby(sales["ts"].dt.date).size()
    per_day.index = pd.to_datetime(per_day.index)
    december = per_day[per_day.index.month == 12].mean()
    ordinary = per_day[per_day.index.month.isin(range(2, 11))].mean()
    assert december > 1.4 * ordinary
    weekend = per_day[per_day.index.dayofweek >= 5].mean()
    weekday = per_day[per_day.index.dayofweek < 4].mean()
    assert weekend > 1.2 * weekday


def test_repeat_customers_with_a_long_tail_and_anonymous_sales(sales):
    orders = sales.drop_duplicates("order_id")
    assert 0.2 < orders["customer_id"].isna().mean() < 0.45
    per_customer = orders.dropna(subset=["customer_id"]).groupby("customer_id").size()
    repeat_share = (per_customer > 1).mean()
    assert 0.3 < repeat_share < 0.8
    top = per_customer.sort_values(ascending=False)
    assert top.iloc[: len(top) // 10].sum() > 0.3 * top.sum()  # a tenth buys a third or more


def test_discounts_channels_and_defaults(sales):
    discount = sales["discount_pct"].astype(float)
    assert 0.15 < (discount > 0).mean() < 0.35
    assert discount.max() <= 1
    assert set(sales["channel"].dropna()) == {"store", "online", "mobile"}
    assert sales["channel"].isna().any() and sales["currency"].isna().any()
    web = sales["channel"].isin(["online", "mobile"])
    assert (sales.loc[web, "store_id"] == "W001").all()


def test_costs_below_prices(sales, inventory):
    price = sales.groupby("product_id")["unit_price"].first()
    cost = inventory.groupby("product_id")["unit_cost"].first()
    both = pd.concat([price, cost], axis=1, join="inner")
    assert len(both) == inventory["product_id"].nunique()
    assert (both["unit_cost"] < both["unit_price"]).all()


def test_inventory_follows_sales(sales, inventory):
    """Between two snapshots stock changes by what arrived minus what was sold: with nothing on
    order (so nothing can arrive) and the shelf not run empty, by the net units sold exactly."""
    sold = sales.assign(snapshot_date=sales["ts"].dt.strftime("%Y-%m-%d")).groupby(
        ["snapshot_date", "store_id", "product_id"])["quantity"].sum()
    stock = inventory.set_index(["store_id", "product_id", "snapshot_date"]).sort_index()
    grouped = stock.groupby(level=[0, 1])
    previous_on_hand = grouped["quantity_on_hand"].shift()
    previous_on_order = grouped["quantity_on_order"].shift()
    net = sold.reorder_levels([1, 2, 0]).reindex(stock.index, fill_value=0)
    no_arrival = (previous_on_order == 0) & (stock["quantity_on_hand"] > 0)
    expected = previous_on_hand - net
    assert no_arrival.sum() > 1000
    assert (stock.loc[no_arrival, "quantity_on_hand"] == expected[no_arrival]).all()


def test_stockouts_and_replenishment(inventory):
    assert (inventory["quantity_on_hand"] == 0).mean() > 0.005
    assert (inventory["quantity_on_hand"] >= 0).all()
    ordered = inventory["quantity_on_order"] > 0
    assert ordered.any()
    stock = inventory.sort_values(["store_id", "product_id", "snapshot_date"])
    grouped = stock.groupby(["store_id", "product_id"])
    rose = stock["quantity_on_order"] > grouped["quantity_on_order"].shift()
    # An order is placed only when stock (on hand plus on order) is at the reorder point or
    # below, so on hand alone is too.
    assert rose.sum() > 100
    assert (stock.loc[rose, "quantity_on_hand"] <= stock.loc[rose, "reorder_point"]).all()


def test_inventory_keeps_in_proportion(sample):
    manifest = json.loads((sample / "_manifest" / "seed-3.json").read_text())
    assert manifest["sources"]["inventory"]["rows"] < 10 * manifest["sources"]["sales"]["rows"]


def test_customers_look_real_and_get_updated(sample, sales):
    customers = read_csvs(sample, "customers")
    assert customers["email"].str.fullmatch(r"[a-z0-9._]+@[a-z.]+").all()
    phone_styles = customers["phone"].str.replace(r"\d", "9", regex=True).value_counts()
    assert len(phone_styles) >= 5
    countries = set(customers["country"])
    assert {"US", "USA", "United States", "U.S."} <= countries
    assert countries & {"CA", "Canada", "GB", "UK", "DE", "Germany"}
    states = set(customers["state"].dropna())
    assert {"CA", "California", "california"} <= states or {"TX", "Texas", "texas"} <= states
    assert customers["loyalty_tier"].isna().any() and customers["birth_date"].isna().any()
    first_file = sorted((sample / "customers").rglob("*.csv"))[0]
    initial = pd.read_csv(first_file, dtype=str)
    assert len(initial) > len(customers) // 2  # the full delivery on the first day
    again = customers[customers.duplicated("customer_id", keep=False)]
    changed = again.groupby("customer_id").nunique(dropna=False)
    assert len(changed) > 0 and (changed.max(axis=1) > 1).all()  # an update changes something
    buyers = set(sales["customer_id"].dropna())
    assert buyers <= set(customers["customer_id"])
    first_order = sales.dropna(subset=["customer_id"]).groupby("customer_id")["ts"].min()
    signup = pd.to_datetime(customers.drop_duplicates("customer_id").set_index("customer_id")[
        "signup_date"])
    assert (signup.reindex(first_order.index) <= first_order.dt.normalize()).all()
