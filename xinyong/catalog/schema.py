"""Typed definitions of the credit information catalogue (信用信息目录).

The catalogue is data, not code: one YAML file per dataset under ``catalog/datasets/``.
These models are what a file must look like; :mod:`xinyong.catalog.loader` turns files into
them and names the file, the item and the problem when a file is broken.

The dataset attributes are the ones Henan requires of every catalogue entry (河南省社会信用条例
art. 11): 数据代码, 数据名称, 数据格式, 提供单位, 主体类型, 信息性质, 共享属性, 覆盖范围, 更新周期,
信息项.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Nature(StrEnum):
    """信息性质."""

    BASIC = "基础"
    TRUSTWORTHY = "守信"
    DISHONEST = "失信"
    OTHER = "其他"


class Disclosure(StrEnum):
    """共享属性 (Henan art. 18)."""

    PUBLIC = "公开公示"
    GOVERNMENT = "政务共享"
    AUTHORISED = "授权查询"


class Database(StrEnum):
    """The three databases of 一网三库一平台."""

    GOVERNMENT = "政务"
    LEGAL_PERSON = "法人"
    NATURAL_PERSON = "自然人"


class ItemType(StrEnum):
    """What an information item (信息项) holds; decides how a cell is checked and normalised."""

    TEXT = "text"
    DATE = "date"  # normalised to YYYY-MM-DD; 2099-12-31 means 长期
    DECIMAL = "decimal"  # normalised to a plain decimal string, unit in ``unit``
    INTEGER = "integer"
    ENUM = "enum"  # accepts code or label, stored as the label
    USCC = "uscc"  # 统一社会信用代码
    # 纳税人识别号: a USCC, or the old 15-character 税务登记号 (division + 组织机构代码)
    TAXPAYER_NO = "taxpayer_no"
    ORG_CODE = "org_code"  # 组织机构代码
    REG_NO = "reg_no"  # 15-digit 工商注册号
    ID_NUMBER = "id_number"  # 证件号码; a 居民身份证号码 when the paired id type says so
    YEAR = "year"


class EnumOption(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    label: str
    aliases: tuple[str, ...] = ()


class Condition(BaseModel):
    """When a conditionally required item (条件必填) becomes required.

    ``field`` names another item of the dataset; exactly one of ``in_`` (the other item's
    normalised value is one of these labels) or ``contains`` (for a multi-valued enum: one of
    its values is among these labels) is given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    field: str
    in_: tuple[str, ...] = Field(default=(), alias="in")
    contains: tuple[str, ...] = ()
    present: bool | None = None  # required when ``field`` is filled (True) / empty (False)

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        given = sum(1 for x in (self.in_, self.contains) if x) + (self.present is not None)
        if given != 1:
            raise ValueError("条件须且只须给出 in、contains、present 之一")
        return self


class Item(BaseModel):
    """信息项: one column of a dataset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: str
    type: ItemType = ItemType.TEXT
    required: bool = False
    required_when: tuple[Condition, ...] = ()  # any one condition makes the item required
    max_length: int | None = None
    enum: tuple[EnumOption, ...] = ()
    multiple: bool = False  # several enum values in one cell, separated by ; ， 、 or ,
    unit: str | None = None  # e.g. 万元
    mask: bool = False  # 脱敏: masked wherever shown to someone without the right to see it
    aliases: tuple[str, ...] = ()  # other header spellings departments use
    id_type_field: str | None = None  # for ID_NUMBER: the item that holds the 证件类型
    description: str = ""  # 填写说明 for the upload template
    # the name pages and reports show people when the catalogue's own is a technical one
    # (行政相对人代码_1(统一社会信用代码) → 统一社会信用代码); the catalogue name otherwise
    label: str | None = None

    @property
    def shown_name(self) -> str:
        return self.label or self.name

    @model_validator(mode="after")
    def _enum_given(self) -> Item:
        if self.type is ItemType.ENUM and not self.enum:
            raise ValueError("枚举类型的信息项必须列出 enum 取值")
        if self.type is not ItemType.ENUM and (self.enum or self.multiple):
            raise ValueError("只有枚举类型的信息项可以有 enum / multiple")
        return self


class SubjectFields(BaseModel):
    """Which items of a dataset describe its subject (信用主体).

    Every field is an item code of the dataset, or ``None`` when the dataset lacks it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    category: str | None = None  # 行政相对人类别 / 主体类别 item
    default_category: str | None = None  # when the dataset has no category item
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    # 税务登记号 (text: persons' forms vary); a valid 15-character one links by its 组织机构代码
    tax_no: str | None = None
    id_type: str | None = None
    id_number: str | None = None
    former_names: str | None = None  # 曾用名, several separated by ; (法人登记基础信息)
    status: str | None = None  # 登记状态 (法人登记基础信息)


class Summary(BaseModel):
    """The items of a record's one-line summary on the portal (文号 · 类别 · 金额 · 机关); the
    date is the dataset's ``decision_date``. Each is an item code of the dataset, or absent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str | None = None  # 决定书文号
    kind: str | None = None  # 处罚类别, 许可类别, 名单类别…
    amount: str | None = None  # 罚款金额 (with the item's unit)
    authority: str | None = None  # the deciding body, when not the delivering department
    until: str | None = None  # 有效期至 (2099-12-31 reads 长期)


class RuleKind(StrEnum):
    DATE_ORDER = "date_order"  # ``before`` <= ``after``
    NOT_FUTURE = "not_future"  # ``field`` is not after today
    SIMPLE_PROCEDURE_PERSON = "simple_procedure_person"  # Henan art. 13 para. 3


class Rule(BaseModel):
    """A cross-field check of a dataset. The logic lives in code, its parameters here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RuleKind
    before: str | None = None
    after: str | None = None
    field: str | None = None
    # simple_procedure_person: the subject category that is a natural person, the penalty type
    # field, the fine field (in ``fine_unit``) and the threshold in yuan (APL art. 51: 200).
    person_category: str | None = None
    types_field: str | None = None
    fine_field: str | None = None
    fine_unit_yuan: int | None = None
    max_fine_yuan: int | None = None
    minor_types: tuple[str, ...] = ()


