"""The work plan's calendar (排查发现精准): full screenings in Q2 and Q4, priority-area screenings in Q1 and Q3.

A quarterly round runs on the 10th of the quarter's first month: departments push their monthly data by the end of
the month (domain-notes §3), so the previous quarter's extracts are in by then. The round id is the quarter the run
falls in; its reference date is the first day of that quarter.
"""


import datetime as dt

import dagster as dg

from pipelines.jobs import screening_round_job

QUARTERLY_CRON = "0 7 10 1,4,7,10 *"


def round_for(day: dt.date) -> tuple[str, str]:
    """(round id, kind) of the quarterly round scheduled on ``day``."""
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year}Q{quarter}", ("full" if quarter in (2, 4) else "priority")


def round_run_config(round_id: str, kind: str, pushed_on: dt.date) -> dict:
    cfg = {"round_id": round_id, "kind": kind, "pushed_on": pushed_on.isoformat()}
    return {"ops": {"suspects": {"config": cfg}, "round_outputs": {"config": cfg}}}


@dg.schedule(
    name="quarterly_screening",
    cron_schedule=QUARTERLY_CRON,
    execution_timezone="Asia/Shanghai",
    job=screening_round_job,
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="每季度排查：第二、四季度集中全面排查，第一、三季度重点区域排查。",
)
def quarterly_screening(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = context.scheduled_execution_time.date()
    round_id, kind = round_for(day)
    return dg.RunRequest(
        run_key=f"round-{round_id}",
        run_config=round_run_config(round_id, kind, day),
        tags={"fangpin/round": round_id, "fangpin/kind": kind},
    )


schedules = [quarterly_screening]
