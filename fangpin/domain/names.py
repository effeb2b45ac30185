"""Chinese personal names: normalisation (SPEC §5). Linkage keys and similarity build on this module.

``normalise`` / ``normalise_expr`` give the display form used everywhere: NFKC, no blanks, the middle dot of minority
names unified to '·'. Traditional→simplified folding and pinyin keys are added for matching.
"""

from __future__ import annotations

import unicodedata

import polars as pl

#: Characters people type for the middle dot of minority names (杨·阿妹 / 杨•阿妹 / 杨.阿妹 / 杨。阿妹 / 杨・阿妹).
DOTS = ("·", "•", ".", "．", "・", "‧", "∙", "。", "•", "⋅")


def normalise(name: object) -> str:
    if name is None:
        return ""
    s = unicodedata.normalize("NFKC", str(name))
    s = "".join(s.split())
    for d in DOTS:
        s = s.replace(d, "·")
    return s.strip("·")


def normalise_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalise` (NFKC via Polars' unicode normalisation)."""
    e = col.cast(pl.String).str.normalize("NFKC").str.replace_all(r"\s+", "")
    e = e.str.replace_all("[" + "".join(DOTS).replace(".", r"\.") + "]", "·")
    return e.str.strip_chars("·")
