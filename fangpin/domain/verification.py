"""What a county may write back (SPEC §8): the values a returned workbook's fill-in columns accept.

One list for both sides: the workbooks offer these values in their dropdowns (``fangpin.reports``); the feedback
reader (``warehouse.followup.reader``) must accept exactly these (plus the synonyms of ``aliases.yaml``) — a test
compares its lists with these and reads back a workbook filled from the dropdowns.
"""

from __future__ import annotations

import datetime as dt

#: 核实结果 of a pushed household
RESULTS = ("纳入监测", "不纳入", "待核实")
#: the results that close a case (they need a 核实日期)
DECISIONS = ("纳入监测", "不纳入")
#: 监测对象类别 (认定类别) of an included household
CATEGORIES = ("脱贫不稳定户", "边缘易致贫户", "突发严重困难户")
#: the dates a returned workbook may carry
DATE_RANGE = (dt.date(2000, 1, 1), dt.date(2099, 12, 31))
