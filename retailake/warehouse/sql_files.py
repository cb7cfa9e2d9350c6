"""The bundled `sql/` folder, the one source of the warehouse's SQL (Redshift dialect):

* `external_schema.sql`: the Spectrum external schema, with `${name}` values rendered from the
  Terraform outputs (Redshift only; the local twin builds that schema from the Glue catalog);
* `views/*.sql`: the schema of the BI views and the views, run in file-name order;
* `queries/<name>.sql`: named queries, each opening with `-- Question: ...`.

Every file holds exactly one statement."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

import sqlglot
from sqlglot import exp

from retailake.config import bundled_path
from retailake.errors import ConfigError
from retailake.outputs import Outputs
from retailake.warehouse.base import SetupStep

_EXTERNAL_SCHEMA = re.compile(
    r"CREATE\s+EXTERNAL\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE
)
_QUESTION = re.compile(r"^--\s*Question:\s*(.+)$", re.MULTILINE)
# A rendered value lands inside a single-quoted SQL literal: nothing may close it.
_SAFE_VALUE = re.compile(r"^[\w:/.\-]+$")


@dataclass(frozen=True)
class NamedQuery:
    name: str
    question: str
    sql: str


def sql_root() -> Path:
    return bundled_path("sql")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def _statement(text: str) -> str:
    """A file's statement without its leading comment block (which documents the file and
    would only clutter the database's query log)."""
    lines = text.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def external_schema_template() -> str:
    return _read(sql_root() / "external_schema.sql")


def external_schema_name() -> str:
    """The external schema's name, as the DDL file spells it (views and queries use it)."""
    match = _EXTERNAL_SCHEMA.search(external_schema_template())
    if match is None:
        raise ConfigError("sql/external_schema.sql holds no CREATE EXTERNAL SCHEMA IF NOT EXISTS")
    return match.group(1)


def external_schema_values(outputs: Outputs) -> dict[str, str]:
    """The `${...}` values of the external schema DDL, from the deployment's outputs."""
    return {
        "analytics_database": outputs["glue_databases"]["analytics"],
        "spectrum_role_arn": outputs["role_arns"]["redshift_spectrum"],
        "region": outputs.region,
    }


def render_external_schema(outputs: Outputs) -> str:
    """The external schema DDL with the deployment's values; refuses a value that could break
    out of its SQL string literal."""
    values = external_schema_values(outputs)
    for name, value in values.items():
        if not _SAFE_VALUE.match(value):
            raise ConfigError(f"output {name} = {value!r} is not a plain name or ARN")
    try:
        return _statement(Template(external_schema_template()).substitute(values))
    except (KeyError, ValueError) as error:
        raise ConfigError(f"sql/external_schema.sql has an unknown placeholder: {error}") from None


def view_statements() -> list[str]:
    """The BI schema and views, in the order they are created."""
    return [_statement(_read(path)) for path in sorted((sql_root() / "views").glob("*.sql"))]


def named_queries() -> dict[str, NamedQuery]:
    """Every query in `sql/queries`, by file name without `.sql`, in name order."""
    queries = {}
    for path in sorted((sql_root() / "queries").glob("*.sql")):
        text = _read(path)
        match = _QUESTION.search(text)
        question = match.group(1).strip() if match else ""
        queries[path.stem] = NamedQuery(path.stem, question, _statement(text))
    return queries


def named_query(name: str) -> NamedQuery:
    """The named query, or a usage error listing the known names."""
    queries = named_queries()
    if name not in queries:
        raise ConfigError(
            f"no query named '{name}': known queries are {', '.join(queries)} "
            "(`retailake query` lists them with their questions)"
        )
    return queries[name]


def describe(statement: str) -> SetupStep:
    """What a view-file statement creates (kind and name), read from its parsed form."""
    tree = sqlglot.parse_one(statement, read="redshift")
    kind = str(tree.args.get("kind") or "statement").lower()
    target = tree.this
    name = target.sql("redshift") if isinstance(target, exp.Expression) else str(target)
    return SetupStep(kind, name)
