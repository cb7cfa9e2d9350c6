-- Customers per RFM segment: size, share, and what the segment is worth.
CREATE OR REPLACE VIEW retail_bi.customer_segments AS
SELECT
    rfm_segment,
    COUNT(*) AS customers,
    ROUND(COUNT(*)::FLOAT8 / SUM(COUNT(*)) OVER (), 4) AS customer_share,
    ROUND(AVG(recency_days::FLOAT8), 1) AS avg_recency_days,
    ROUND(AVG(frequency::FLOAT8), 2) AS avg_orders,
    SUM(monetary) AS monetary,
    ROUND(SUM(monetary) / COUNT(*), 2)::DECIMAL(18, 2) AS avg_monetary
FROM spectrum_analytics.customer_segments
GROUP BY rfm_segment
WITH NO SCHEMA BINDING;
