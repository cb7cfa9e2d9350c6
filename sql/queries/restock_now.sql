-- Question: Which store and category pairs need restocking today, worst first?
SELECT store_id, category, alert, stockout_skus, below_reorder_skus, days_of_supply, snapshot_date
FROM retail_bi.inventory_alerts
ORDER BY stockout_skus DESC, below_reorder_skus DESC, NVL(days_of_supply, 0), store_id, category;
