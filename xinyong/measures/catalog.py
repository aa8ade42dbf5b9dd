"""Load and check the measures list (联合奖惩措施清单) from ``catalog/measures/*.yaml``.

Each measure carries the five columns of 河南省社会信用条例 art. 29 (具体事项, 实施对象, 实施手段,
实施主体, 实施依据), whether it rewards or punishes, must (应当) or may (可以), what triggers it
(a list or dataset, record states, a severity, or N clean years), the business matters
(业务事项) it applies to, and its validity. A broken file fails at load time naming the file and
the measure, as the dataset catalogue does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from xinyong import yamlio
from xinyong.catalog.lists import ListClass
from xinyong.catalog.loader import Catalog
from xinyong.errors import CatalogError, XinyongError
from xinyong.records import states


class Kind(StrEnum):
    REWARD = "reward"  # 守信激励
    PUNISHMENT = "punishment"  # 失信惩戒

    @property
    def label(self) -> str:
        return "激励" if self is Kind.REWARD else "惩戒"


class Obligation(StrEnum):
    MUST = "must"  # 应当
    MAY = "may"  # 可以

    @property
    def label(self) -> str:
        return "应当" if self is Obligation.MUST else "可以"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Matter(_Strict):
    """A business matter (业务事项) a department checks a subject for."""

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    name: str
    description: str = ""
    retired: bool = False


class Reason(_Strict):
    """A feedback reason code (反馈原因代码)."""

    code: str = Field(pattern=r"^[A-Z][0-9]{2}$")
    outcome: Literal["applied", "not_applied"]
    label: str


class Implementer(_Strict):
    """What an implementing body (实施主体) named in measures means in Puyang."""

    name: str
    depts: tuple[str, ...] = ()
    submitters_of: tuple[str, ...] = ()


class Severity(_Strict):
    """A filter on a record's item: the record triggers only when it holds one of the values."""

    code: str
    label: str
    dataset: str
    item: str
    any_of: tuple[str, ...]


class Basis(_Strict):
    """实施依据: an instrument and its article (and item)."""

    instrument: str
    article: str
    item: str | None = None

    def text(self) -> str:
        art = f"第{self.article}条" if self.article.isdigit() else self.article
        item = f"第（{self.item}）项" if self.item else ""
        return f"《{self.instrument}》{art}{item}"


class Trigger(_Strict):
    """What makes a measure apply to a subject.

    ``lists``: a list entry in force of one of these list kinds (名单类别, ``catalog/lists``);
    ``classes``: of any kind of these classes (expanded into ``lists`` at load). ``dataset``:
    a record of that (non-list) dataset; ``severity``: only records passing that severity
    filter. All in one of ``states``. ``clean_years``: no dishonesty record for that many
    years (rewards for three clean years). A whole list dataset never triggers: it mixes lists.
    """

    lists: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    dataset: str | None = None
    states: tuple[str, ...] = (states.PUBLISHED,)
    severity: str | None = None
    clean_years: int | None = Field(default=None, ge=1, le=10)

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        given = [bool(self.lists or self.classes), self.dataset is not None]
        given.append(self.clean_years is not None)
        if sum(given) != 1:
            raise ValueError("触发条件须且只能给出 lists/classes、dataset 或 clean_years 之一")
        bad = [s for s in self.states if s not in states.ALL_STATES]
        if bad:
            raise ValueError(f"未知的记录状态：{'、'.join(bad)}")
        return self


class KindRef(_Strict):
    """List kinds by code and/or by class (classes are expanded into ``lists`` at load)."""

    lists: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()


class Lookback(_Strict):
    """A penalty of ``severity`` decided within ``years`` before the day asked about."""

    severity: str
    years: int = Field(ge=1, le=10)


class ConflictRule(_Strict):
    """冲突规则: rewards that a punishment or a dishonesty listing rules out.

    ``red_list``: an entry of a ``red`` kind for a subject with a listing of a ``blocked_by``
    kind in force (or a ``penalty`` inside the look-back) is refused at delivery or stored
    suspended (``on_delivery``); one already stored is suspended while the conflict lasts.
    ``matter``: in a check, an applying punishment (``punishments``, ``*`` = any) removes the
    rewards it contradicts (``rewards``, ``*`` = every reward of the matter).
    """

    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    applies_to: Literal["red_list", "matter"]
    red: KindRef | None = None
    blocked_by: KindRef | None = None
    penalty: Lookback | None = None
    on_delivery: Literal["refuse", "suspend"] | None = None
    punishments: tuple[str, ...] = ()
    rewards: tuple[str, ...] = ()
    reason: str  # the Chinese reason the department and the reader are given
    basis: tuple[Basis, ...] = Field(min_length=1)
    evidence: Literal["V", "S", "I"]

    @model_validator(mode="after")
    def _shape(self) -> ConflictRule:
        if self.applies_to == "red_list":
            if self.red is None or (self.blocked_by is None and self.penalty is None):
                raise ValueError("red_list 规则须给出 red 及 blocked_by 或 penalty")
            if self.on_delivery is None:
                raise ValueError("red_list 规则须给出 on_delivery（refuse 或 suspend）")
        elif not self.punishments or not self.rewards:
            raise ValueError("matter 规则须给出 punishments 和 rewards（* 表示全部）")
        return self

    def basis_text(self) -> str:
        return "；".join(b.text() for b in self.basis)

    def removes(self, punishment: str, reward: str) -> bool:
        return ("*" in self.punishments or punishment in self.punishments) and (
            "*" in self.rewards or reward in self.rewards
        )


