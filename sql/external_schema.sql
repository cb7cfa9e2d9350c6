-- Redshift Spectrum: the analytics layer's Glue catalog database as an external schema.
-- ${...} values come from the deployment's Terraform outputs when `retailake warehouse setup`
-- renders this file. The local twin builds the same schema from the emulator's catalog.
CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum_analytics
FROM DATA CATALOG
DATABASE '${analytics_database}'
IAM_ROLE '${spectrum_role_arn}'
REGION '${region}';
