"""The pipeline's transforms in DuckDB, over local files: the reference `bench_pipeline.py`
times the Glue jobs against.

Same inputs (the raw CSV / JSON-lines files of a seed), same work: type and check every row
against the contract (failing rows written aside with a reason), drop duplicate keys, derive
the line amounts, version the products, pseudonymise customers (SHA-256 of key + value standing
in for the HMAC), write the staged tables as Parquet partitioned by year and month, then the
five analytics tables. It is a timing reference, not a second implementation to trust: the
pipeline's correctness is checked by the tests against an independent oracle.

Run alone: python bench/duckdb_reference.py RAW_DIR OUT_DIR"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb

SALES = """
CREATE TABLE sales_typed AS
SELECT filename AS source_file,
       NULLIF(trim(order_id), '') AS order_id,
       TRY_CAST(line_number AS INTEGER) AS line_number,
       TRY_CAST(order_ts AS TIMESTAMPTZ) AS order_ts,
       NULLIF(trim(store_id), '') AS store_id,
       COALESCE(NULLIF(lower(trim(channel)), ''), 'store') AS channel,
       NULLIF(trim(customer_id), '') AS customer_id,
       NULLIF(trim(product_id), '') AS product_id,
       TRY_CAST(quantity AS INTEGER) AS quantity,
       TRY_CAST(unit_price AS DECIMAL(12, 2)) AS unit_price,
       COALESCE(TRY_CAST(NULLIF(trim(discount_pct), '') AS DECIMAL(5, 4)), 0) AS discount_pct,
       COALESCE(NULLIF(upper(trim(currency)), ''), 'USD') AS currency
FROM read_csv('{raw}/sales/*/*.csv', all_varchar = true, header = true, filename = true,
              union_by_name = true, ignore_errors = true);

CREATE TABLE sales_checked AS
SELECT *, CASE
    WHEN order_id IS NULL THEN 'MISSING_ORDER_ID'
    WHEN line_number IS NULL OR line_number < 1 THEN 'BAD_LINE_NUMBER'
    WHEN order_ts IS NULL THEN 'BAD_ORDER_TS'
    WHEN store_id IS NULL THEN 'MISSING_STORE_ID'
    WHEN product_id IS NULL THEN 'MISSING_PRODUCT_ID'
    WHEN channel NOT IN ('store', 'online', 'mobile') THEN 'BAD_CHANNEL'
    WHEN quantity IS NULL OR quantity = 0 THEN 'BAD_QUANTITY'
    WHEN unit_price IS NULL OR unit_price < 0 THEN 'BAD_UNIT_PRICE'
    WHEN discount_pct < 0 OR discount_pct > 1 THEN 'BAD_DISCOUNT'
  END AS reason
FROM sales_typed;

COPY (SELECT * FROM sales_checked WHERE reason IS NOT NULL)
  TO '{out}/staged/_rejects/sales.parquet' (FORMAT parquet);

CREATE TABLE sales AS
SELECT order_id, line_number, order_ts, store_id, channel, customer_id, product_id, quantity,
       unit_price, discount_pct, currency, gross_amount,
       round(gross_amount * discount_pct, 2) AS discount_amount,
       gross_amount - round(gross_amount * discount_pct, 2) AS net_amount,
       CAST(timezone('UTC', order_ts) AS DATE) AS order_date, quantity < 0 AS is_return,
       year(CAST(timezone('UTC', order_ts) AS DATE)) AS year,
       month(CAST(timezone('UTC', order_ts) AS DATE)) AS month
FROM (
  SELECT *, CAST(quantity * unit_price AS DECIMAL(18, 2)) AS gross_amount,
         row_number() OVER (PARTITION BY order_id, line_number ORDER BY source_file) AS copy
  FROM sales_checked WHERE reason IS NULL
) WHERE copy = 1;

COPY sales TO '{out}/staged/sales' (FORMAT parquet, PARTITION_BY (year, month));
"""

INVENTORY = """
CREATE TABLE inventory_typed AS
SELECT filename AS source_file,
       TRY_CAST(snapshot_date AS DATE) AS snapshot_date,
       NULLIF(trim(store_id), '') AS store_id, NULLIF(trim(product_id), '') AS product_id,
       NULLIF(trim(product_name), '') AS product_name, NULLIF(trim(category), '') AS category,
       NULLIF(trim(brand), '') AS brand,
       TRY_CAST(quantity_on_hand AS BIGINT) AS quantity_on_hand,
       COALESCE(TRY_CAST(quantity_on_order AS BIGINT), 0) AS quantity_on_order,
       TRY_CAST(unit_cost AS DECIMAL(12, 2)) AS unit_cost,
       TRY_CAST(reorder_point AS BIGINT) AS reorder_point
