"""Names of the synthetic city: given names by birth cohort and sex, village clans, and the namesake knob.

A name is held as codes (surname index, first and second given character as indices into :func:`vocab.given_pool`,
−1 = no second character, and the dot flag of transliterated minority names), so that drawing, counting and
changing names stays vectorised. ``name_key`` packs those codes into one integer: two persons have the same written
name exactly when their keys are equal.

The namesake knob (:func:`tune_namesakes`): the share of persons who share their exact name with at least one other
person of the same township. Names drawn from the cohort model land near the realistic level for townships of
10–30 k people; the knob then moves the share to the requested value within a tolerance, in a few vectorised
passes: up by giving a person the given name of someone of the same surname, sex and cohort in the same township
(or, for people who married in and carry their own surname, the whole name); down by giving people who share
their name a rarer one composed from their cohort's characters.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from fangpin.synth import vocab

#: named levels of the namesake knob (share of persons sharing their exact name within their township);
#: docs/DECISIONS.md explains the realistic value
NAMESAKE_LEVELS = {"realistic": 0.20, "stress": 0.45}
#: the achieved share is within this distance of the requested one (absolute)
NAMESAKE_TOLERANCE = 0.005
_BIG = 1 << 10  # > number of given-name characters + 1


def namesake_target(value: float | str) -> tuple[str, float]:
    """'realistic' | 'stress' | a share in [0, 0.9] (number or numeric text) → (level name, share)."""
    if isinstance(value, str) and value.strip() in NAMESAKE_LEVELS:
        return value.strip(), NAMESAKE_LEVELS[value.strip()]
    try:
        share = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"namesake share {value!r} is neither a level ({', '.join(NAMESAKE_LEVELS)}) nor a number"
        ) from None
    if not 0.0 <= share <= 0.9:
        raise ValueError(f"namesake share must lie between 0 and 0.9, got {share}")
    return "custom", share


def cohort_of(birth_days: np.ndarray) -> np.ndarray:
    """Cohort index (0..5, see vocab.COHORT_STARTS) of birth dates given as days since 1970-01-01."""
    year = (np.asarray(birth_days, dtype="int64").astype("datetime64[D]").astype("datetime64[Y]").astype(int)) + 1970
    return np.searchsorted(np.array(vocab.COHORT_STARTS), year, side="right").astype(np.int64)


def _zipf(n: int, a: float) -> np.ndarray:
    w = 1.0 / np.arange(1, n + 1) ** a
    return w / w.sum()


@lru_cache(maxsize=1)
def _tables() -> dict:
    """Per (sex, cohort): fashion names as (g1, g2) code arrays with their weights; pool characters with weights."""
    _, index, _ = vocab.given_pool()
    out = {}
    for male, fashion, pools in (
        (False, vocab.FASHION_FEMALE, vocab.POOL_FEMALE),
        (True, vocab.FASHION_MALE, vocab.POOL_MALE),
    ):
        for c in range(len(vocab.COHORT_LABELS)):
            names = fashion[c].split()
            g1 = np.array([index[n[0]] for n in names], dtype=np.int64)
            g2 = np.array([index[n[1]] if len(n) > 1 else -1 for n in names], dtype=np.int64)
            pool = np.array([index[ch] for ch in dict.fromkeys(pools[c])], dtype=np.int64)
            out[male, c] = (g1, g2, _zipf(len(names), vocab.FASHION_ZIPF), pool, _zipf(len(pool), vocab.POOL_ZIPF))
    return out


def draw_given(rng: np.random.Generator, male: np.ndarray, cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Given-name codes (g1, g2; g2 = −1 for one character) by sex and birth cohort."""
    n = len(male)
    g1 = np.empty(n, dtype=np.int64)
    g2 = np.empty(n, dtype=np.int64)
    u = rng.random((4, n))
    for (m, c), (f1, f2, fw, pool, pw) in _tables().items():
        idx = np.flatnonzero((male == m) & (cohort == c))
        if not len(idx):
            continue
        k = len(idx)
        fashion = u[0, idx] < vocab.FASHION_SHARE[c]
        single = u[1, idx] < vocab.SINGLE_SHARE[c]
        pick = np.minimum(np.searchsorted(np.cumsum(fw), u[2, idx]), len(fw) - 1)
        ia = np.minimum(np.searchsorted(np.cumsum(pw), u[3, idx]), len(pw) - 1)
        ib = rng.choice(len(pool), size=k, p=pw)
        ib = np.where(ib == ia, (ib + 1) % len(pool), ib)  # 建建, 德德: doubled names come from the fashion lists
        a, b = pool[ia], pool[ib]
        g1[idx] = np.where(fashion, f1[pick], a)
        g2[idx] = np.where(fashion, f2[pick], np.where(single, -1, b))
    return g1, g2