class Measure(_Strict):
    id: str = Field(pattern=r"^[A-Z0-9][A-Z0-9-]*$")
    # HN-Reg art. 35: the measure reaches the responsible persons (法定代表人、主要负责人、实际
    # 控制人、直接责任人) of an organisation on a triggering list
    responsible_persons: bool = False
    list: str  # national_basic / henan_regulation / henan_supplement / national_policy / local
    edition: str | None = None
    category: int | None = Field(default=None, ge=1, le=3)  # the national list's 3 categories
    group: str | None = None
    kind: Kind
    obligation: Obligation
    content: str  # 具体事项
    target: str  # 实施对象
    means: str  # 实施手段
    implementers: tuple[str, ...] = Field(min_length=1)  # 实施主体
    basis: tuple[Basis, ...] = Field(min_length=1)  # 实施依据
    triggers: tuple[Trigger, ...] = Field(min_length=1)
    matters: tuple[str, ...]
    valid_from: date | None = None
    valid_until: date | None = None
    evidence: Literal["V", "S", "I"]
    note: str | None = None

    def basis_text(self) -> str:
        return "；".join(b.text() for b in self.basis)

    def in_force(self, on: date) -> bool:
        if self.valid_from is not None and on < self.valid_from:
            return False
        return self.valid_until is None or on <= self.valid_until

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "obligation": self.obligation.value,
            "obligation_label": self.obligation.label,
            "content": self.content,
            "target": self.target,
            "means": self.means,
            "implementers": list(self.implementers),
            "basis": self.basis_text(),
        }


class _File(_Strict):
    matters: tuple[Matter, ...] = ()
    reasons: tuple[Reason, ...] = ()
    implementers: tuple[Implementer, ...] = ()
    severities: tuple[Severity, ...] = ()
    measures: tuple[Measure, ...] = ()
    conflicts: tuple[ConflictRule, ...] = ()


