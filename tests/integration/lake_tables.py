"""Reading the twin's staged and analytics tables as a reader (Spectrum) does: the folders
the Glue catalog names for each partition, not every object under the table (a partition's
previous folder stays a run longer for queries already in it)."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
from retailake_etl.catalog import GlueCatalog

from retailake.aws.clients import client
from retailake.aws.s3 import iter_objects, split_s3_url
from retailake.config import Environment
from retailake.outputs import load_outputs


def current_folders(env: Environment, layer: str, table: str) -> dict[tuple[str, ...], str]:
    """The folder the catalog names for each partition of a layer's table (`()` for an
    unpartitioned table's own)."""
    database = load_outputs(env)["glue_databases"][layer]
    return GlueCatalog(database, client(env, "glue")).locations(table)


def current_objects(env: Environment, layer: str, table: str) -> dict[str, str]:
    """Key -> ETag of every data file in the folders the catalog names for the table."""
    s3 = client(env, "s3")
    found = {}
    for folder in current_folders(env, layer, table).values():
        bucket, prefix = split_s3_url(folder)
        found.update({o["Key"]: o["ETag"] for o in iter_objects(s3, bucket, prefix)
                      if o["Key"].endswith(".parquet")
                      and "/_" not in f"/{o['Key'][len(prefix):]}"})  # fmt: skip
    return found


def read_layer_table(env: Environment, layer: str, table: str) -> list[dict]:
    """The table's rows, each with its partition's values (as the catalog has them, text)."""
    s3, glue = client(env, "s3"), client(env, "glue")
    outputs = load_outputs(env)
    bucket, database = outputs.buckets[layer], outputs["glue_databases"][layer]
    keys = [k["Name"] for k in glue.get_table(DatabaseName=database, Name=table)["Table"]
            ["PartitionKeys"]]  # fmt: skip
    by_folder = {split_s3_url(folder)[1]: dict(zip(keys, values, strict=True))
                 for values, folder in current_folders(env, layer, table).items()}  # fmt: skip
    rows = []
    for key in current_objects(env, layer, table):
        partition = by_folder[key.rsplit("/", 1)[0] + "/"]
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        rows += [{**row, **partition} for row in pq.read_table(io.BytesIO(body)).to_pylist()]
    return rows