def rare_given(rng: np.random.Generator, male: np.ndarray, cohort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-character given names drawn uniformly from the characters of the cohort and its neighbours (rarely
    shared): what the knob gives people when there are more namesakes than asked for."""
    n = len(male)
    g1 = np.empty(n, dtype=np.int64)
    g2 = np.empty(n, dtype=np.int64)
    t = _tables()
    last = len(vocab.COHORT_LABELS) - 1
    for (m, c), _ in t.items():
        idx = np.flatnonzero((male == m) & (cohort == c))
        if not len(idx):
            continue
        chars = np.unique(np.concatenate([t[m, max(c - 1, 0)][3], t[m, c][3], t[m, min(c + 1, last)][3]]))
        g1[idx] = chars[rng.integers(0, len(chars), len(idx))]
        g2[idx] = chars[rng.integers(0, len(chars), len(idx))]
    return g1, g2


def name_key(sur: np.ndarray, g1: np.ndarray, g2: np.ndarray, dot: np.ndarray) -> np.ndarray:
    """One integer per written name (equal keys ⇔ equal names)."""
    return ((sur.astype(np.int64) * _BIG + (g1 + 1)) * _BIG + (g2 + 1)) * 2 + dot.astype(np.int64)


def frame_keys(people) -> np.ndarray:
    """name_key of every row of a person frame (columns sur_idx, g1, g2, dot)."""
    return name_key(*(people[c].to_numpy() for c in ("sur_idx", "g1", "g2", "dot")))


def group_sizes(town: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Per person: how many persons (themselves included) have the same name key in the same township."""
    combined = town.astype(np.int64) * (1 << 40) + key
    _, inverse, counts = np.unique(combined, return_inverse=True, return_counts=True)
    return counts[inverse]


def tune_namesakes(
    rng: np.random.Generator,
    target: float,
    town: np.ndarray,
    hh: np.ndarray,
    male: np.ndarray,
    cohort: np.ndarray,
    own_surname: np.ndarray,
    sur: np.ndarray,
    g1: np.ndarray,
    g2: np.ndarray,
    dot: np.ndarray,
    tolerance: float = NAMESAKE_TOLERANCE,
    rounds: int = 12,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Move the township namesake share to ``target`` (± tolerance). Returns new (sur, g1, g2).

    own_surname: the person's surname is their own (spouse, daughter-in-law, mother: married in), not the
    household's, so the whole name may be given; others only get a given name, keeping the family's surname.
    Dotted minority names are left alone. Deterministic for the generator's state."""
    sur, g1, g2 = sur.copy(), g1.copy(), g2.copy()
    n = len(sur)
    if n == 0:
        return sur, g1, g2
    free = ~dot
    for _ in range(rounds):
        sizes = group_sizes(town, name_key(sur, g1, g2, dot))
        sharing = sizes > 1
        gap = target - sharing.mean()
        if abs(gap) <= tolerance:
            break
        if gap > 0:
            k = int(np.ceil(gap * n * 0.6))
            _copy_names(rng, k, town, hh, male, cohort, own_surname, sur, g1, g2, free & ~sharing, free)
        else:
            # a person leaving a pair frees two; leaving a larger group frees one
            k = int(np.ceil(-gap * n * 0.6))
            cand = np.flatnonzero(sharing & free)
            chosen = rng.choice(cand, size=min(k, len(cand)), replace=False) if len(cand) else cand
            a, b = rare_given(rng, male[chosen], cohort[chosen])
            g1[chosen], g2[chosen] = a, b
    return sur, g1, g2


def _copy_names(rng, k, town, hh, male, cohort, own_surname, sur, g1, g2, eligible, source_ok) -> None:
    """Give up to k eligible persons the name of a person of the same township, sex and cohort of another household
    (in place): first the given name within the same surname, then, for the married-in, the whole name; cohort
    is dropped last (small towns)."""
    if k <= 0:
        return
    n = len(sur)
    done = np.zeros(n, dtype=bool)
    tries = (
        (True, True),  # same surname and cohort: given name only
        (False, True),  # married-in: whole name of someone of the same cohort
        (True, False),
        (False, False),
    )
    for same_surname, same_cohort in tries:
        left = k - int(done.sum())
        if left <= 0:
            break
        rand = rng.random(n)
        keys = [rand, male]
        if same_cohort:
            keys.insert(1, cohort)
        if same_surname:
            keys.insert(1, sur)
        order = np.lexsort(tuple(keys) + (town,))
        prev = np.roll(order, 1)
        same = (town[order] == town[prev]) & (male[order] == male[prev]) & (hh[order] != hh[prev])
        if same_cohort:
            same &= cohort[order] == cohort[prev]
        if same_surname:
            same &= sur[order] == sur[prev]
        else:
            same &= own_surname[order]
        same[0] = False
        target = order[same]
        source = prev[same]
        ok = eligible[target] & source_ok[source] & ~done[target] & ~done[source]
        target, source = target[ok], source[ok]
        if len(target) > left:
            keep = np.sort(rng.choice(len(target), size=left, replace=False))
            target, source = target[keep], source[keep]
        # a source that is itself a target would hand over a name it is about to lose
        is_target = np.zeros(n, dtype=bool)
        is_target[target] = True
        ok = ~is_target[source]
        target, source = target[ok], source[ok]
        sur[target], g1[target], g2[target] = sur[source], g1[source], g2[source]
        done[target] = True
        done[source] = True
