-- Store and category pairs that need attention on each store's latest snapshot day:
-- stocked-out SKUs, SKUs below their reorder point, or less than a week of cover.
CREATE OR REPLACE VIEW retail_bi.inventory_alerts AS
WITH latest AS (
    SELECT store_id, MAX(snapshot_date) AS snapshot_date
    FROM spectrum_analytics.inventory_health_daily
    GROUP BY store_id
)
SELECT
    h.snapshot_date,
    h.store_id,
    h.category,
    h.skus,
    h.stockout_skus,
    h.below_reorder_skus,
    h.on_hand,
    h.days_of_supply,
    CASE
        WHEN h.stockout_skus > 0 THEN 'stockout'
        WHEN h.below_reorder_skus > 0 THEN 'below reorder point'
        ELSE 'under 7 days of supply'
    END AS alert
FROM spectrum_analytics.inventory_health_daily AS h
JOIN latest AS l ON l.store_id = h.store_id AND l.snapshot_date = h.snapshot_date
WHERE h.stockout_skus > 0 OR h.below_reorder_skus > 0 OR h.days_of_supply < 7
WITH NO SCHEMA BINDING;
