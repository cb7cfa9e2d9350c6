"""Names, contact details and addresses as exports really carry them: phones in several
formats, states and countries spelled a dozen ways, a few customers abroad."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retailake.sample import vocab
from retailake.sample.arrays import bools, choose, concat, digits, fixed, ints, pick, text

# How a US state is written: code, full name, lower-case name, padded lower code, old abbreviation.
_STATE_STYLES = (0.66, 0.12, 0.06, 0.05, 0.06, 0.05)


def _digits(rng: np.random.Generator, n: int, low: int, high: int, width: int) -> pa.Array:
    return fixed(digits(rng.integers(low, high, n), width))


def contact(rng: np.random.Generator, first: pa.Array, last: pa.Array) -> dict[str, pa.Array]:
    """Email derived from the name, and a phone in one of several formats."""
    n = len(first)
    f, lname = pc.utf8_lower(first), pc.utf8_lower(pc.replace_substring(last, "'", ""))
    number = _digits(rng, n, 0, 100, 2)
    styles = [
        concat(f, ".", lname),
        concat(f, lname, number),
        concat(pc.utf8_slice_codeunits(f, 0, 1), ".", lname),
        concat(f, "_", lname, _digits(rng, n, 1950, 2006, 4)),
    ]
    style = choose(rng, n, (0.45, 0.25, 0.15, 0.15))
    local = _select(styles, style)
    email = concat(local, "@", pick(vocab.EMAIL_DOMAINS, choose(rng, n, np.arange(8, 0, -1))))
    area, exchange, line = (
        _digits(rng, n, 201, 990, 3), _digits(rng, n, 200, 1000, 3), _digits(rng, n, 0, 10000, 4)
    )
    phones = [
        concat("(", area, ") ", exchange, "-", line),
        concat(area, "-", exchange, "-", line),
        concat("+1 ", area, " ", exchange, " ", line),
        concat(area, ".", exchange, ".", line),
        concat(area, exchange, line),
    ]
    phone = _select(phones, choose(rng, n, (0.35, 0.3, 0.15, 0.1, 0.1)))
    return {"email": email, "phone": phone}


def address(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    """Street, city, state, postal code and country, mostly US with messy spellings."""
    street = concat(
        pc.cast(ints(rng.integers(1, 9900, n)), pa.string()), " ",
        pick(vocab.STREET_NAMES, rng.integers(0, len(vocab.STREET_NAMES), n)), " ",
        pick(vocab.STREET_SUFFIXES, rng.integers(0, len(vocab.STREET_SUFFIXES), n)),
    )
    apartment = concat(street, " Apt ", pc.cast(ints(rng.integers(1, 400, n)), pa.string()))
    street = pc.if_else(bools(rng.random(n) < 0.15), apartment, street)

    city = rng.integers(0, len(vocab.US_CITIES), n)
    state_index = {code: i for i, (code, _, _) in enumerate(vocab.US_STATES)}
    city_state = np.array([state_index[state] for _, state, _ in vocab.US_CITIES])[city]
    spellings = [
        spelled
        for code, name, abbreviation in vocab.US_STATES
        for spelled in (code, name, name.lower(), f" {code.lower()} ", abbreviation, code.lower())
    ]
    style = choose(rng, n, _STATE_STYLES)
    zip5 = concat(pick([c[2] for c in vocab.US_CITIES], city), _digits(rng, n, 0, 100, 2))
    zip9 = concat(zip5, "-", _digits(rng, n, 0, 10000, 4))
    us = {
        "city": pick([c[0] for c in vocab.US_CITIES], city),
        "state": pick(spellings, city_state * len(_STATE_STYLES) + style),
        "postal_code": pc.if_else(bools(rng.random(n) < 0.1), zip9, zip5),
        "country": pick(vocab.US_SPELLINGS, choose(rng, n, vocab.US_SPELLING_WEIGHTS)),
    }
    abroad = rng.random(n) < vocab.FOREIGN_SHARE
    place = rng.integers(0, len(vocab.FOREIGN_ADDRESSES), n)
    spellings_of = [entry[0] for entry in vocab.FOREIGN_ADDRESSES]
    countries = [spelled for spelled_as in spellings_of for spelled in spelled_as]
    first = np.cumsum([0] + [len(s) for s in spellings_of])[:-1]
    count = np.array([len(s) for s in spellings_of])
    foreign = {
        "city": pick([a[1] for a in vocab.FOREIGN_ADDRESSES], place),
        "state": pick([a[2] for a in vocab.FOREIGN_ADDRESSES], place),
        "postal_code": pick([a[3] for a in vocab.FOREIGN_ADDRESSES], place),
        "country": pick(countries, first[place] + rng.integers(0, 1 << 30, n) % count[place]),
    }
    mask = bools(abroad)
    columns = {"street": street}
    columns.update({name: pc.if_else(mask, foreign[name], us[name]) for name in us})
    dial = pick([a[4] for a in vocab.FOREIGN_ADDRESSES], place)
    columns["phone_prefix"] = pc.if_else(mask, dial, pa.nulls(n, pa.string()))
    return columns


def international(rng: np.random.Generator, prefix: pa.Array, phone: pa.Array) -> pa.Array:
    """Phones of customers abroad carry their country's dialling prefix (Canada keeps +1)."""
    n = len(phone)
    number = concat(prefix, " ", _digits(rng, n, 10, 100, 2), " ", _digits(rng, n, 0, 10**8, 8))
    abroad = pc.and_(pc.is_valid(prefix), pc.not_equal(pc.fill_null(prefix, text("")), text("+1")))
    return pc.if_else(abroad, number, phone)


def names(rng: np.random.Generator, n: int) -> dict[str, pa.Array]:
    return {
        "first_name": pick(vocab.FIRST_NAMES, rng.integers(0, len(vocab.FIRST_NAMES), n)),
        "last_name": pick(vocab.LAST_NAMES, rng.integers(0, len(vocab.LAST_NAMES), n)),
    }


def _select(options: list[pa.Array], which: np.ndarray) -> pa.Array:
    """Element-wise options[which[i]][i]."""
    result = options[0]
    for index, option in enumerate(options[1:], start=1):
        result = pc.if_else(bools(which == index), option, result)
    return result
