"""Customers: contract checks, one row per customer_id (the latest delivery wins), PII
replaced by keyed hashes, address normalized, bands and a segment derived.

PII: email (trimmed, lower-cased) and phone (digits only) become HMAC-SHA256 hex digests
under a secret key passed in by the caller; first/last name, email, phone and street are
dropped, from the staged rows *and* from the rejects (which carry the hashes instead, and
of the raw text only the key: see `safe_rejects`), so no clear-text PII leaves the raw layer.

Reference date for `age_band` and `tenure_months`: by default each customer's own delivery
date (`_ingest_date` of the record kept). It is in the data, so reruns give the same bytes,
and a run that does not touch a customer does not have to rewrite it; the bands are "as of
the customer's latest delivery". Pass `as_of` to fix one date for every row instead.

Segment: life stage from the age band (young: <25 and 25-34, midlife: 35-44 and 45-54,
senior: 55-64 and 65+, unknown) joined to the loyalty tier (lower-case, `none` when empty),
e.g. `midlife_gold`: a demographic grid the analytics layer crosses with RFM."""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from collections.abc import Mapping

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from retailake_etl.common import Cleaned, year_month
from retailake_etl.contract import CONTRACTS, Reason
from retailake_etl.countries import ALIASES, ISO_3166
from retailake_etl.validate import check, deduplicate, reject_columns

CONTRACT = CONTRACTS["customers"]
PII = ("first_name", "last_name", "email", "phone", "street")
COLUMNS = (
    "customer_id", "email_hash", "phone_hash", "city", "state", "postal_code", "country",
    "age_band", "tenure_months", "loyalty_tier", "segment", "year", "month",
)  # fmt: skip