FROM read_json('{raw}/inventory/*/*.jsonl', format = 'newline_delimited', filename = true,
               union_by_name = true, ignore_errors = true, columns = {{
                 snapshot_date: 'VARCHAR', store_id: 'VARCHAR', product_id: 'VARCHAR',
                 product_name: 'VARCHAR', category: 'VARCHAR', brand: 'VARCHAR',
                 quantity_on_hand: 'VARCHAR', quantity_on_order: 'VARCHAR',
                 unit_cost: 'VARCHAR', reorder_point: 'VARCHAR'}});

CREATE TABLE inventory_checked AS
SELECT *, CASE
    WHEN snapshot_date IS NULL THEN 'BAD_SNAPSHOT_DATE'
    WHEN store_id IS NULL OR product_id IS NULL THEN 'MISSING_KEY'
    WHEN product_name IS NULL OR category IS NULL THEN 'MISSING_PRODUCT_ATTRIBUTE'
    WHEN quantity_on_hand IS NULL OR quantity_on_hand < 0 THEN 'BAD_QUANTITY_ON_HAND'
    WHEN quantity_on_order < 0 THEN 'BAD_QUANTITY_ON_ORDER'
    WHEN unit_cost IS NULL OR unit_cost < 0 THEN 'BAD_UNIT_COST'
    WHEN reorder_point < 0 THEN 'BAD_REORDER_POINT'
  END AS reason
FROM inventory_typed;

COPY (SELECT * FROM inventory_checked WHERE reason IS NOT NULL)
  TO '{out}/staged/_rejects/inventory.parquet' (FORMAT parquet);

CREATE TABLE snapshots AS
SELECT * EXCLUDE (copy, reason, source_file),
       year(snapshot_date) AS year, month(snapshot_date) AS month
FROM (SELECT *, row_number() OVER (PARTITION BY snapshot_date, store_id, product_id
                                   ORDER BY source_file) AS copy
      FROM inventory_checked WHERE reason IS NULL)
WHERE copy = 1;

COPY snapshots TO '{out}/staged/inventory_snapshots' (FORMAT parquet, PARTITION_BY (year, month));

CREATE TABLE products AS
WITH daily AS (
  SELECT product_id, snapshot_date, arg_min(product_name, store_id) AS product_name,
         arg_min(category, store_id) AS category, arg_min(brand, store_id) AS brand,
         arg_min(unit_cost, store_id) AS unit_cost
  FROM snapshots GROUP BY product_id, snapshot_date
), changes AS (
  SELECT *, (product_name, category, brand, unit_cost) IS DISTINCT FROM
            lag((product_name, category, brand, unit_cost))
              OVER (PARTITION BY product_id ORDER BY snapshot_date) AS changed
  FROM daily
)
SELECT product_id, product_name, category, brand, unit_cost, snapshot_date AS valid_from,
       lead(snapshot_date) OVER (PARTITION BY product_id ORDER BY snapshot_date) AS valid_to,
       valid_to IS NULL AS is_current
FROM changes WHERE changed;

COPY products TO '{out}/staged/products.parquet' (FORMAT parquet);
"""

CUSTOMERS = """
CREATE TABLE customers AS
SELECT customer_id,
       sha256(customer_id || '|' || lower(trim(email))) AS email_hash,
       sha256(customer_id || '|' || regexp_replace(phone, '[^0-9]', '', 'g')) AS phone_hash,
       trim(city) AS city, upper(trim(state)) AS state, trim(postal_code) AS postal_code,
       CASE WHEN upper(replace(trim(country), '.', '')) IN ('US', 'USA', 'UNITED STATES')
            THEN 'US' ELSE upper(trim(country)) END AS country,
       CASE WHEN birth IS NULL THEN NULL
            WHEN date_diff('year', birth, current_date) < 25 THEN '18-24'
            WHEN date_diff('year', birth, current_date) < 35 THEN '25-34'
            WHEN date_diff('year', birth, current_date) < 45 THEN '35-44'
            WHEN date_diff('year', birth, current_date) < 55 THEN '45-54'
            WHEN date_diff('year', birth, current_date) < 65 THEN '55-64'
            ELSE '65+' END AS age_band,
       date_diff('month', signup, current_date) AS tenure_months,
       NULLIF(trim(loyalty_tier), '') AS loyalty_tier
FROM (
  SELECT *, TRY_CAST(birth_date AS DATE) AS birth, TRY_CAST(signup_date AS DATE) AS signup,
         row_number() OVER (PARTITION BY customer_id ORDER BY filename DESC) AS copy
  FROM read_csv('{raw}/customers/*/*.csv', all_varchar = true, header = true, filename = true,
                union_by_name = true, ignore_errors = true)
  WHERE NULLIF(trim(customer_id), '') IS NOT NULL
) WHERE copy = 1;

