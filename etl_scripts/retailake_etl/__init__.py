"""retailake's Glue ETL library: pure DataFrame transforms, the raw contract as data, and the
incremental I/O around them. Shipped to Glue as a zip on --extra-py-files, so it imports only
pyspark, boto3 and the standard library."""