US_STATES = {
    "AL": ("Alabama", "Ala."), "AK": ("Alaska", "Alaska"), "AZ": ("Arizona", "Ariz."),
    "AR": ("Arkansas", "Ark."), "CA": ("California", "Calif."), "CO": ("Colorado", "Colo."),
    "CT": ("Connecticut", "Conn."), "DE": ("Delaware", "Del."), "FL": ("Florida", "Fla."),
    "GA": ("Georgia", "Ga."), "HI": ("Hawaii", "Hawaii"), "ID": ("Idaho", "Idaho"),
    "IL": ("Illinois", "Ill."), "IN": ("Indiana", "Ind."), "IA": ("Iowa", "Iowa"),
    "KS": ("Kansas", "Kan."), "KY": ("Kentucky", "Ky."), "LA": ("Louisiana", "La."),
    "ME": ("Maine", "Maine"), "MD": ("Maryland", "Md."), "MA": ("Massachusetts", "Mass."),
    "MI": ("Michigan", "Mich."), "MN": ("Minnesota", "Minn."), "MS": ("Mississippi", "Miss."),
    "MO": ("Missouri", "Mo."), "MT": ("Montana", "Mont."), "NE": ("Nebraska", "Neb."),
    "NV": ("Nevada", "Nev."), "NH": ("New Hampshire", "N.H."), "NJ": ("New Jersey", "N.J."),
    "NM": ("New Mexico", "N.M."), "NY": ("New York", "N.Y."), "NC": ("North Carolina", "N.C."),
    "ND": ("North Dakota", "N.D."), "OH": ("Ohio", "Ohio"), "OK": ("Oklahoma", "Okla."),
    "OR": ("Oregon", "Ore."), "PA": ("Pennsylvania", "Pa."), "RI": ("Rhode Island", "R.I."),
    "SC": ("South Carolina", "S.C."), "SD": ("South Dakota", "S.D."),
    "TN": ("Tennessee", "Tenn."), "TX": ("Texas", "Tex."), "UT": ("Utah", "Utah"),
    "VT": ("Vermont", "Vt."), "VA": ("Virginia", "Va."), "WA": ("Washington", "Wash."),
    "WV": ("West Virginia", "W.Va."), "WI": ("Wisconsin", "Wis."), "WY": ("Wyoming", "Wyo."),
    "DC": ("District of Columbia", "D.C."),
}  # fmt: skip
# The spellings exports use most (looked up first: see `normalize_country`).
COUNTRIES = {
    "US": ("United States", "United States of America", "USA", "U.S.", "U.S.A.", "America"),
    "CA": ("Canada",), "MX": ("Mexico", "México"),
    "GB": ("United Kingdom", "UK", "U.K.", "Great Britain", "Britain", "England"),
    "DE": ("Germany", "Deutschland"), "FR": ("France",), "ES": ("Spain", "España"),
    "IT": ("Italy", "Italia"), "NL": ("Netherlands", "The Netherlands", "Holland"),
    "IE": ("Ireland",), "AU": ("Australia",), "JP": ("Japan",), "CN": ("China",),
    "IN": ("India",), "BR": ("Brazil", "Brasil"),
}  # fmt: skip
AGE_BANDS = ((25, "<25"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64"))
_INNER_PAD, _OUTER_PAD = "_hmac_inner_pad", "_hmac_outer_pad"
LIFE_STAGES = {
    "<25": "young", "25-34": "young", "35-44": "midlife", "45-54": "midlife",
    "55-64": "senior", "65+": "senior",
}  # fmt: skip


def _squash(value: str) -> str:
    return "".join(ch for ch in value.lower() if ch.isalpha())


def _squashed(column: Column) -> Column:
    """Letters only, lower-case: 'N.Y.', ' ny ', 'new york' all meet their key."""
    return F.lower(F.regexp_replace(column, r"[^\p{L}]", ""))


def _mapping(table: Mapping[str, tuple[str, ...]]) -> Column:
    """Each code and spelling of `table`, squashed, to its code."""
    pairs: dict[str, str] = {}
    for code, spellings in table.items():
        for spelled in (code, *spellings):
            pairs.setdefault(_squash(spelled), code)
    return _lookup(pairs)


def _lookup(pairs: Mapping[str, str]) -> Column:
    return F.create_map(*[F.lit(x) for pair in sorted(pairs.items()) for x in pair])


def _without_accents(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


# ISO codes are matched as they are (upper case): squashed, `N/A` would read as Namibia's NA.
# Names are matched squashed, with and without their accents (`Curacao`, `Cote d'Ivoire`).
_ALPHA_3 = {alpha_3: code for code, (alpha_3, *_names) in ISO_3166.items()}
_COUNTRY_NAMES = {
    _squash(spelled): code
    for code, (_alpha_3, *names) in ISO_3166.items()
    for spelled in (*names, *map(_without_accents, names), *ALIASES.get(code, ()))
}


def with_hmac_key(frame: DataFrame, key: bytes) -> DataFrame:
    """`frame` with the key's HMAC pads beside every row (`hmac_sha256_hex` reads them), from
    a one-row frame joined in. As data, not literals: a literal is printed in the plan, and so
    in an explain, a Spark UI and the text of an analysis error, where one XOR gives the key."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    pads = frame.sparkSession.createDataFrame(
        [(bytearray(b ^ 0x36 for b in key), bytearray(b ^ 0x5C for b in key))],
        f"{_INNER_PAD} binary, {_OUTER_PAD} binary",
    )
    return frame.crossJoin(F.broadcast(pads))


def hmac_sha256_hex(message: Column) -> Column:
    """HMAC-SHA256 (RFC 2104) as lower-case hex, in Spark SQL (no Python UDF): sha2 over the
    padded key and the message, on a frame `with_hmac_key`. Null stays null."""
    inner = F.unhex(F.sha2(F.concat(F.col(_INNER_PAD), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.col(_OUTER_PAD), inner), 256)


def _blank_null(column: Column) -> Column:
    trimmed = F.trim(column)
    return F.when(trimmed != "", trimmed)


def email_hash(email: Column) -> Column:
    return hmac_sha256_hex(F.lower(_blank_null(email)))


def phone_hash(phone: Column) -> Column:
    digits = F.regexp_replace(phone, r"[^0-9]", "")
    return hmac_sha256_hex(F.when(digits != "", digits))


def normalize_country(country: Column) -> Column:
    """ISO 3166-1 alpha-2 from a common spelling, else from an alpha-3 code or an English
    name (`countries`); any other two letters upper-cased (`XK`, a code in use but not
    ISO's); else the trimmed text. The small map first: Spark finds a key in a map literal
    by scanning it, and `coalesce` looks further only for rows it did not find."""
    text = _blank_null(country)
    squashed = _squashed(text)
    return F.coalesce(_mapping(COUNTRIES)[squashed], _lookup(_ALPHA_3)[F.upper(text)],
                      _lookup(_COUNTRY_NAMES)[squashed],
                      F.when(F.length(text) == 2, F.upper(text)), text)


def normalize_state(state: Column, country: Column) -> Column:
    """US (or unknown country): names, codes and old abbreviations -> the 2-letter code;
    elsewhere the region as delivered, trimmed."""
    text = _blank_null(state)
    us = country.isNull() | (country == "US")
    code = _mapping(US_STATES)[_squashed(text)]
    return F.when(us, F.coalesce(code, F.upper(text))).otherwise(text)


def normalize_postal(postal: Column, country: Column) -> Column:
    """Upper-cased; a US ZIP that lost its leading zeros (read as a number) gets them back."""
    text = F.upper(_blank_null(postal))
    short_zip = (country == "US") & text.rlike(r"^[0-9]{1,4}$")
    return F.when(short_zip, F.lpad(text, 5, "0")).otherwise(text)


def age_band(birth: Column, reference: Column) -> Column:
    years = F.floor(F.months_between(reference, birth, roundOff=False) / 12)
    band = F.when(birth.isNull() | (years < 0), F.lit("unknown"))
    for upper, label in AGE_BANDS:
        band = band.when(years < upper, F.lit(label))
    return band.otherwise(F.lit("65+"))


def tenure_months(signup: Column, reference: Column) -> Column:
    """Whole months from signup to the reference date; 0 when signup is later."""
    months = F.floor(F.months_between(reference, signup, roundOff=False)).cast("int")
    return F.when(signup.isNotNull(), F.greatest(months, F.lit(0)))


def segment(band: Column, tier: Column) -> Column:
    stage = F.coalesce(
        F.create_map(*[F.lit(x) for pair in LIFE_STAGES.items() for x in pair])[band],
        F.lit("unknown"),
    )
    return F.concat(stage, F.lit("_"), F.coalesce(F.lower(tier), F.lit("none")))


def anonymize(rows: DataFrame, key: bytes, as_of: dt.date | None = None) -> DataFrame:
    """Deduplicated, typed customer rows -> the staged customers table (no PII)."""
    reference = F.lit(as_of) if as_of else F.col("_ingest_date")
    country = normalize_country(F.col("country"))
    tier = F.initcap(_blank_null(F.col("loyalty_tier")))
    band = age_band(F.col("birth_date"), reference)
    shaped = with_hmac_key(rows, key).select(
        "customer_id",
        email_hash(F.col("email")).alias("email_hash"),
        phone_hash(F.col("phone")).alias("phone_hash"),
        F.initcap(_blank_null(F.col("city"))).alias("city"),
        "state",
        "postal_code",
        country.alias("country"),
        band.alias("age_band"),
        tenure_months(F.col("signup_date"), reference).alias("tenure_months"),
        tier.alias("loyalty_tier"),
        segment(band, tier).alias("segment"),
        *year_month(F.col("_ingest_date")),
        "_source_file",
        "_row_number",
        "_ingest_date",
    )
    return shaped.select(
        *[
            normalize_state(F.col("state"), F.col("country")).alias("state")
            if name == "state"
            else normalize_postal(F.col("postal_code"), F.col("country")).alias("postal_code")
            if name == "postal_code"
            else F.col(name)
            for name in shaped.columns
        ]
    )


def safe_rejects(rejects: DataFrame, key: bytes) -> DataFrame:
    """Rejects without clear-text PII: hashes in place of email and phone, no names, street
    or raw line (a malformed line may hold any of them). Nor the raw text of the other
    columns, or a value quoted in the reason: a delivery with shifted columns puts an email
    where a city or a date should be. The key, the object and the row number say where the
    raw text is, in the raw layer."""
    # (?s): a JSON value may hold a line break, and the quoted value runs to the end
    quoted = r"(?s): '.*'$"
    withheld = F.regexp_replace("reason_detail", quoted, ": (value withheld: it may be PII)")
    text = {c.name for c in CONTRACT.columns} - {*CONTRACT.key, *PII}

    def safe(name: str) -> Column:
        if name == "reason_detail":
            return withheld.alias(name)
        return F.lit(None).cast("string").alias(name) if name in text else F.col(name)

    return with_hmac_key(rejects, key).select(
        *[safe(c) for c in rejects.columns if c not in (*PII, "raw_line")],
        F.lit(None).cast("string").alias("raw_line"),
        email_hash(F.col("email")).alias("email_hash"),
        phone_hash(F.col("phone")).alias("phone_hash"),
    )


def _undated(valid: DataFrame) -> DataFrame:
    """Valid rows of an object whose key names no delivery date, as rejects: the date is what
    orders a customer's deliveries and partitions the table."""
    detail = "the object's key names no ingest_date=YYYY-MM-DD folder, which dates a delivery"
    values = [F.col(c.name) for c in CONTRACT.columns]
    return (
        valid.where(F.col("_ingest_date").isNull())
        .select("*", F.lit(str(Reason.MISSING_REQUIRED)).alias("reason"),
                F.lit(detail).alias("reason_detail"))
        .select(*reject_columns(CONTRACT, values, raw_line=False))
    )  # fmt: skip


def transform_customers(raw: DataFrame, key: bytes, as_of: dt.date | None = None) -> Cleaned:
    """Raw customers text -> one anonymized row per customer (partitioned by the year/month
    of the delivery kept) and PII-free rejects."""
    checked = check(raw, CONTRACT)
    dated = checked.valid.where(F.col("_ingest_date").isNotNull())
    valid = dated.select("*", *year_month(F.col("_ingest_date")))
    deduplicated = deduplicate(valid, CONTRACT)
    rejects = checked.rejects.unionByName(_undated(checked.valid)).unionByName(deduplicated.dropped)
    return Cleaned.of(
        checked,
        deduplicated,
        valid=valid.select("customer_id", "year", "month", "_source_file"),
        rows=anonymize(deduplicated.kept, key, as_of),
        rejects=safe_rejects(rejects, key),
    )
