"""How numbers read in report sentences: short, and the same in every panel.

Choices (shared by observations, heatmap hover text and cluster sizes):

- plain numbers keep 3 significant digits, thousands and above are rounded to an
  integer with a thousands separator: ``4.77``, ``47.7``, ``477``, ``12,345``,
  ``0.0123``; trailing zeros are dropped (``4.5``, not ``4.50``);
- percentages are integers from 10% up (``377%``, ``45%``) and keep one decimal
  below (``4.5%``, ``0.3%``) so small shares do not all read ``0%``;
- a cluster size reads ``N (x.xx%)`` as in DSS: ``120 (40.00%)``.
"""

from __future__ import annotations

import math


def _strip_zeros(text: str) -> str:
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def format_number(value: float) -> str:
    """Format a mean or a std for a sentence, with about 3 significant digits.

    Examples
    --------
    >>> [format_number(v) for v in (4.7712, 47.712, 477.12, 12345.6, 0.012345, -2.5, 0)]
    ['4.77', '47.7', '477', '12,346', '0.0123', '-2.5', '0']
    """
    if not math.isfinite(value):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        decimals = max(0, 2 - math.floor(math.log10(magnitude)))
        return _strip_zeros(f"{value:.{decimals}f}")
    return _strip_zeros(f"{value:.3g}")


def format_percent(percent: float) -> str:
    """Format a percentage (already multiplied by 100), without the ``%`` sign.

    Examples
    --------
    >>> [format_percent(v) for v in (376.9, 45.04, 4.54, 0.26, 0.0, 1234.0)]
    ['377', '45', '4.5', '0.3', '0', '1,234']
    """
    if not math.isfinite(percent):
        return str(percent)
    if abs(percent) >= 10:
        return f"{percent:,.0f}"
    return _strip_zeros(f"{percent:.1f}")


def format_size(size: int, total: int) -> str:
    """Format a cluster size with its share of all rows, as ``N (x.xx%)``.

    Examples
    --------
    >>> format_size(120, 300)
    '120 (40.00%)'
    """
    share = 100.0 * size / total if total else 0.0
    return f"{size} ({share:.2f}%)"
