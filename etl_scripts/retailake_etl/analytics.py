"""The analytics layer: the five tables of DESIGN.md "Derived fields and KPIs" as pure
`DataFrame -> DataFrame` functions over the staged tables, and `build_all`, which recomputes
either everything or only the months a run touched. No I/O here (see `analytics_job`).

Conventions shared by every table (where DESIGN.md leaves room):

* Money stays exact: sums of the staged, already half-up-rounded line amounts, typed
  `decimal(18,2)`, added up as whole cents (`_cents`, `_money_total`). A money quotient
  (average order value) is rounded half-up to 2 decimals.
* Ratios are doubles rounded half-up to 4 decimals, null when the denominator is 0 or null.
* A margin counts only what has a known cost: a product without one is left out of cogs,
  margin and the revenue a margin % is taken of (it would otherwise read as 100% margin).
* An order is a distinct `order_id`, whatever the sign of its lines: the sample data models a
  return as its own order, and counting it keeps monthly orders = sum of daily orders.
* `units` are positive quantities; `returned_units` = -(sum of negative quantities).
* Year and month of a row come from its date (`order_date` or `snapshot_date`).
* A product's category on a date is the product-dimension version with the latest
  `valid_from` on or before that date, or the earliest version when its history starts later
  (so a sale before the first inventory delivery still gets a category). Versions are
  contiguous, so `valid_to` / `is_current` are not needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

Month = tuple[int, int]

MONEY = "decimal(18,2)"
RATIO_DECIMALS = 4
TRAILING_DAYS = 28

MONTHLY_TABLES = (
    "daily_store_sales",
    "product_performance_monthly",
    "inventory_health_daily",
    "kpi_summary_monthly",
)
GLOBAL_TABLES = ("customer_segments",)
TABLES = MONTHLY_TABLES + GLOBAL_TABLES


def ratio(numerator: Column, denominator: Column) -> Column:
    """numerator / denominator (counts or money) rounded half-up to 4 decimals, as a double;
    null on a 0 divisor. Divided as decimals, exact to 18 places, then rounded: a quotient of
    doubles can miss a tie (11.79 / 40 is 0.29475, which rounds to 0.2948, but in doubles it
    is 0.29474999999999996, which rounds to 0.2947)."""
    exact = numerator.cast("decimal(20,2)") / denominator.cast("decimal(20,2)")
    return F.when(denominator != 0, F.round(exact, RATIO_DECIMALS).cast("double"))


def _cents(amount: Column) -> Column:
    """A money amount (2 decimals) as a whole number of cents, so sums of it are sums of
    longs: exact, and cheaper than decimal sums (a sum of decimal(18,2) is a decimal(28,2),
    past what Spark keeps in a long, so it adds BigDecimals): the order slices' aggregation
    of 10M lines took 11.0 s, not 16.7 s. A long holds 92 quadrillion dollars."""
    return (amount * 100).cast("long")


def _money_total(cents: Column) -> Column:
    """The sum of a cents column as money."""
    return (F.sum(cents).cast("decimal(18,0)") * F.lit(Decimal("0.01"))).cast(MONEY)


def _money_per(amount: Column, count: Column) -> Column:
    """A money amount per unit of `count`, rounded half-up to cents; null when count is 0."""
    return F.when(count != 0, F.round(amount / count, 2).cast(MONEY))


def _positive(quantity: Column) -> Column:
    return F.when(quantity > 0, quantity).otherwise(F.lit(0))


def _returned(quantity: Column) -> Column:
    return F.when(quantity < 0, -quantity).otherwise(F.lit(0))


def _month_key(year: Column, month: Column) -> Column:
    return year * 100 + month


def _in_months(day: Column, months: set[Month] | None) -> Column:
    """Whether a date falls in one of `months` (always true for None, i.e. all months)."""
    if months is None:
        return F.lit(True)
    keys = sorted(y * 100 + m for y, m in months)
    return _month_key(F.year(day), F.month(day)).isin(keys)


def _with_year_month(df: DataFrame, day: str) -> DataFrame:
    return df.withColumn("year", F.year(day)).withColumn("month", F.month(day))


def product_versions(products: DataFrame) -> DataFrame:
    """product_id, category and the half-open date range [start, end) each version covers; the
    first version is stretched back to the beginning of time (the fallback rule above)."""
    by_product = Window.partitionBy("product_id").orderBy("valid_from")
    valid_from = F.to_date("valid_from")
    return (
        products.select("product_id", "category", valid_from.alias("valid_from"))
        .withColumn("end", F.lead("valid_from").over(by_product))
        .withColumn("first", F.row_number().over(by_product) == 1)
        .withColumn("start", F.when(F.col("first"), F.lit(None)).otherwise(F.col("valid_from")))
        .select("product_id", "category", "start", "end")
    )


def with_category(df: DataFrame, products: DataFrame, day: str) -> DataFrame:
    """`df` plus the `category` of its `product_id` as of its `day` column (null if unknown)."""
    versions = product_versions(products).alias("v")
    on_day = F.col(f"d.{day}")
    covers = (
        (F.col("d.product_id") == F.col("v.product_id"))
        & (F.col("v.start").isNull() | (F.col("v.start") <= on_day))
        & (F.col("v.end").isNull() | (on_day < F.col("v.end")))
    )
    return df.alias("d").join(versions, covers, "left").select("d.*", F.col("v.category"))


ORDER_SLICE = ("order_id", "order_date", "store_id", "channel", "customer_id")


def order_slices(sales: DataFrame) -> DataFrame:
    """Each order's lines summed per (order_date, store_id, channel, customer_id), amounts in
    cents (`gross_cents`, `discount_cents`, `net_cents`): one row per order when its lines
    agree on those (as the sample's do), more when they differ, so a count of distinct
    orders over slices equals one over lines. The rows are clustered by
    order_id: counting distinct orders per anything then aggregates per (group, order) where
    the rows lie, and only the small per-group counts move. The daily, monthly and customer
    tables each counted distinct orders over every line instead, each moving a row per order
    (10M lines: ~5M rows, three to four times over)."""
    q = F.col("quantity")
    return (
        sales.repartition("order_id")
        .groupBy(*ORDER_SLICE)
        .agg(
            F.count(F.lit(1)).alias("lines"),
            F.sum(_positive(q)).alias("units"),
            F.sum(_returned(q)).alias("returned_units"),
            F.sum(_cents(F.col("gross_amount"))).alias("gross_cents"),
            F.sum(_cents(F.col("discount_amount"))).alias("discount_cents"),
            F.sum(_cents(F.col("net_amount"))).alias("net_cents"),
        )
    )


def daily_store_sales(slices: DataFrame, months: set[Month] | None = None) -> DataFrame:
    """Per (order_date, store_id, channel), for the BI daily views; year/month partition it.
    `slices`: `order_slices` of the sales."""
    keys = ["order_date", "store_id", "channel"]
    return _with_year_month(
        slices.where(_in_months(F.col("order_date"), months))
        .groupBy(*keys)
        .agg(
            F.countDistinct("order_id").alias("orders"),
            F.sum("lines").cast("long").alias("lines"),
            F.sum("units").cast("long").alias("units"),
            F.sum("returned_units").cast("long").alias("returned_units"),
            _money_total(F.col("gross_cents")).alias("gross_amount"),
            _money_total(F.col("discount_cents")).alias("discount_amount"),
            _money_total(F.col("net_cents")).alias("net_amount"),
        ),
        "order_date",
    ).select(
        "order_date",
        "store_id",
        "channel",
        "orders",
        "lines",
        "units",
        "returned_units",
        "gross_amount",
        "discount_amount",
        "net_amount",
        _money_per(F.col("net_amount"), F.col("orders")).alias("avg_order_value"),
        "year",
        "month",
    )


def monthly_unit_cost(snapshots: DataFrame) -> DataFrame:
    """(year, month, product_id, unit_cost): the cost at the product's last snapshot date of the
    month; when several stores have that date, the lowest store_id's cost (deterministic)."""
    per_day = snapshots.groupBy("product_id", "snapshot_date").agg(
        F.min_by("unit_cost", "store_id").alias("unit_cost")
    )
    return (
        _with_year_month(per_day, "snapshot_date")
        .groupBy("year", "month", "product_id")
        .agg(F.max_by("unit_cost", "snapshot_date").alias("unit_cost"))
    )


def product_performance_monthly(
    sales: DataFrame,
    snapshots: DataFrame,
    products: DataFrame,
    months: set[Month] | None = None,
) -> DataFrame:
    """Per (year, month, product_id) that sold or was in stock in the month.

    * `units_sold` is net of returns (sum of quantity): returned goods go back on the shelf,
      so neither their revenue (already negative in `net_revenue`) nor their cost is kept;
      `returned_units` shows the returns apart.
    * `unit_cost`: the latest snapshot on or before month end (`monthly_unit_cost`, carried
      forward from earlier months); null without any snapshot, and then cogs/margin are null.
    * `ending_on_hand`: per store its last snapshot of the product in the month, summed over
      stores (a store that missed the last day still counts); null without a snapshot.
    * `sell_through_rate = units_sold / (units_sold + ending_on_hand)`, null when the month's
      returns outnumber its sales (no share of the stock was sold: the formula would give
      2.0 for -2 units against 1 on hand); `gross_margin_pct = gross_margin / net_revenue`;
      ratios, null on a 0 denominator.
    * `category` as of month end.
    """
    q = F.col("quantity")
    sold = _with_year_month(sales.where(_in_months(F.col("order_date"), months)), "order_date")
    sold = sold.groupBy("year", "month", "product_id").agg(
        F.sum(q).cast("long").alias("units_sold"),
        F.sum(_returned(q)).cast("long").alias("returned_units"),
        _money_total(_cents(F.col("net_amount"))).alias("net_revenue"),
    )
    in_month = _with_year_month(
        snapshots.where(_in_months(F.col("snapshot_date"), months)), "snapshot_date"
    )
    ending = (
        in_month.groupBy("year", "month", "product_id", "store_id")
        .agg(F.max_by("quantity_on_hand", "snapshot_date").alias("on_hand"))
        .groupBy("year", "month", "product_id")
        .agg(F.sum("on_hand").cast("long").alias("ending_on_hand"))
    )
    keys = ["year", "month", "product_id"]
    rows = sold.join(ending, keys, "full")

    # Carry each product's last known monthly cost forward to the months it has rows in.
    costs = monthly_unit_cost(snapshots)
    by_product = (
        Window.partitionBy("product_id")
        .orderBy("year", "month")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    costed = (
        rows.select(*keys, F.lit(True).alias("wanted"))
        .join(costs, keys, "full")
        .withColumn("unit_cost", F.last("unit_cost", ignorenulls=True).over(by_product))
        .where(F.col("wanted"))
        .select(*keys, "unit_cost")
    )
    month_end = F.last_day(F.make_date("year", "month", F.lit(1)))
    out = (
        rows.join(costed, keys, "left")
        .withColumn("month_end", month_end)
        .transform(lambda df: with_category(df, products, "month_end"))
        .withColumn("units_sold", F.coalesce("units_sold", F.lit(0).cast("long")))
        .withColumn("returned_units", F.coalesce("returned_units", F.lit(0).cast("long")))
        .withColumn("net_revenue", F.coalesce("net_revenue", F.lit(0).cast(MONEY)))
        .withColumn("cogs", (F.col("units_sold") * F.col("unit_cost")).cast(MONEY))
        .withColumn("gross_margin", (F.col("net_revenue") - F.col("cogs")).cast(MONEY))
    )
    units, ending_on_hand = F.col("units_sold"), F.col("ending_on_hand")
    return out.select(
        "year",
        "month",
        "product_id",
        "category",
        "units_sold",
        "returned_units",
        "net_revenue",
        F.col("unit_cost").cast("decimal(12,2)").alias("unit_cost"),
        "cogs",
        "gross_margin",
        ratio(F.col("gross_margin"), F.col("net_revenue")).alias("gross_margin_pct"),
        "ending_on_hand",
        F.when(units >= 0, ratio(units, units + ending_on_hand)).alias("sell_through_rate"),
    )


_SEGMENT_RULES: tuple[tuple[str, str], ...] = (
    ("Champions", "r >= 4 AND f >= 4 AND m >= 4"),
    ("Loyal", "r >= 3 AND f >= 4"),
    ("Potential Loyalist", "r >= 4 AND f >= 2"),
    ("New", "r >= 4"),
    ("Need Attention", "r = 3"),
    ("At Risk", "f >= 3 OR m >= 4"),
    ("Hibernating", "true"),
)
"""RFM segment names, first matching rule wins (r, f, m are the 1-5 scores). Every score
triple matches exactly one name; only Champions and At Risk look at monetary."""


def _quintile(value: str, ascending: bool) -> Column:
    """Score 1-5 by rank among all customers: 1 + floor(5 * (rank - 1) / n), rank 1 = worst.
    Ties share the lower rank, so equal values always get equal scores (no arbitrary
    tie-break, unlike ntile, which would split a block of one-order customers)."""
    order = F.col(value).asc() if ascending else F.col(value).desc()
    rank = F.rank().over(Window.orderBy(order))
    total = F.count(F.lit(1)).over(Window.partitionBy())
    return (F.floor((rank - 1) * 5 / total) + 1).cast("int")


def customer_segments(slices: DataFrame, customers: DataFrame) -> DataFrame:
    """Per known customer (anonymous sales excluded), over all sales (their `order_slices`):
    global, not monthly.

    `as_of_date` is the latest order_date in the data (anonymous sales included);
    `recency_days` = as_of_date - the customer's last order_date; `frequency` = distinct
    orders; `monetary` = net amount (returns subtract). Scores: `_quintile`, where fewer
    recency days, more orders and more money score higher. `rfm_segment`: `_SEGMENT_RULES`.
    `age_band` and `state` come from staged customers (null when the customer is unknown).
    """
    as_of = slices.agg(F.max("order_date").alias("as_of_date"))
    known = slices.where(F.col("customer_id").isNotNull())
    per_customer = (
        known.groupBy("customer_id")
        .agg(
            F.max("order_date").alias("last_order_date"),
            F.countDistinct("order_id").alias("frequency"),
            _money_total(F.col("net_cents")).alias("monetary"),
        )
        .crossJoin(as_of)
        .withColumn("recency_days", F.datediff("as_of_date", "last_order_date"))
        .withColumn("r_score", _quintile("recency_days", ascending=False))
        .withColumn("f_score", _quintile("frequency", ascending=True))
        .withColumn("m_score", _quintile("monetary", ascending=True))
    )
    named = per_customer.withColumn("r", F.col("r_score")).withColumn("f", F.col("f_score"))
    named = named.withColumn("m", F.col("m_score"))
    (first_name, first_rule), *others = _SEGMENT_RULES
    segment = F.when(F.expr(first_rule), F.lit(first_name))
    for name, rule in others:
        segment = segment.when(F.expr(rule), F.lit(name))
    attributes = customers.select("customer_id", "age_band", "state")
    return named.join(attributes, "customer_id", "left").select(
        "customer_id",
        "as_of_date",
        "last_order_date",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        segment.alias("rfm_segment"),
        "age_band",
        "state",
    )


def inventory_health_daily(
    snapshots: DataFrame,
    sales: DataFrame,
    products: DataFrame,
    months: set[Month] | None = None,
) -> DataFrame:
    """Per (snapshot_date, store_id, category) with the category as of the snapshot date.

    * `skus`: snapshot rows (one per product); `stockout_skus`: on hand 0;
      `below_reorder_skus`: on hand strictly below a non-null reorder point.
    * `on_hand` = sum of quantity_on_hand; `inventory_value` = sum(on_hand * unit_cost).
    * `units_sold_28d`: positive quantities sold by the same store of the group's SKUs on the
      28 days ending on the snapshot date, inclusive (a window that starts before the data
      does still divides by 28).
    * `days_of_supply = on_hand / (units_sold_28d / 28)`, null when units_sold_28d is 0.
    """
    # The 28-day sums come from one running sum over each store and product's days, on the
    # snapshot rows and the daily sales together (one sort): a day's units enter the sum on
    # that day and leave it, as a negative row, 28 days later. A sliding 28-day range window
    # instead re-adds its whole frame at every row (10M lines: 19.6 s of task time), and a
    # range join would pair every snapshot with up to 28 sales days.
    stock = ("quantity_on_hand", "unit_cost", "reorder_point")
    snaps = snapshots.where(_in_months(F.col("snapshot_date"), months)).select(
        "store_id",
        "product_id",
        F.col("snapshot_date").alias("day"),
        *stock,
        F.lit(0).cast("long").alias("units"),
        F.lit(True).alias("is_snapshot"),
    )
    units = F.col("units")
    enters_and_leaves = F.explode(
        F.array(
            F.struct(F.col("day"), units),
            F.struct(F.date_add("day", TRAILING_DAYS).alias("day"), (-units).alias("units")),
        )
    )
    sold = (
        sales.where(F.col("quantity") > 0)
        .groupBy("store_id", "product_id", F.col("order_date").alias("day"))
        .agg(F.sum("quantity").cast("long").alias("units"))
        .select("store_id", "product_id", enters_and_leaves.alias("move"))
        .select(
            "store_id",
            "product_id",
            "move.day",
            *(F.lit(None).cast(f.dataType).alias(f.name) for f in snapshots.select(*stock).schema),
            "move.units",
            F.lit(False).alias("is_snapshot"),
        )
    )
    running = (
        Window.partitionBy("store_id", "product_id")
        .orderBy("day")
        .rangeBetween(Window.unboundedPreceding, Window.currentRow)
    )
    per_sku = (
        snaps.unionByName(sold)
        .withColumn("units", F.sum("units").over(running))
        .where(F.col("is_snapshot"))
        .withColumnRenamed("day", "snapshot_date")
    )
    on_hand = F.col("quantity_on_hand")
    grouped = (
        with_category(per_sku, products, "snapshot_date")
        .groupBy("snapshot_date", "store_id", "category")
        .agg(
            F.count(F.lit(1)).alias("skus"),
            F.count(F.when(on_hand == 0, True)).alias("stockout_skus"),
            F.count(F.when(on_hand < F.col("reorder_point"), True)).alias("below_reorder_skus"),
            F.sum(on_hand).cast("long").alias("on_hand"),
            _money_total(on_hand * _cents(F.col("unit_cost"))).alias("inventory_value"),
            F.sum("units").cast("long").alias("units_sold_28d"),
        )
    )
    return _with_year_month(grouped, "snapshot_date").select(
        "snapshot_date",
        "store_id",
        "category",
        "skus",
        "stockout_skus",
        ratio(F.col("stockout_skus"), F.col("skus")).alias("stockout_rate"),
        "below_reorder_skus",
        "on_hand",
        "inventory_value",
        "units_sold_28d",
        ratio(F.col("on_hand") * TRAILING_DAYS, F.col("units_sold_28d")).alias("days_of_supply"),
        "year",
        "month",
    )


def kpi_summary_monthly(
    slices: DataFrame,
    product_performance: DataFrame,
    inventory_health: DataFrame,
    months: set[Month] | None = None,
) -> DataFrame:
    """Per (year, month) with sales or snapshots; built on the two tables above so the KPIs
    agree with them.

    * `revenue` = net; `orders` = distinct orders; `avg_order_value` = revenue / orders (money).
    * `units_per_transaction` = units (positive quantities) / orders.
    * `cogs`, `gross_margin` = sums over the month's products with a known cost (null when
      none has one); `gross_margin_pct` = gross_margin / those products' net revenue. So a
      product without a cost does not count as 100% margin, and `gross_margin` is revenue -
      cogs only when every product sold has a cost.
    * `repeat_customer_rate` = known customers with more than one order in the month /
      known customers with an order in the month (anonymous sales left out).
    * `return_rate` = returned_units / units.
    * `stockout_rate` = stocked-out SKU-days / SKU-days over the month's snapshots.
    """
    in_month = _with_year_month(slices.where(_in_months(F.col("order_date"), months)), "order_date")
    keys = ["year", "month"]
    totals = in_month.groupBy(*keys).agg(
        _money_total(F.col("net_cents")).alias("revenue"),
        F.countDistinct("order_id").alias("orders"),
        F.sum("units").cast("long").alias("units"),
        F.sum("returned_units").cast("long").alias("returned_units"),
    )
    buyers = (
        in_month.where(F.col("customer_id").isNotNull())
        .groupBy(*keys, "customer_id")
        .agg(F.countDistinct("order_id").alias("n"))
        .groupBy(*keys)
        .agg(
            F.count(F.lit(1)).alias("customers"),
            F.count(F.when(F.col("n") > 1, True)).alias("repeat_customers"),
        )
    )
    performance = product_performance.where(
        _in_months(F.make_date("year", "month", F.lit(1)), months)
    )
    costed = performance.where(F.col("cogs").isNotNull()).groupBy(*keys).agg(
        F.sum("cogs").cast(MONEY).alias("cogs"),
        F.sum("gross_margin").cast(MONEY).alias("gross_margin"),
        F.sum("net_revenue").cast(MONEY).alias("costed_revenue"),
    )
    health = inventory_health.where(_in_months(F.col("snapshot_date"), months))
    stock = health.groupBy(*keys).agg(
        F.sum("stockout_skus").alias("stockout_sku_days"), F.sum("skus").alias("sku_days")
    )
    zero_long = F.lit(0).cast("long")
    out = (
        totals.join(buyers, keys, "left")
        .join(costed, keys, "full")
        .join(stock, keys, "full")
        .withColumn("revenue", F.coalesce("revenue", F.lit(0).cast(MONEY)))
    )
    for name in ("orders", "units", "returned_units", "customers", "repeat_customers"):
        out = out.withColumn(name, F.coalesce(name, zero_long))
    return out.select(
        "year",
        "month",
        "revenue",
        "orders",
        _money_per(F.col("revenue"), F.col("orders")).alias("avg_order_value"),
        "units",
        ratio(F.col("units"), F.col("orders")).alias("units_per_transaction"),
        "cogs",
        "gross_margin",
        ratio(F.col("gross_margin"), F.col("costed_revenue")).alias("gross_margin_pct"),
        "customers",
        "repeat_customers",
        ratio(F.col("repeat_customers"), F.col("customers")).alias("repeat_customer_rate"),
        "returned_units",
        ratio(F.col("returned_units"), F.col("units")).alias("return_rate"),
        ratio(F.col("stockout_sku_days"), F.col("sku_days")).alias("stockout_rate"),
    )


def _next_month(month: Month) -> Month:
    year, m = month
    return (year + 1, 1) if m == 12 else (year, m + 1)


def _previous_month(month: Month) -> Month:
    year, m = month
    return (year - 1, 12) if m == 1 else (year, m - 1)


def months_to_recompute(touched: Iterable[Month]) -> set[Month]:
    """The touched months plus each one's next month: the 28-day sales window of an early
    snapshot reaches back into the previous month. (Which months a staged change touches is
    `analytics_job.changes`'s to say.)"""
    touched = set(touched)
    return touched | {_next_month(month) for month in touched}


def _partition_key(df: DataFrame) -> Column | None:
    """yyyymm of a staged frame's year=/month= partition columns (int or zero-padded text),
    so that filters on it prune partitions at read; None for an unpartitioned frame."""
    if not {"year", "month"} <= set(df.columns):
        return None
    return _month_key(F.col("year").cast("int"), F.col("month").cast("int"))


def _partition_filter(df: DataFrame, months: set[Month]) -> DataFrame:
    """Only the partitions of `months`; the transforms filter on the dates themselves anyway."""
    key = _partition_key(df)
    return df if key is None else df.where(key.isin(sorted(y * 100 + m for y, m in months)))


def _partitions_up_to(df: DataFrame, last: Month) -> DataFrame:
    key = _partition_key(df)
    return df if key is None else df.where(key <= last[0] * 100 + last[1])


def build_all(
    sales: DataFrame,
    snapshots: DataFrame,
    products: DataFrame,
    customers: DataFrame,
    touched_months: set[Month] | None = None,
    share: Callable[[DataFrame], DataFrame] = lambda frame: frame,
) -> dict[str, DataFrame]:
    """Every analytics table, by name. `touched_months=None` is a full refresh; otherwise the
    monthly tables hold only the rows of `months_to_recompute(touched_months)` (to overwrite
    those partitions). customer_segments, being global, is always recomputed whole: call this
    only when something changed; an empty set (only customers changed) gives just it.
    `share` is applied to what several tables read (the order slices of every sale, which
    the monthly tables filter to their months): the job caches it there."""
    slices = share(order_slices(sales))
    segments = {"customer_segments": customer_segments(slices, customers)}
    months: set[Month] | None = None
    if touched_months is not None:
        if not touched_months:
            return segments
        months = months_to_recompute(touched_months)
        # Only what those months need: their sales and the previous month's (28-day window),
        # their snapshots, and for unit cost every snapshot up to the last of them.
        sales_needed = _partition_filter(sales, months | {_previous_month(m) for m in months})
        snapshots_needed = _partitions_up_to(snapshots, max(months))
    else:
        sales_needed, snapshots_needed = sales, snapshots
    performance = product_performance_monthly(sales_needed, snapshots_needed, products, months)
    health = inventory_health_daily(snapshots_needed, sales_needed, products, months)
    return {
        "daily_store_sales": daily_store_sales(slices, months),
        "product_performance_monthly": performance,
        "inventory_health_daily": health,
        "kpi_summary_monthly": kpi_summary_monthly(slices, performance, health, months),
        **segments,
    }
