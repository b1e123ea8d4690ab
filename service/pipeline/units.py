"""Units: read a stated unit from a whitelist and convert the figure to its canonical unit.

`normalize` is the one place a figure gets its canonical unit, for LLM and offline drafts alike.
Converted values are rounded to 4 significant digits (7.5 miles → 12.07 km); values already in
the canonical unit, counts, percentages and money keep every digit; currencies are never
converted. Units are read from a whitelist, not by pint's parser (which takes "points" for a
length): "tons" are metric tonnes and "pounds" are a mass ("£" or "pounds sterling" is money).
"""

from __future__ import annotations

import math
import re
from functools import cache

import pint

from service.llm.base import DraftQuantity
from service.models import Quantity
from service.pipeline.numbers import SCALES

# --- units --------------------------------------------------------------------------------------

# Canonical unit per dimension: (unit string the comparison code expects, pint expression).
CANONICAL = {
    "length": ("km", "kilometer"),
    "area": ("km**2", "kilometer**2"),
    "mass": ("kg", "kilogram"),
    "duration": ("hour", "hour"),
    "speed": ("km/h", "kilometer/hour"),
    "volume": ("l", "liter"),
}
# A whitelist, not pint's own parser: pint reads "points" as a length and "pct" as picocarats.
_PHYSICAL = {
    "length": {
        "kilometer": "km km kilometer",
        "mile": "mi mile",
        "meter": "m meter",
        "foot": "ft foot feet",
        "yard": "yd yard",
    },
    "area": {
        "kilometer**2": "km2 sqkm sqkilometer",
        "mile**2": "mi2 sqmi sqmile",
        "meter**2": "m2 sqm sqmeter",
        "foot**2": "ft2 sqft sqfoot sqfeet",
        "hectare": "ha hectare",
        "acre": "acre",
    },
    "mass": {
        "metric_ton": "t tonne ton metricton",
        "kilogram": "kg kilogram kilo",
        "gram": "g gram",
        "pound": "lb pound",
    },
    "duration": {
        "hour": "h hr hour",
        "minute": "min minute",
        "day": "day",
        "week": "week",
        "month": "month",
        "year": "yr year",
    },
    "speed": {
        "kilometer/hour": "km/h kph kmh kilometerperhour kmperhour",
        "mile/hour": "mph mileperhour",
        "knot": "knot kt",
    },
    "volume": {
        "liter": "l liter",
        "gallon": "gallon",
        "oil_barrel": "barrel bbl",
        "meter**3": "m3 cubicmeter",
    },
}
_UNIT_OF = {
    alias: (dimension, expr)
    for dimension, units in _PHYSICAL.items()
    for expr, aliases in units.items()
    for alias in aliases.split()
}
_CURRENCY = {
    "USD": "$ us$ usd dollar usdollar",
    "EUR": "€ eur euro",
    "GBP": "£ gbp sterling poundsterling poundssterling",
    "RUB": "₽ rub ruble rouble",
    "UAH": "₴ uah hryvnia hryvna hryvnya",
    "JPY": "jpy yen",
    "CNY": "cny yuan renminbi",
}
_CURRENCY_OF = {alias: code for code, aliases in _CURRENCY.items() for alias in aliases.split()}
_PERCENT = {"%", "percent", "percentage", "pct"}


@cache
def _registry() -> pint.UnitRegistry:
    # Building a registry takes about a second, so only the first figure pays for it.
    return pint.UnitRegistry()


def _unit_key(unit: str) -> str:
    """'Square Kilometres' → 'sqkilometer', 'km²' → 'km2', 'miles per hour' → 'mileperhour'."""
    u = unit.strip().lower().rstrip(".")
    u = u.replace("²", "2").replace("³", "3").replace("^", "").replace("**", "")
    u = u.replace("metre", "meter").replace("litre", "liter").replace("per cent", "percent")
    u = re.sub(r"\bsquare\b|\bsq\b\.?", "sq", u)
    words = [
        w[:-1] if len(w) > 2 and w.endswith("s") and not w.endswith("ss") else w for w in u.split()
    ]  # plural → singular: 'kilometers', 'hectares', 'lbs'
    return "".join(words)


def _split_scale(unit: str) -> tuple[float, str]:
    """'million people' → (1e6, 'people'): a scale word the writer put in the unit."""
    m = re.match(r"\s*(thousand|million|billion|trillion|bn|mn)\b\s*", unit, re.IGNORECASE)
    return (SCALES[m.group(1).lower()], unit[m.end() :]) if m else (1.0, unit)


def _round4(x: float) -> float:
    return float(f"{x:.4g}")


def _convert(value: float, dimension: str, expr: str) -> float:
    canonical = CANONICAL[dimension][1]
    if expr == canonical:
        return value  # stated in the canonical unit: keep every digit the writer gave
    q = _registry().Quantity(value, expr).to(canonical)
    return _round4(float(q.magnitude))


def normalize(draft: DraftQuantity) -> Quantity | None:
    """The draft in its dimension's canonical unit, or None when its number or unit is unknown."""
    if not math.isfinite(draft.value) or (
        draft.upper is not None and not math.isfinite(draft.upper)
    ):
        return None
    scale, unit = _split_scale(draft.unit or "")
    value = draft.value * scale
    upper = None if draft.upper is None else draft.upper * scale
    key = _unit_key(unit) if unit.strip() else ""
    measure = draft.measure.strip()
    if key in _UNIT_OF:
        dimension, expr = _UNIT_OF[key]
        canonical = CANONICAL[dimension][0]
        value = _convert(value, dimension, expr)
        upper = None if upper is None else _convert(upper, dimension, expr)
    elif key in _CURRENCY_OF or unit.strip().upper() in _CURRENCY:
        dimension = "money"
        canonical = _CURRENCY_OF.get(key) or unit.strip().upper()
    elif key in _PERCENT:
        dimension = canonical = "percent"
    elif not key or re.fullmatch(r"[a-z][a-z' -]*", unit.strip().lower()):
        # No unit, or a counted noun ("people", "villages"): a count; the noun says what of.
        dimension = canonical = "count"
        noun = unit.strip().lower()
        if noun and not measure:
            measure = noun
    else:
        return None  # looks like a unit ('km/zz', 'm^4') but not one we know: don't guess
    return Quantity(
        text=draft.text,
        value=value,
        upper=upper,
        unit=canonical,
        dimension=dimension,
        measure=measure,
        qualifier=draft.qualifier,
        stated_value=draft.value,
        stated_unit=draft.unit,
    )


_METRIC = {"kilometer", "meter", "kilometer**2", "meter**2", "hectare", "metric_ton", "kilogram"}
_METRIC |= {"gram", "kilometer/hour", "liter", "meter**3"}


def is_metric(unit: str) -> bool:
    key = _unit_key(unit)
    return key in _UNIT_OF and _UNIT_OF[key][1] in _METRIC


def dimension_of(unit: str | None) -> str:
    """'km' → length, '%' → percent, no unit → count; any other unit the finder read is money."""
    if not unit:
        return "count"
    key = _unit_key(unit)
    if key in _UNIT_OF:
        return _UNIT_OF[key][0]
    return "percent" if key in _PERCENT else "money"
