-- Question: Which stores sell the most, with what average basket and what share of units returned?
SELECT
    store_id,
    SUM(orders) AS orders,
    SUM(net_amount) AS net_revenue,
    ROUND(SUM(net_amount) / NULLIF(SUM(orders), 0), 2)::DECIMAL(18, 2) AS avg_order_value,
    ROUND(SUM(returned_units)::FLOAT8 / NULLIF(SUM(units), 0), 4) AS return_rate
FROM spectrum_analytics.daily_store_sales
GROUP BY store_id
ORDER BY net_revenue DESC, store_id;
