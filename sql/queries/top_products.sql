-- Question: Which ten products brought in the most net revenue, and at what gross margin?
SELECT revenue_rank, product_id, category, units_sold, net_revenue, gross_margin, gross_margin_pct
FROM retail_bi.top_products
WHERE revenue_rank <= 10
ORDER BY revenue_rank, product_id;
