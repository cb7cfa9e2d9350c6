"""Stores and products: the dimensions sales and inventory refer to."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retailake.sample import vocab
from retailake.sample.arrays import choose, concat, fixed, id_bytes, ids, pick


@dataclass(frozen=True)
class Catalog:
    """Store ids (the last one is the web warehouse) and products with prices in cents."""

    store_ids: pa.Array
    store_weights: np.ndarray  # traffic of the physical stores
    product_ids: pa.Array
    product_names: pa.Array
    categories: pa.Array
    brands: pa.Array
    price_cents: np.ndarray
    cost_cents: np.ndarray
    popularity: np.ndarray

    @property
    def web_store(self) -> int:
        return len(self.store_ids) - 1


def build_catalog(rng: np.random.Generator, stores: int, products: int) -> Catalog:
    web = np.frombuffer(b"W001", np.uint8)
    store_ids = fixed(np.vstack([id_bytes("S", np.arange(1, stores + 1), 3), web]))
    category = choose(rng, products, np.ones(len(vocab.CATEGORIES)))
    brand_choice = rng.integers(0, 1 << 30, products)
    brands = [b for _, brands, _, _ in vocab.CATEGORIES for b in brands]
    brand_offset = np.cumsum([0] + [len(c[1]) for c in vocab.CATEGORIES])[:-1]
    brand_count = np.array([len(c[1]) for c in vocab.CATEGORIES])
    brand = brand_offset[category] + brand_choice % brand_count[category]
    nouns = [n for _, _, items, _ in vocab.CATEGORIES for n in items]
    noun = category * 5 + rng.integers(0, 5, products)
    adjective = rng.integers(0, len(vocab.ADJECTIVES), products)
    tier = choose(rng, products, (0.35, 0.45, 0.20))
    median = np.array([c[3] for c in vocab.CATEGORIES])[category]
    list_price = median * np.array(vocab.PRICE_TIER_FACTORS)[tier] * rng.lognormal(0, 0.3, products)
    price_cents = np.maximum(np.floor(list_price), 0) * 100 + 99  # prices end in .99
    margin = rng.uniform(0.25, 0.6, products)
    cost_cents = np.round(price_cents * (1 - margin))
    return Catalog(
        store_ids=store_ids,
        store_weights=rng.lognormal(0, 0.4, stores),
        product_ids=ids("P", np.arange(1, products + 1), 5),
        product_names=concat(
            pick(brands, brand), " ", pick(vocab.ADJECTIVES, adjective), " ", pick(nouns, noun)
        ),
        categories=pick([c[0] for c in vocab.CATEGORIES], category),
        brands=pick(brands, brand),
        price_cents=price_cents.astype(np.int64),
        cost_cents=cost_cents.astype(np.int64),
        popularity=rng.permutation(1.0 / np.arange(1, products + 1) ** 0.9),
    )
