-- The schema that holds the BI views: what dashboards and analysts are granted.
CREATE SCHEMA IF NOT EXISTS retail_bi;
