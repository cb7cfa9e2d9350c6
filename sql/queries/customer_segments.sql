-- Question: How many customers does each RFM segment hold, and how much are they worth?
SELECT rfm_segment, customers, customer_share, avg_recency_days, avg_orders, monetary, avg_monetary
FROM retail_bi.customer_segments
ORDER BY monetary DESC, rfm_segment;
