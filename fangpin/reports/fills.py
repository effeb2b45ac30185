"""What goes into the columns people fill in (shaded yellow, with a dropdown or an input message): one definition per
kind of entry, shared by every workbook. The values offered are those the feedback reader accepts
(:mod:`fangpin.domain.verification`)."""

from __future__ import annotations

from fangpin.domain.verification import CATEGORIES, NAMESAKE_RESULTS, RESULTS
from fangpin.reports.xlsx import Fill

VERIFY_RESULT = Fill(
    "请从下拉列表选择：纳入监测（经核实符合条件）、不纳入（不符合条件）、待核实（尚未作出认定）。", choices=RESULTS
)
CATEGORY = Fill("纳入监测时请选择认定的监测对象类别；不填则按“疑似类别”认定。", choices=CATEGORIES)
VERIFY_DATE = Fill("入户核实的日期，如 2026-10-12。选择“纳入监测”或“不纳入”时必须填写。", date=True)
VERIFIER = Fill("核实人姓名（多人用顿号分隔）。")
NAMESAKE_RESULT = Fill(
    "仅“同名待确认”户填写：入户核实后选择该同名记录“是本户”或“不是本户”（见“同名待确认”栏）。", choices=NAMESAKE_RESULTS
)
SCREEN_RESULT = Fill("请从下拉列表选择排查结果：纳入监测、不纳入或待核实。", choices=RESULTS)
SCREEN_DATE = Fill("入户排查的日期，如 2026-07-15。", date=True)
SCREENER = Fill("排查人姓名。")
HELPER = Fill("帮扶联系人姓名。")
TRACKING = Fill("跟踪走访的情况，如“已走访，收入稳定”。")
MEASURE = Fill("已落实的行业帮扶措施，如“医疗救助”“临时救助”（多项用顿号分隔）。")
MEASURE_DATE = Fill("帮扶措施落实的日期，如 2026-10-20。", date=True)
HANDLER = Fill("经办人姓名。")
HANDLING = Fill("处理情况，如“已更正，下次报送”。")
FIX = Fill("整改措施或完成情况。")
FIX_DATE = Fill("整改完成的日期，如 2026-11-02。", date=True)
APPROVED_ON = Fill("县级审定的日期，如 2026-11-30。", date=True)
OPINION = Fill("意见，如“同意”“暂缓”及理由。")
CHECKER = Fill("核对人姓名。")
CHECK_DATE = Fill("核对的日期，如 2026-11-05。", date=True)
NOTE = Fill("备注。")
COMPLETE = Fill("请从下拉列表选择：齐全、不齐全或不适用。", choices=("齐全", "不齐全", "不适用"))
VISIT_DATE = Fill("走访的日期，如 2026-10-20。", date=True)
VISIT_RESULT = Fill(
    "请从下拉列表选择走访结果：无风险、持续关注或建议纳入监测。", choices=("无风险", "持续关注", "建议纳入监测")
)
VISITOR = Fill("走访人姓名。")
