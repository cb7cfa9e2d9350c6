-- Question: How does each month's net revenue split across the store, online and mobile channels?
WITH per_channel AS (
    SELECT year::INT AS year, month::INT AS month, channel, SUM(net_amount) AS net_revenue
    FROM spectrum_analytics.daily_store_sales
    GROUP BY 1, 2, 3
)
SELECT
    year,
    month,
    channel,
    net_revenue,
    ROUND(net_revenue::FLOAT8 / SUM(net_revenue) OVER (PARTITION BY year, month), 4) AS revenue_share
FROM per_channel
ORDER BY year, month, channel;
