"""Deciding between scenarios: the pinned baseline, acceptance rules, reports."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from algomancy_api.acceptance import acceptance
from algomancy_api.audit import audited
from algomancy_api.decision_models import AcceptanceIn, BaselineIn, BaselineOut
from algomancy_api.deps import ManagerDep
from algomancy_api.frames import (
    FRAME_OPENAPI_EXTRA,
    TabularFrameResponse,
    TabularFrameSourceResponse,
    frame_json_bytes,
)
from algomancy_api.reports import Report, build_report
from algomancy_api.reports.html import html_report
from algomancy_api.reports.pdf import pdf_report
from algomancy_api.routers import JSON, Responses
from algomancy_api.routers.kpis import COMPARE_ANSWERS, Baseline, DiffOnly, Ids, Tolerance
from algomancy_core.decisions import DEFAULT_TOLERANCE

router = APIRouter(prefix="/sessions/{session_id}", tags=["decisions"])

NOT_FOUND: Responses = {404: {"description": "No such session or scenario."}}


def _pinned(manager: ManagerDep) -> BaselineOut:
    pinned = manager.baseline_id()
    record = manager.get_by_id(pinned) if pinned is not None else None
    if record is None:
        return BaselineOut(scenario_id=None, tag=None)
    return BaselineOut(scenario_id=record.id, tag=record.tag)


@router.get("/baseline", response_model=BaselineOut, summary="The pinned baseline")
def get_baseline(manager: ManagerDep) -> BaselineOut:
    """The session's pinned baseline scenario (`scenario_id` null when none is pinned)."""
    return _pinned(manager)


@router.put(
    "/baseline",
    response_model=BaselineOut,
    summary="Pin the baseline",
    responses=NOT_FOUND,
    dependencies=[audited("baseline.pin")],
)
def put_baseline(body: BaselineIn, manager: ManagerDep) -> BaselineOut:
    """Pin a scenario of the session as its baseline (replacing the pinned one): the
    default of `baseline=pinned` in comparisons and reports. While pinned it cannot
    be deleted (409)."""
    record = manager.pin_baseline(body.scenario_id)
    return BaselineOut(scenario_id=record.id, tag=record.tag)


@router.delete(
    "/baseline",
    response_model=BaselineOut,
    summary="Unpin the baseline",
    dependencies=[audited("baseline.unpin")],
)
def delete_baseline(manager: ManagerDep) -> BaselineOut:
    """Unpin the baseline (nothing to do when none is pinned); answers `scenario_id` null."""
    manager.unpin_baseline()
    return BaselineOut(scenario_id=None, tag=None)


@router.post(
    "/acceptance",
    response_model=TabularFrameResponse,
    response_model_exclude_none=True,
    summary="Check candidates against acceptance rules (tabular frame)",
    openapi_extra=FRAME_OPENAPI_EXTRA,
    responses={
        400: {"description": "A rule names an unknown KPI."},
        404: {"description": "No such session, or a baseline or candidate not found."},
        409: {"description": "`baseline` is `pinned` and the session has no pinned baseline."},
    },
)
def check_acceptance(body: AcceptanceIn, manager: ManagerDep) -> Response:
    """One row per candidate (`candidate` tag, `id`), a column per rule holding
    `pass`, `fail` or `missing` (the candidate or the baseline has no value: not
    complete, or no value for the KPI), and `overall`: `pass` when every rule
    passes, `fail` when one fails, else `missing`."""
    frame, context = acceptance(manager, body)
    source = TabularFrameSourceResponse(
        kind="acceptance",
        id=manager.session_id,
        label=f"Acceptance in session {manager.display_name}",
        context=context,
    )
    return Response(frame_json_bytes(frame, source=source), media_type=JSON)


class ReportFormat(StrEnum):
    XLSX = "xlsx"
    HTML = "html"
    PDF = "pdf"


REPORT_TYPES = {
    ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}


def render_report(made: Report, fmt: ReportFormat) -> bytes:
    """The report as a file of `fmt` (openpyxl is imported when an XLSX is asked for)."""
    if fmt is ReportFormat.HTML:
        return html_report(made).encode()
    if fmt is ReportFormat.XLSX:
        from algomancy_api.reports.xlsx import xlsx_report

        return xlsx_report(made)
    return pdf_report(made)


def report_disposition(session_name: str, fmt: ReportFormat) -> str:
    name = f"report-{session_name}.{fmt.value}"
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_. ") else "_" for c in name)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


@router.get(
    "/report",
    summary="Download a comparison report (XLSX, HTML or PDF)",
    response_class=Response,
    responses=COMPARE_ANSWERS
    | {
        400: {"description": "A PDF of more than 500 scenarios (ask for fewer, or XLSX/HTML)."},
        200: {
            "description": "The report as a file (`Content-Disposition: attachment`).",
            "content": {media: {} for media in REPORT_TYPES.values()},
        },
    },
)
def report(
    manager: ManagerDep,
    ids: Ids = None,
    baseline: Baseline = None,
    format: Annotated[ReportFormat, Query(description="`xlsx`, `html` or `pdf`.")] = (
        ReportFormat.XLSX
    ),
    tolerance: Tolerance = DEFAULT_TOLERANCE,
    diff_only: DiffOnly = False,
) -> Response:
    """The comparison of the scenarios `ids` (all by default) against `baseline`
    (optional; `pinned` for the session's) as a file. XLSX: a summary sheet with
    deltas, verdicts and conditional fills, a parameters sheet (only those that
    differ with `diff_only`), a sheet per KPI and a lineage sheet. HTML: one
    self-contained file (charts as inline SVG, no outside URL), readable printed.
    PDF: that HTML rendered by fpdf2 (the `reports` extra)."""
    made = build_report(manager, ids, baseline, tolerance=tolerance, diff_only=diff_only)
    body = render_report(made, format)
    disposition = report_disposition(manager.display_name, format)
    return Response(
        body, media_type=REPORT_TYPES[format], headers={"Content-Disposition": disposition}
    )
