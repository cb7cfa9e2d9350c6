-- Question: Which day of the week brings the most orders and revenue?
SELECT
    DATE_PART(dow, order_date)::INT AS day_of_week,
    DECODE(
        DATE_PART(dow, order_date)::INT,
        0, 'Sun', 1, 'Mon', 2, 'Tue', 3, 'Wed', 4, 'Thu', 5, 'Fri', 6, 'Sat'
    ) AS day_name,
    SUM(orders) AS orders,
    SUM(net_revenue) AS net_revenue
FROM retail_bi.daily_revenue
GROUP BY 1, 2
ORDER BY 1;
