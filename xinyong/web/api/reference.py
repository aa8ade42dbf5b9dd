"""The catalogue as a department system reads it (open to anyone: these are published
lists): the datasets it may deliver, the business matters it checks for, the measures list
(联合奖惩措施清单) and the list kinds (名单目录). Read from the catalogue the application was
started with, the same data the CLI lists."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from xinyong.catalog.loader import Catalog
from xinyong.catalog.schema import Disclosure, Nature
from xinyong.web.api.contract import app_measures, public

router = APIRouter(tags=["目录与清单"])


class DatasetItem(BaseModel):
    code: str = Field(description="信息项代码")
    name: str = Field(description="信息项名称")
    required: bool = Field(description="是否必填（另有条件必填时以目录规则为准）")


class DatasetOut(BaseModel):
    code: str = Field(description="数据集代码，报送、查询时使用")
    name: str
    provider: str = Field(description="提供单位")
    subject_types: list[str] = Field(description="主体类型")
    nature: Nature = Field(description="信息性质")
    disclosure: Disclosure = Field(description="共享属性")
    update_cycle: str = Field(description="更新周期")
    list_kind: str | None = Field(description="名单类数据集：red 或 black 等；其他为 null")
    items: list[DatasetItem]


class Datasets(BaseModel):
    items: list[DatasetOut]


class MatterOut(BaseModel):
    code: str = Field(description="业务事项代码，核查时使用")
    name: str
    description: str


class Matters(BaseModel):
    items: list[MatterOut]


class MeasureOut(BaseModel):
    id: str = Field(description="措施编号")
    kind: Literal["reward", "punishment"] = Field(description="reward 激励 / punishment 惩戒")
    kind_label: str
    obligation: Literal["must", "may"] = Field(description="must 应当 / may 可以")
    obligation_label: str
    content: str = Field(description="具体事项")
    target: str = Field(description="实施对象")
    means: str = Field(description="实施手段")
    implementers: list[str] = Field(description="实施主体")
    basis: str = Field(description="实施依据")
    matters: list[str] = Field(description="适用的业务事项代码")


class MeasuresOut(BaseModel):
    items: list[MeasureOut]


class ListKindOut(BaseModel):
    code: str = Field(description="名单类别代码")
    name: str
    aliases: list[str]
    color: Literal["red", "black"] = Field(description="red 守信红名单 / black 失信名单")
    list_class: str = Field(description="名单类别（严重失信主体名单、失信被执行人等）")
    dataset: str = Field(description="所属数据集代码")
    basis: str = Field(description="认定依据")
    criteria: str = Field(description="认定标准")
    validity: str = Field(description="有效期")
    exit: str = Field(description="移出条件")
    repair: str = Field(description="信用修复")
    source: str = Field(description="出处")


class ListKinds(BaseModel):
    items: list[ListKindOut]


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


@router.get("/datasets", summary="数据集（信用信息目录）及其信息项", **public())
def datasets(request: Request) -> Datasets:
    return Datasets(
        items=[
            DatasetOut(
                code=d.code,
                name=d.name,
                provider=d.provider,
                subject_types=list(d.subject_types),
                nature=d.nature,
                disclosure=d.disclosure,
                update_cycle=d.update_cycle,
                list_kind=d.list_kind,
                items=[DatasetItem(code=i.code, name=i.name, required=i.required) for i in d.items],
            )
            for d in _catalog(request).datasets.values()
        ]
    )


@router.get("/matters", summary="业务事项（核查时的 matter）", **public())
def matters(request: Request) -> Matters:
    found = app_measures(request.app.state).matters.values()
    return Matters(
        items=[
            MatterOut(code=m.code, name=m.name, description=m.description)
            for m in found
            if not m.retired
        ]
    )


@router.get("/measures", summary="联合奖惩措施清单（可按业务事项筛选）", **public(400))
def measures(
    request: Request,
    matter: Annotated[str | None, Query(description="业务事项代码：只列适用于该事项的措施")] = None,
) -> MeasuresOut:
    loaded = app_measures(request.app.state)
    code = loaded.matter(matter).code if matter is not None else None
    return MeasuresOut(
        items=[
            MeasureOut(**m.summary(), matters=list(m.matters))
            for m in loaded.measures.values()
            if code is None or code in m.matters
        ]
    )


@router.get("/list-kinds", summary="名单目录：各类红黑名单的认定依据、有效期与移出条件", **public())
def list_kinds(request: Request) -> ListKinds:
    return ListKinds(
        items=[
            ListKindOut(
                code=k.code,
                name=k.name,
                aliases=list(k.aliases),
                color=k.color,
                list_class=k.list_class.value,
                dataset=k.dataset,
                basis=k.basis_text(),
                criteria=k.criteria,
                validity=k.validity,
                exit=k.exit,
                repair=k.repair,
                source=k.source,
            )
            for k in _catalog(request).lists.kinds.values()
        ]
    )
