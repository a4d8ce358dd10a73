"""Deterministic generator of the starter project's ``crm`` dataset: known accounts.

A subset of the web site's visitors are known to the company: leads that marketing
nurtures, opportunities that sales work on, and customers. The ``channel`` column
says which team owns each account (``marketing``, ``prospective_sales``, ``sales``),
for the split recipe at the end of the starter Flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from clusterlab.samples.weblogs import DEFAULT_START

__all__ = ["CHANNELS", "CRM_COLUMNS", "PLANS", "generate_crm"]

CRM_COLUMNS = (
    "visitor_id", "customer_id", "company", "country", "industry", "employees",
    "signup_date", "plan", "lifetime_revenue", "last_contact", "owner", "channel",
)  # fmt: skip
PLANS = ("Free", "Team", "Business", "Enterprise")
CHANNELS = ("marketing", "prospective_sales", "sales")

_PREFIXES = (
    "Alpine", "Altura", "Amber", "Apex", "Arcadia", "Atlas", "Aurora", "Beacon", "Blue",
    "Boreal", "Cedar", "Cobalt", "Crest", "Delta", "Ember", "Evergreen", "Falcon", "Granite",
    "Harbor", "Helix", "Horizon", "Iris", "Juniper", "Keystone", "Lumen", "Maple", "Meridian",
    "Nimbus", "Northwind", "Nova", "Oak", "Onyx", "Orbit", "Pioneer", "Quantum", "Redwood",
    "Sable", "Sierra", "Silver", "Solstice", "Summit", "Tidal", "Vertex", "Vista", "Willow",
    "Zenith",
)  # fmt: skip
# Second word of a company name, with the industry it implies.
_ACTIVITIES = (
    ("Bank", "Banking"), ("Capital", "Banking"), ("Assurance", "Insurance"),
    ("Mutual", "Insurance"), ("Retail", "Retail"), ("Stores", "Retail"),
    ("Telecom", "Telecommunications"), ("Networks", "Telecommunications"),
    ("Motors", "Manufacturing"), ("Industries", "Manufacturing"), ("Health", "Healthcare"),
    ("Pharma", "Healthcare"), ("Energy", "Energy"), ("Power", "Energy"),
    ("Media", "Media"), ("Logistics", "Transportation"), ("Airlines", "Transportation"),
    ("Foods", "Consumer goods"), ("Analytics", "Technology"), ("Software", "Technology"),
)  # fmt: skip
# (country, weight, legal form)
_COUNTRIES = (
    ("France", 34, "SA"), ("United States", 22, "Inc."), ("United Kingdom", 9, "Ltd"),
    ("Germany", 9, "GmbH"), ("Spain", 4, "S.L."), ("Italy", 4, "S.p.A."),
    ("Netherlands", 4, "B.V."), ("Belgium", 3, "NV"), ("Switzerland", 4, "AG"),
    ("Canada", 4, "Inc."), ("India", 2, "Pvt Ltd"), ("Brazil", 1, "Ltda"),
)  # fmt: skip
_OWNERS = (
    "Camille Martin", "Lucas Bernard", "Emma Dubois", "Hugo Laurent", "Olivia Brooks",
    "Ethan Carter", "Sophie Keller", "Marco Rossi",
)  # fmt: skip
# Yearly revenue per plan and the channel each plan usually belongs to.
_PLAN_REVENUE = np.array([0.0, 6_000.0, 30_000.0, 150_000.0])
_PLAN_CHANNEL = np.array([0, 1, 2, 2])


def _plans(rng: np.random.Generator, employees: np.ndarray) -> np.ndarray:
    """Larger companies buy larger plans."""
    size = np.clip(np.log10(employees) / 5, 0, 1)  # 0 for 1 employee, 1 for 100,000
    score = size + rng.normal(0, 0.22, len(employees))
    plans: np.ndarray = np.digitize(score, [0.38, 0.62, 0.85])
    return plans


def generate_crm(
    visitor_ids: Sequence[str] | pd.Series,
    seed: int = 42,
    *,
    share: float = 0.08,
    start: date = DEFAULT_START,
    days: int = 61,
) -> pd.DataFrame:
    """Generate the ``crm`` dataset for visitors of the web logs.

    Parameters
    ----------
    visitor_ids : sequence of str or pandas.Series
        Visitor ids, e.g. the ``visitor_id`` column of :func:`generate_weblogs`. Repeats
        count: a visitor who viewed more pages is more likely to be a known account.
    seed : int
        Seed of the random generator; the order of ``visitor_ids`` does not matter.
    share : float
        Share of the distinct visitors that are in the CRM.
    start, days : date, int
        The web logs' period: signups happen up to its end, last contacts within it.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`CRM_COLUMNS`, one row per known visitor, sorted by
        ``customer_id``.

    Examples
    --------
    >>> crm = generate_crm([f"v{i}" for i in range(1000)], seed=1)
    >>> len(crm), set(crm["channel"]) <= set(CHANNELS)
    (80, True)
    """
    column = visitor_ids if isinstance(visitor_ids, pd.Series) else pd.Series(list(visitor_ids))
    # Hash counting then sorting the distinct ids: fast on millions of page views, and
    # the result does not depend on the order of the input.
    counts = column.dropna().astype(str).value_counts().sort_index()
    ids, views = counts.index.to_numpy(dtype=object), counts.to_numpy()
    rng = np.random.default_rng(seed)
    count = round(len(ids) * share)
    # Weighted sampling without replacement (Efraimidis-Spirakis): keep the largest keys.
    keys = np.log(rng.random(len(ids))) / np.sqrt(views)
    chosen = np.sort(np.argpartition(-keys, count - 1)[:count]) if count else np.array([], int)
    country = rng.choice(len(_COUNTRIES), count, p=_weights([c[1] for c in _COUNTRIES]))
    activity = rng.integers(0, len(_ACTIVITIES), count)
    prefix = rng.integers(0, len(_PREFIXES), count)
    company = [
        f"{_PREFIXES[p]} {_ACTIVITIES[a][0]} {_COUNTRIES[c][2]}"
        for p, a, c in zip(prefix, activity, country, strict=True)
    ]
    employees = np.clip(np.round(rng.lognormal(np.log(400), 1.6, count)), 3, 250_000)
    plan = _plans(rng, employees)
    end = start + timedelta(days=days)
    signup = np.datetime64(end) - rng.integers(1, 3 * 365, count).astype("timedelta64[D]")
    years = (np.datetime64(end) - signup).astype(int) / 365.25
    revenue = np.round(_PLAN_REVENUE[plan] * years * rng.lognormal(0, 0.35, count), 2)
    since = np.maximum(signup, np.datetime64(start))
    last_contact = since + (rng.random(count) * (np.datetime64(end) - since).astype(int)).astype(
        "timedelta64[D]"
    )
    # Free accounts with a recent contact are being worked on by sales already.
    channel = _PLAN_CHANNEL[plan]
    channel[(plan == 0) & (rng.random(count) < 0.15)] = 1
    frame = pd.DataFrame(
        {
            "visitor_id": ids[chosen],
            "customer_id": [f"C{n:06d}" for n in rng.permutation(count) + 1],
            "company": company,
            "country": np.array([c[0] for c in _COUNTRIES], dtype=object)[country],
            "industry": np.array([a[1] for a in _ACTIVITIES], dtype=object)[activity],
            "employees": employees.astype(np.int64),
            "signup_date": signup.astype("datetime64[s]"),
            "plan": np.array(PLANS, dtype=object)[plan],
            "lifetime_revenue": revenue,
            "last_contact": last_contact.astype("datetime64[s]"),
            "owner": np.array(_OWNERS, dtype=object)[rng.integers(0, len(_OWNERS), count)],
            "channel": np.array(CHANNELS, dtype=object)[channel],
        }
    )
    return frame.sort_values("customer_id", ignore_index=True)


def _weights(values: list[int]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    normalised: np.ndarray = array / array.sum()
    return normalised
