"""The shapes of the API's answers, as the OpenAPI document shows them (issue 14, item 5).

Each model names the fields a client can rely on. An object whose fields come from the
catalogue (a record's items) or that grows with the service behind it is open
(``extra="allow"``): the named fields are always there, more may follow. Routes return these
models (or the service's dict, which FastAPI checks against the model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Open(BaseModel):
    """An answer whose named fields are always present; others may be added."""

    model_config = ConfigDict(extra="allow")


class Health(BaseModel):
    status: Literal["ok"]


# -- deliveries ------------------------------------------------------------------------------

JobState = Literal["queued", "running", "done", "failed"]


class DeliveryAccepted(BaseModel):
    job_id: int = Field(description="报送任务编号")
    state: Literal["queued"]
    status_url: str = Field(description="轮询任务状态的地址（也在 Location 响应头中）")


class JobError(BaseModel):
    code: str
    message: str


class DeliveryJob(Open):
    id: int
    state: JobState = Field(description="queued 排队中、running 入库中、done 已完成、failed 失败")
    state_label: str
    dataset: str
    dept_uscc: str
    file_name: str
    channel: str
    batch_id: int | None = Field(description="完成后的批次号，回执见 GET /batches/{batch_id}")
    error: JobError | None = Field(description="失败的原因")
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    rows_done: int | None = Field(None, description="入库中时已处理的行数")


class BatchPage(BaseModel):
    page: int
    size: int
    items: list[dict[str, Any]] = Field(description="批次：编号、数据集、文件、计数、时间")


class Receipt(Open):
    id: int
    page: int
    size: int
    rejects: list[dict[str, Any]] = Field(description="被拒行：行号、原因（本页）")
    warning_list: list[dict[str, Any]] = Field(description="提示（本页）")


# -- notifications ---------------------------------------------------------------------------


class Notification(BaseModel):
    event_id: str = Field(description="事件的稳定编号：同一事件总带同一编号，据此去重")
    kind: str = Field(description="通知类型，如 list.entered、list.exited、record.repaired")
    subject_id: int | None
    payload: dict[str, Any]
    created_at: str
    cursor: str


class NotificationPage(BaseModel):
    items: list[Notification]
    next: str = Field(description="下次作为 since 传回")
    has_more: bool


# -- reports ---------------------------------------------------------------------------------


class ReportLinks(BaseModel):
    verify: str = Field(description="公众核验页面")
    pdf: str
    verification: str


class ReportIssued(BaseModel):
    report_no: str
    subject_id: int
    kind: str
    sha256: str
    snapshot_at: str
    links: ReportLinks


class ReportVerification(Open):
    report_no: str
    genuine: bool = Field(description="存档内容是否与签发时一致")
    links: ReportLinks


# -- public queries --------------------------------------------------------------------------


class SearchItem(Open):
    subject_id: int
    name: str
    category: str | None


class SearchPage(Open):
    mode: Literal["code", "name"]
    items: list[SearchItem]
    has_more: bool
    page: int
    size: int
    as_of: str = Field(description="数据截至时间")


class Listing(Open):
    """A page of a public listing or of a subject's records: items whose fields are the
    catalogue's items the caller may see."""

    items: list[dict[str, Any]]


# -- checks, lists, cases --------------------------------------------------------------------


class Items(Open):
    items: list[dict[str, Any]]


class CheckResult(Open):
    check_id: int | None
    matter: Any
    subject: dict[str, Any] | None
    candidates: list[dict[str, Any]] = Field(description="按名称核查时的候选主体")
    hits: list[dict[str, Any]] = Field(
        description="命中的名单与记录（because_of 说明触发哪些措施）"
    )
    measures: list[dict[str, Any]] = Field(description="适用的奖惩措施")


class FeedbackGiven(BaseModel):
    check_id: int
    measures: list[dict[str, Any]]


class CaseEvent(Open):
    kind: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    at: str


class CaseFile(BaseModel):
    id: int
    name: str
    media_type: str
    size: int
    sha256: str


class CaseOut(Open):
    case_no: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    deadline: str
    urgency: Any
    events: list[CaseEvent] | None = None
    files: list[CaseFile] | None = None
    follow_code: str | None = Field(None, description="提出时返回一次，用于查询进度")


class CaseList(BaseModel):
    items: list[CaseOut]