COPY customers TO '{out}/staged/customers.parquet' (FORMAT parquet);
"""

ANALYTICS = """
COPY (
  SELECT order_date, store_id, channel, count(DISTINCT order_id) AS orders, count(*) AS lines,
         sum(greatest(quantity, 0)) AS units, -sum(least(quantity, 0)) AS returned_units,
         sum(gross_amount) AS gross_amount, sum(discount_amount) AS discount_amount,
         sum(net_amount) AS net_amount,
         round(sum(net_amount) / count(DISTINCT order_id), 2) AS avg_order_value,
         year(order_date) AS year, month(order_date) AS month
  FROM sales GROUP BY order_date, store_id, channel
) TO '{out}/analytics/daily_store_sales' (FORMAT parquet, PARTITION_BY (year, month));

CREATE TABLE monthly_product AS
WITH sold AS (
  SELECT year, month, product_id, sum(quantity) AS units_sold,
         -sum(least(quantity, 0)) AS returned_units, sum(net_amount) AS net_revenue
  FROM sales GROUP BY ALL
), stock AS (
  SELECT year, month, product_id, sum(quantity_on_hand) AS ending_on_hand
  FROM (SELECT *, row_number() OVER (PARTITION BY year, month, store_id, product_id
                                     ORDER BY snapshot_date DESC) AS latest FROM snapshots)
  WHERE latest = 1 GROUP BY ALL
), keys AS (
  SELECT year, month, product_id FROM sold UNION SELECT year, month, product_id FROM stock
), costed AS (
  SELECT k.*, last_day(make_date(k.year, k.month, 1)) AS month_end FROM keys k
)
SELECT c.year, c.month, c.product_id, p.category, COALESCE(s.units_sold, 0) AS units_sold,
       COALESCE(s.returned_units, 0) AS returned_units,
       COALESCE(s.net_revenue, 0) AS net_revenue, cost.unit_cost,
       COALESCE(s.units_sold, 0) * cost.unit_cost AS cogs,
       COALESCE(s.net_revenue, 0) - COALESCE(s.units_sold, 0) * cost.unit_cost AS gross_margin,
       st.ending_on_hand
FROM costed c
LEFT JOIN sold s USING (year, month, product_id)
LEFT JOIN stock st USING (year, month, product_id)
ASOF LEFT JOIN (SELECT product_id, snapshot_date, min(unit_cost) AS unit_cost
                FROM snapshots GROUP BY ALL) cost
  ON c.product_id = cost.product_id AND c.month_end >= cost.snapshot_date
ASOF LEFT JOIN products p ON c.product_id = p.product_id AND c.month_end >= p.valid_from;

COPY (
  SELECT *, round(gross_margin / NULLIF(net_revenue, 0), 4) AS gross_margin_pct,
         round(units_sold / NULLIF(units_sold + ending_on_hand, 0), 4) AS sell_through_rate
  FROM monthly_product
) TO '{out}/analytics/product_performance_monthly' (FORMAT parquet);

COPY (
  WITH rfm AS (
    SELECT customer_id, max(order_date) AS last_order_date,
           (SELECT max(order_date) FROM sales) AS as_of_date,
           count(DISTINCT order_id) AS frequency, sum(net_amount) AS monetary
    FROM sales WHERE customer_id IS NOT NULL GROUP BY customer_id
  ), scored AS (
    SELECT *, date_diff('day', last_order_date, as_of_date) AS recency_days,
           1 + floor(5 * (rank() OVER (ORDER BY date_diff('day', last_order_date, as_of_date)
                                       DESC) - 1) / count(*) OVER ()) AS r_score,
           1 + floor(5 * (rank() OVER (ORDER BY frequency) - 1) / count(*) OVER ()) AS f_score,
           1 + floor(5 * (rank() OVER (ORDER BY monetary) - 1) / count(*) OVER ()) AS m_score
    FROM rfm
  )
  SELECT s.*, CASE
      WHEN r_score >= 4 AND f_score >= 4 AND m_score >= 4 THEN 'Champions'
      WHEN r_score >= 4 AND f_score >= 4 THEN 'Loyal'
      WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential Loyalist'
      WHEN r_score >= 4 THEN 'New'
      WHEN r_score = 3 AND f_score >= 4 THEN 'Loyal'
      WHEN r_score = 3 THEN 'Need Attention'
      WHEN f_score >= 3 OR m_score >= 4 THEN 'At Risk'
      ELSE 'Hibernating' END AS rfm_segment, c.age_band, c.state
  FROM scored s LEFT JOIN customers c USING (customer_id)
) TO '{out}/analytics/customer_segments' (FORMAT parquet);