PERIOD_DAYS = {"day": 1, "week": 7, "month": 31, "quarter": 92, "year": 366}


class Expected(BaseModel):
    """What monitoring expects of each department delivering the dataset: at least one
    delivery every ``period`` (allowing ``grace_days`` calendar days), with a volume per period
    between ``min_rows`` and ``max_rows`` (数据监测). Event-driven datasets (a listing within 7
    working days of the decision) declare no period: their silence means nothing happened."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    period: Literal["day", "week", "month", "quarter", "year"] | None = None
    grace_days: int = Field(default=0, ge=0, le=366)
    min_rows: int = Field(default=0, ge=0)
    max_rows: int | None = Field(default=None, ge=1)
    source: str = ""  # where the expectation comes from (the catalogue's 更新周期, an agreement…)

    @model_validator(mode="after")
    def _bounds(self) -> Expected:
        if self.max_rows is not None and self.max_rows < self.min_rows:
            raise ValueError("expected.max_rows 不能小于 min_rows")
        if self.period is None and self.min_rows:
            raise ValueError("expected.min_rows 须与 period 一起给出")
        return self


class Readers(BaseModel):
    """Which government accounts may read a non-public dataset (按需知悉, need-to-know): those
    of the listed roles whatever their department, and the clerks and systems of the listed
    departments. Absent, every government account reads it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # government roles only: the subject always reads its own records, the public only
    # 公开公示 ones, whatever the catalogue says
    roles: tuple[Literal["operator", "clerk", "dept_system", "auditor"], ...] = ()
    departments: tuple[str, ...] = ()  # 统一社会信用代码 of departments (catalog departments.yaml)
    basis: str  # why these and no others: the rule or decision it follows

    @model_validator(mode="after")
    def _codes(self) -> Readers:
        for code in self.departments:
            if len(code) != 18 or not code.isalnum() or code != code.upper():
                raise ValueError(f"readers.departments 中的“{code}”不是统一社会信用代码")
        if not self.roles and not self.departments:
            raise ValueError("readers 须列出至少一个角色或部门")
        return self

    def admit(self, role: str, dept_uscc: str | None) -> bool:
        return role in self.roles or (dept_uscc is not None and dept_uscc in self.departments)


class Dataset(BaseModel):
    """One catalogue entry (信用信息目录条目)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")  # 数据代码
    name: str  # 数据名称
    format: Literal["结构化"] = "结构化"  # 数据格式
    provider: str  # 提供单位
    subject_types: tuple[str, ...]  # 主体类型
    nature: Nature  # 信息性质
    disclosure: Disclosure  # 共享属性
    coverage: str = "濮阳市"  # 覆盖范围
    update_cycle: str  # 更新周期
    expected: Expected = Expected()  # what data monitoring expects per department (数据监测)
    category: str | None = None  # 全国基础目录 category id (C01…C13)
    legal_basis: str = ""  # 纳入依据
    database: Database | None = None  # forced database; otherwise follows the subject
    list_kind: str | None = None  # red / black / … for list datasets
    natural_key: tuple[str, ...]  # item codes, or "subject" for the subject's code
    subject: SubjectFields
    source_dept_code: str | None = None  # item holding 数据来源单位统一社会信用代码
    decision_date: str | None = None  # item holding the decision date, if any
    items: tuple[Item, ...]
    rules: tuple[Rule, ...] = ()
    summary: Summary = Summary()
    readers: Readers | None = None  # 按需知悉: who of the government reads it; None: all

    @model_validator(mode="after")
    def _references(self) -> Dataset:
        codes = {i.code for i in self.items}
        if len(codes) != len(self.items):
            seen: set[str] = set()
            dup = next(i.code for i in self.items if i.code in seen or seen.add(i.code))  # type: ignore[func-returns-value]
            raise ValueError(f"信息项代码重复: {dup}")

        def need(ref: str | None, where: str) -> None:
            if ref is not None and ref not in codes:
                raise ValueError(f"{where} 引用了不存在的信息项 {ref}")

        for key in self.natural_key:
            if key != "subject":
                need(key, "natural_key")
        for fname, ref in self.subject.model_dump().items():
            if fname not in ("default_category",):
                need(ref, f"subject.{fname}")
        need(self.source_dept_code, "source_dept_code")
        need(self.decision_date, "decision_date")
        for fname, ref in self.summary.model_dump().items():
            need(ref, f"summary.{fname}")
        for item in self.items:
            for cond in item.required_when:
                need(cond.field, f"信息项 {item.code} 的 required_when")
            need(item.id_type_field, f"信息项 {item.code} 的 id_type_field")
        for rule in self.rules:
            for ref in (rule.before, rule.after, rule.field, rule.types_field, rule.fine_field):
                need(ref, f"规则 {rule.kind}")
        if self.subject.category is None and self.subject.default_category is None:
            raise ValueError("subject 须给出 category 或 default_category")
        if self.readers is not None and self.disclosure is Disclosure.PUBLIC:
            raise ValueError("公开公示的数据集人人可读，不能限定 readers")
        return self

    def item(self, code: str) -> Item:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)


class Department(BaseModel):
    """报送部门: a unit that may submit the listed datasets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uscc: str
    name: str
    division: str = "410900"
    datasets: tuple[str, ...] = ()
