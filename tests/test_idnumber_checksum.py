"""The ID checksum (GB 11643-1999) against literal numbers, not numbers made by the same code (issue 14 item 8: a
wrong weight or check character would pass every test that builds its IDs with ``make_id``)."""

from __future__ import annotations

import polars as pl
import pytest

from fangpin.domain import idnumber

#: valid: the standard's own examples, and an ID from the fault corpus (tests/fault_corpus, 06_numeric_ids.xlsx)
KNOWN_GOOD = ["11010519491231002X", "440524188001010014", "450225195803090885"]
#: the same numbers with the check character changed: only the checksum is wrong
KNOWN_BAD = ["110105194912310021", "440524188001010015", "450225195803090886"]


@pytest.mark.parametrize("number", KNOWN_GOOD)
def test_a_known_good_id_is_valid(number):
    assert idnumber.classify(number) == ("valid", number)
    assert idnumber.classify(number.lower()) == ("valid", number)


@pytest.mark.parametrize("number", KNOWN_BAD)
def test_a_known_bad_checksum_is_rejected(number):
    assert idnumber.classify(number) == ("bad_checksum", None)


def test_the_frame_version_agrees_on_the_literals():
    df = idnumber.add_id_columns(pl.DataFrame({"id": KNOWN_GOOD + KNOWN_BAD}), "id")
    assert df["id_status"].to_list() == ["valid"] * 3 + ["bad_checksum"] * 3
    assert df["id_number"].to_list() == KNOWN_GOOD + [None] * 3


def test_a_15_digit_number_gets_the_standards_check_character():
    assert idnumber.classify("110105491231002") == ("converted15", "11010519491231002X")
