"""Publish-ready tables of the official forms (SPEC §8): :func:`warehouse.forms.build_forms` makes the form tables
of a snapshot date, the steps of ``sql/forms.sql`` read them in the order the workbooks list them, and the temporary
tables are dropped. ``fangpin.reports.forms`` writes them."""

from __future__ import annotations

import datetime as dt

from warehouse import forms as wf
from warehouse.runner import runner_for

TABLES = ("roster", "members", "wall", "archive", "archive_village")


def form_tables(wh, as_of: dt.date) -> dict:
    """{roster, members, wall, archive, archive_village (frames), roster_source, counts}."""
    wh = runner_for(wh)
    try:
        built = wf.build_forms(wh, as_of)
        out: dict = {name: wh.frame(f"publish/forms.{name}") for name in TABLES}
    finally:
        wf.drop_temps(wh)
    out["roster_source"] = built["roster_source"]
    out["counts"] = built["counts"]
    return out
