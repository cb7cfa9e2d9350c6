"""The local twin: the AWS emulator, the local Glue runner and the DuckDB warehouse."""
