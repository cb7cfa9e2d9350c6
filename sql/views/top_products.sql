-- Products over the whole history, ranked by net revenue, with their latest category.
CREATE OR REPLACE VIEW retail_bi.top_products AS
WITH latest AS (
    SELECT
        product_id,
        category,
        ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY year DESC, month DESC) AS recency
    FROM spectrum_analytics.product_performance_monthly
),
totals AS (
    SELECT
        product_id,
        SUM(units_sold) AS units_sold,
        SUM(net_revenue) AS net_revenue,
        SUM(cogs) AS cogs,
        SUM(gross_margin) AS gross_margin,
        -- a margin % over the months with a known cost only, as the monthly tables take it
        SUM(CASE WHEN cogs IS NOT NULL THEN net_revenue END) AS costed_revenue
    FROM spectrum_analytics.product_performance_monthly
    GROUP BY product_id
)
SELECT
    RANK() OVER (ORDER BY t.net_revenue DESC) AS revenue_rank,
    t.product_id,
    l.category,
    t.units_sold,
    t.net_revenue,
    t.cogs,
    t.gross_margin,
    ROUND(t.gross_margin::FLOAT8 / NULLIF(t.costed_revenue, 0), 4) AS gross_margin_pct
FROM totals AS t
JOIN latest AS l ON l.product_id = t.product_id AND l.recency = 1
WITH NO SCHEMA BINDING;
