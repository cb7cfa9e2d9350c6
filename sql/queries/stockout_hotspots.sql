-- Question: In the latest month, which store and category pairs were out of stock most often?
WITH last_month AS (
    SELECT MAX(year || month) AS year_month FROM spectrum_analytics.inventory_health_daily
)
SELECT
    h.store_id,
    h.category,
    SUM(h.stockout_skus) AS stockout_sku_days,
    SUM(h.skus) AS sku_days,
    ROUND(SUM(h.stockout_skus)::FLOAT8 / NULLIF(SUM(h.skus), 0), 4) AS stockout_rate
FROM spectrum_analytics.inventory_health_daily AS h
JOIN last_month AS m ON h.year || h.month = m.year_month
GROUP BY h.store_id, h.category
HAVING SUM(h.stockout_skus) > 0
ORDER BY stockout_rate DESC, h.store_id, h.category
LIMIT 10;
