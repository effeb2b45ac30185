"""Synthetic city generator with ground truth (used by the CLI and the tests only; never by the pipeline).

    from fangpin.synth import generate, clear_generated
    manifest = generate(home, size="demo", seed=20261, round_id="2026Q4", scale=1.0, formats="mixed")

See ``generator`` (orchestration), ``population`` (registry), ``events`` (planted scenarios and background),
``truth`` (independent SPEC §6 rules and their interpretation), ``feeds`` (department files and noise).
"""

from fangpin.synth.generator import FORMATS, SIZES, clear_generated, generate, parse_round

__all__ = ["FORMATS", "SIZES", "clear_generated", "generate", "parse_round"]
