-- The headline KPIs per month, with revenue growth on the month before.
CREATE OR REPLACE VIEW retail_bi.monthly_kpis AS
SELECT
    year::INT AS year,
    month::INT AS month,
    revenue,
    orders,
    avg_order_value,
    units_per_transaction,
    gross_margin_pct,
    repeat_customer_rate,
    return_rate,
    stockout_rate,
    ROUND(
        (revenue - LAG(revenue) OVER (ORDER BY year, month))::FLOAT8
        / NULLIF(LAG(revenue) OVER (ORDER BY year, month), 0),
        4
    ) AS revenue_growth
FROM spectrum_analytics.kpi_summary_monthly
WITH NO SCHEMA BINDING;