CREATE TABLE health AS
WITH sold_daily AS (
  SELECT store_id, product_id, order_date AS day, sum(quantity) AS units
  FROM sales WHERE quantity > 0 GROUP BY ALL
), sold_28d AS (
  SELECT n.snapshot_date, n.store_id, n.product_id, COALESCE(sum(d.units), 0) AS units_28d
  FROM snapshots n LEFT JOIN sold_daily d
    ON d.store_id = n.store_id AND d.product_id = n.product_id
   AND d.day BETWEEN n.snapshot_date - INTERVAL 27 DAY AND n.snapshot_date
  GROUP BY ALL
)
SELECT n.snapshot_date, n.store_id, p.category, count(*) AS skus,
       count(*) FILTER (WHERE n.quantity_on_hand = 0) AS stockout_skus,
       count(*) FILTER (WHERE n.quantity_on_hand < n.reorder_point) AS below_reorder_skus,
       sum(n.quantity_on_hand) AS on_hand,
       sum(n.quantity_on_hand * n.unit_cost) AS inventory_value,
       sum(s.units_28d) AS units_sold_28d,
       year(n.snapshot_date) AS year, month(n.snapshot_date) AS month
FROM snapshots n
JOIN sold_28d s USING (snapshot_date, store_id, product_id)
ASOF LEFT JOIN products p ON n.product_id = p.product_id AND n.snapshot_date >= p.valid_from
GROUP BY n.snapshot_date, n.store_id, p.category;

COPY (
  SELECT *, round(stockout_skus / skus, 4) AS stockout_rate,
         round(on_hand * 28 / NULLIF(units_sold_28d, 0), 4) AS days_of_supply
  FROM health
) TO '{out}/analytics/inventory_health_daily' (FORMAT parquet, PARTITION_BY (year, month));

COPY (
  WITH lines AS (
    SELECT year, month, sum(net_amount) AS revenue, count(DISTINCT order_id) AS orders,
           sum(greatest(quantity, 0)) AS units, -sum(least(quantity, 0)) AS returned_units
    FROM sales GROUP BY ALL
  ), buyers AS (
    SELECT year, month, count(*) AS customers, count(*) FILTER (WHERE placed > 1) AS repeaters
    FROM (SELECT year, month, customer_id, count(DISTINCT order_id) AS placed
          FROM sales WHERE customer_id IS NOT NULL GROUP BY ALL)
    GROUP BY ALL
  ), margin AS (
    SELECT year, month, sum(cogs) AS cogs FROM monthly_product GROUP BY ALL
  ), stock AS (
    SELECT year, month, sum(stockout_skus) / sum(skus) AS stockout_rate FROM health GROUP BY ALL
  )
  SELECT l.year, l.month, l.revenue, l.orders, round(l.revenue / l.orders, 2) AS avg_order_value,
         l.units, round(l.units / l.orders, 4) AS units_per_transaction, m.cogs,
         l.revenue - m.cogs AS gross_margin,
         round((l.revenue - m.cogs) / NULLIF(l.revenue, 0), 4) AS gross_margin_pct,
         b.customers, b.repeaters AS repeat_customers,
         round(b.repeaters / b.customers, 4) AS repeat_customer_rate, l.returned_units,
         round(l.returned_units / NULLIF(l.units, 0), 4) AS return_rate,
         round(st.stockout_rate, 4) AS stockout_rate
  FROM lines l LEFT JOIN buyers b USING (year, month) LEFT JOIN margin m USING (year, month)
  LEFT JOIN stock st USING (year, month)
) TO '{out}/analytics/kpi_summary_monthly' (FORMAT parquet);
"""

STEPS = {"sales": SALES, "inventory": INVENTORY, "customers": CUSTOMERS, "analytics": ANALYTICS}


def run(raw: Path, out: Path) -> dict[str, float]:
    """Every step, in pipeline order, in one in-memory DuckDB; seconds per step."""
    for folder in ("staged/_rejects", "analytics"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = false")  # the bench prints its own lines
    seconds = {}
    for step, sql in STEPS.items():
        started = time.perf_counter()
        connection.execute(sql.format(raw=raw.as_posix(), out=out.as_posix()))
        seconds[step] = time.perf_counter() - started
    connection.close()
    return seconds


if __name__ == "__main__":
    figures = run(Path(sys.argv[1]), Path(sys.argv[2]))
    print({step: round(value, 2) for step, value in figures.items()})
