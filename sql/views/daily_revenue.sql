-- Daily revenue across every store and channel: the trend line of a sales dashboard.
CREATE OR REPLACE VIEW retail_bi.daily_revenue AS
SELECT
    order_date,
    SUM(orders) AS orders,
    SUM(units) AS units,
    SUM(returned_units) AS returned_units,
    SUM(gross_amount) AS gross_amount,
    SUM(discount_amount) AS discount_amount,
    SUM(net_amount) AS net_revenue,
    ROUND(SUM(net_amount) / NULLIF(SUM(orders), 0), 2)::DECIMAL(18, 2) AS avg_order_value
FROM spectrum_analytics.daily_store_sales
GROUP BY order_date
WITH NO SCHEMA BINDING;
