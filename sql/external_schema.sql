-- Redshift Spectrum: the analytics layer's Glue catalog database as an external schema.
-- The quoted values are placeholders that `retailake warehouse setup` renders from the
-- deployment's Terraform outputs. The local twin builds this schema from the emulator's catalog.
CREATE EXTERNAL SCHEMA IF NOT EXISTS spectrum_analytics
FROM DATA CATALOG
DATABASE '${analytics_database}'
IAM_ROLE '${spectrum_role_arn}'
REGION '${region}';