class SubmittingDepartment(Protocol):
    """What resolving an implementing body needs of a department (``xinyong.departments``)."""

    @property
    def uscc(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def datasets(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class Measures:
    """The loaded measures list, keyed for lookup."""

    matters: dict[str, Matter]
    reasons: dict[str, Reason]
    severities: dict[str, Severity]
    measures: dict[str, Measure]
    # 实施主体 as the measures files declare them; matched to the stored departments only when
    # used (``depts_of``), because departments are operational data that change at run time.
    implementers: dict[str, Implementer]
    files: dict[str, Path] = field(default_factory=dict)  # measure id → file
    kind_datasets: dict[str, str] = field(default_factory=dict)  # list kind → its dataset
    conflicts: tuple[ConflictRule, ...] = ()

    def matter(self, code_or_name: str) -> Matter:
        """A business matter by its code or its Chinese name; unknown → ``MATTER_UNKNOWN``."""
        key = code_or_name.strip()
        found = self.matters.get(key.lower())
        if found is None:
            found = next((m for m in self.matters.values() if m.name == key), None)
        if found is None or found.retired:
            known = "、".join(
                f"{m.code}（{m.name}）" for m in self.matters.values() if not m.retired
            )
            raise XinyongError("MATTER_UNKNOWN", f"没有业务事项“{key}”。现有：{known}")
        return found

    def measure(self, measure_id: str) -> Measure:
        found = self.measures.get(measure_id.strip().upper())
        if found is None:
            raise XinyongError("MEASURE_UNKNOWN", f"措施清单中没有措施 {measure_id}")
        return found

    def for_matter(self, matter: str, on: date) -> list[Measure]:
        """The measures in force on ``on`` that apply to ``matter``, in list order."""
        return [m for m in self.measures.values() if matter in m.matters and m.in_force(on)]

    def trigger_datasets(self) -> frozenset[str]:
        """The datasets whose records can trigger a measure (list kinds by their dataset)."""
        return frozenset(
            d for m in self.measures.values() for t in m.triggers for d in self.datasets_of(t)
        )

    def datasets_of(self, trigger: Trigger) -> tuple[str, ...]:
        if trigger.dataset:
            return (trigger.dataset,)
        return tuple(sorted({self.kind_datasets[k] for k in trigger.lists}))

    def implementer_depts(
        self, name: str, departments: Mapping[str, SubmittingDepartment]
    ) -> tuple[str, ...]:
        """The codes of the ``departments`` (keyed by code) that the 实施主体 ``name`` means:
        those its declaration lists by name or code, those submitting its datasets, or the
        department of that very name. A listed department that is not registered is skipped."""
        by_name = {d.name: d.uscc for d in departments.values()}
        imp = self.implementers.get(name)
        found: dict[str, None] = {}
        if imp is not None:
            for ref in imp.depts:
                uscc = by_name.get(ref) or (ref if ref in departments else None)
                if uscc is not None:
                    found.setdefault(uscc, None)
            for ds in imp.submitters_of:
                for dept in departments.values():
                    if ds in dept.datasets:
                        found.setdefault(dept.uscc, None)
        if not found and name in by_name:  # a department's own name needs no mapping
            found[by_name[name]] = None
        return tuple(found)

    def depts_of(
        self, measure: Measure, departments: Mapping[str, SubmittingDepartment]
    ) -> tuple[str, ...]:
        """The department codes implementing ``measure`` among ``departments``."""
        seen: dict[str, None] = {}
        for name in measure.implementers:
            for uscc in self.implementer_depts(name, departments):
                seen.setdefault(uscc, None)
        return tuple(seen)

    def unresolved_implementers(self, departments: Mapping[str, SubmittingDepartment]) -> list[str]:
        """实施主体 that mean no registered department (notifications for them reach nobody)."""
        names = {n for m in self.measures.values() for n in m.implementers}
        return sorted(n for n in names if not self.implementer_depts(n, departments))


def _read(path: Path) -> _File:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError("CATALOG_SYNTAX", f"{path}: 无法解析 YAML：{exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError("CATALOG_SHAPE", f"{path}: 文件内容应为映射（matters/measures 等）")
    try:
        return _File.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = ".".join(str(p) for p in loc)
            if len(loc) >= 2 and isinstance(loc[1], int):
                try:
                    entry = raw[loc[0]][loc[1]]
                    name = entry.get("id") or entry.get("code") or entry.get("name")
                except (KeyError, IndexError, TypeError, AttributeError):
                    name = None
                rest = ".".join(str(p) for p in loc[2:]) or "(整项)"
                where = f"{loc[0]} 中的 {name or f'#{loc[1] + 1}'} 的 {rest}"
            lines.append(f"{path}: {where}: {err['msg']}")
        raise CatalogError("MEASURES_INVALID", "\n".join(lines)) from exc


def load_measures(root: Path, catalog: Catalog) -> Measures:
    """Load every ``*.yaml`` under ``root`` (``catalog/measures``) and check references."""
    if not root.is_dir():
        raise CatalogError("MEASURES_MISSING", f"措施清单目录不存在：{root}")
    matters: dict[str, Matter] = {}
    reasons: dict[str, Reason] = {}
    severities: dict[str, Severity] = {}
    implementers: dict[str, Implementer] = {}
    measures: dict[str, Measure] = {}
    conflict_rules: dict[str, ConflictRule] = {}
    where: dict[str, Path] = {}

    def put(table: dict[str, Any], key: str, value: Any, path: Path, what: str) -> None:
        if key in table:
            raise CatalogError(
                "MEASURES_INVALID", f"{path}: {what} {key} 重复（已在 {where[what + key]} 中定义）"
            )
        table[key] = value
        where[what + key] = path

    for path in sorted(root.glob("*.yaml")):
        data = _read(path)
        for m in data.matters:
            put(matters, m.code, m, path, "业务事项")
        for r in data.reasons:
            put(reasons, r.code, r, path, "原因代码")
        for s in data.severities:
            put(severities, s.code, s, path, "严重程度")
        for i in data.implementers:
            put(implementers, i.name, i, path, "实施主体")
        for me in data.measures:
            put(measures, me.id, me, path, "措施")
        for cr in data.conflicts:
            put(conflict_rules, cr.id, cr, path, "冲突规则")
    files = {mid: where["措施" + mid] for mid in measures}
    for sev in severities.values():
        ds = catalog.datasets.get(sev.dataset)
        if ds is None or sev.item not in {i.code for i in ds.items}:
            raise CatalogError(
                "MEASURES_INVALID",
                f"{where['严重程度' + sev.code]}: 严重程度 {sev.code} 引用的 "
                f"{sev.dataset}.{sev.item} 不在目录中",
            )
    register = catalog.lists
    for mid, me in list(measures.items()):
        path = files[me.id]
        expanded = []
        for t in me.triggers:
            if t.dataset is not None and t.dataset not in catalog.datasets:
                raise CatalogError(
                    "MEASURES_INVALID", f"{path}: 措施 {me.id} 的触发数据集 {t.dataset} 不在目录中"
                )
            if t.dataset is not None and catalog.datasets[t.dataset].list_kind:
                raise CatalogError(
                    "MEASURES_INVALID",
                    f"{path}: 措施 {me.id} 以名单数据集 {t.dataset} 整体触发；"
                    "名单数据集混有多种名单，请按名单类别（lists）或名单类（classes）触发",
                )
            unknown_kinds = [k for k in t.lists if register.kind(k) is None]
            if unknown_kinds:
                raise CatalogError(
                    "MEASURES_INVALID",
                    f"{path}: 措施 {me.id} 的触发名单类别 {'、'.join(unknown_kinds)} "
                    "不在名单目录（catalog/lists）中",
                )
            bad_classes = [c for c in t.classes if c not in {x.value for x in ListClass}]
            if bad_classes:
                raise CatalogError(
                    "MEASURES_INVALID",
                    f"{path}: 措施 {me.id} 的触发名单类 {'、'.join(bad_classes)} 未定义；"
                    f"可用：{'、'.join(x.value for x in ListClass)}",
                )
            if t.severity is not None:
                found = severities.get(t.severity)
                if found is None or found.dataset != t.dataset:
                    raise CatalogError(
                        "MEASURES_INVALID",
                        f"{path}: 措施 {me.id} 的严重程度 {t.severity} 未定义或不属于 {t.dataset}",
                    )
            if t.classes:
                kinds = sorted(set(t.lists) | register.of_classes(t.classes))
                t = t.model_copy(update={"lists": tuple(kinds), "classes": ()})
            expanded.append(t)
        me = measures[mid] = me.model_copy(update={"triggers": tuple(expanded)})
        unknown = [c for c in me.matters if c not in matters]
        if unknown:
            raise CatalogError(
                "MEASURES_INVALID", f"{path}: 措施 {me.id} 的业务事项 {'、'.join(unknown)} 未定义"
            )
        if me.valid_from and me.valid_until and me.valid_until < me.valid_from:
            raise CatalogError("MEASURES_INVALID", f"{path}: 措施 {me.id} 的有效期止早于起")
    conflicts = _check_conflicts(conflict_rules, where, catalog, severities, measures)
    return Measures(
        matters=matters,
        reasons=reasons,
        severities=severities,
        measures=measures,
        implementers=implementers,
        files=files,
        kind_datasets={k.code: k.dataset for k in register.kinds.values()},
        conflicts=conflicts,
    )


def _check_conflicts(
    rules: dict[str, ConflictRule],
    where: dict[str, Path],
    catalog: Catalog,
    severities: dict[str, Severity],
    measures: dict[str, Measure],
) -> tuple[ConflictRule, ...]:
    """Check each conflict rule's references and expand its classes into kinds."""
    register = catalog.lists
    out: list[ConflictRule] = []
    for rule in rules.values():
        path = where["冲突规则" + rule.id]
        refs: dict[str, KindRef] = {}
        for name in ("red", "blocked_by"):
            ref: KindRef | None = getattr(rule, name)
            if ref is None:
                continue
            unknown = [k for k in ref.lists if register.kind(k) is None]
            unknown += [c for c in ref.classes if c not in {x.value for x in ListClass}]
            if unknown:
                raise CatalogError(
                    "MEASURES_INVALID",
                    f"{path}: 冲突规则 {rule.id} 的 {name} 引用了未定义的名单类别或名单类："
                    + "、".join(unknown),
                )
            kinds = tuple(sorted(set(ref.lists) | register.of_classes(ref.classes)))
            refs[name] = KindRef(lists=kinds)
        if rule.penalty is not None and rule.penalty.severity not in severities:
            raise CatalogError(
                "MEASURES_INVALID",
                f"{path}: 冲突规则 {rule.id} 的严重程度 {rule.penalty.severity} 未定义",
            )
        named = [m for m in (*rule.punishments, *rule.rewards) if m != "*"]
        unknown_m = [m for m in named if m not in measures]
        if unknown_m:
            raise CatalogError(
                "MEASURES_INVALID",
                f"{path}: 冲突规则 {rule.id} 引用了未定义的措施 {'、'.join(unknown_m)}",
            )
        out.append(rule.model_copy(update=refs))
    return tuple(out)


def measures_dir(catalog: Catalog) -> Path:
    """The measures list lives beside the datasets, in ``<catalog>/measures``."""
    return catalog.root / "measures"
