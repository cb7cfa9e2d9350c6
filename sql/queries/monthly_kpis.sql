-- Question: How did revenue, orders, basket, margin, loyalty, returns and stockouts move month by month?
SELECT
    year, month, revenue, revenue_growth, orders, avg_order_value, gross_margin_pct,
    repeat_customer_rate, return_rate, stockout_rate
FROM retail_bi.monthly_kpis
ORDER BY year, month;
