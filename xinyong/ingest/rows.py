"""Checking one row against its dataset: cell parsing, required items, cross-field rules,
the subject it is about, and its natural key.

A :class:`RowChecker` is compiled once per batch from the dataset definition (a parser per
column, lookup tables per enumeration) so that the per-row work is a few dict operations and
the check-digit functions. Pure logic: no database, no I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal

import orjson

from xinyong.batches.problems import CheckedRow, Problem
from xinyong.catalog.lists import KIND_ITEM, NAME_ITEM, ListRegister
from xinyong.catalog.schema import Dataset, Item, ItemType, Rule, RuleKind
from xinyong.codes import (
    CodeCheck,
    check_id_number,
    check_org_code,
    check_reg_no,
    check_tax_reg_no,
    check_taxpayer_no,
    check_uscc,
)
from xinyong.codes.catalog import code_catalog
from xinyong.ingest.values import (
    ValueProblem,
    parse_date,
    parse_decimal,
    parse_integer,
    parse_year,
)
from xinyong.records.keys import KEY_SEP
from xinyong.subjects.names import clean_name, normalize_name
from xinyong.subjects.refs import INDIVIDUAL_BUSINESS, ORGANISATION, PERSON, SubjectRef

ID_CARD_LABEL = "身份证"
_SPLIT_MULTI = re.compile(r"[;；,，、/|]")


Parser = Callable[[str], str]
_NO_LIMIT = 1 << 30

# Code checks are cached per batch: a department's own code is on every row, and subjects
# recur. The cache is cleared when full, so memory stays bounded whatever the file size.
_CODE_CACHE_LIMIT = 50_000


def _date_parser(value: str) -> str:
    if len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            date.fromisoformat(value)  # C fast path for the commonest form
            return value
        except ValueError:
            pass
    return parse_date(value).isoformat()


def _enum_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _enum_parser(item: Item) -> Parser:
    lookup: dict[str, str] = {}
    for opt in item.enum:
        for spelling in (opt.code, opt.label, *opt.aliases):
            lookup[spelling] = opt.label
            lookup[_enum_key(spelling)] = opt.label
            # Excel turns the code "01" into the number 1.
            if spelling.isdigit():
                lookup[str(int(spelling))] = opt.label
    allowed = "；".join(f"{o.code} {o.label}" for o in item.enum)
    order = {opt.label: n for n, opt in enumerate(item.enum)}

    def one(text: str) -> str:
        label = lookup.get(text) or lookup.get(_enum_key(text))
        if label is None:
            raise ValueProblem(
                "ENUM_INVALID", f"“{item.name}”的值“{text}”不在取值范围内：{allowed}"
            )
        return label

    if not item.multiple:
        return one

    def many(value: str) -> str:
        label = lookup.get(value)
        if label is not None:
            return label
        labels = {one(part.strip()) for part in _SPLIT_MULTI.split(value) if part.strip()}
        if not labels:
            raise ValueProblem("ENUM_INVALID", f"“{item.name}”未填写有效取值")
        # In the catalogue's order: '罚款;警告' and '警告;罚款' are the same decision.
        return ";".join(sorted(labels, key=order.__getitem__))

    return many


def _code_parser(check: Callable[[str], CodeCheck]) -> Parser:
    # Only the outcome is cached (not the CodeCheck with its facts): a few dozen bytes a code.
    cache: dict[str, tuple[str, str | None, str | None]] = {}

    def parse(value: str) -> str:
        hit = cache.get(value)
        if hit is None:
            if len(cache) >= _CODE_CACHE_LIMIT:
                cache.clear()
            result = check(value)
            hit = cache[value] = (
                (result.value, result.error, result.message)
                if not result.ok
                else (result.value, None, None)
            )
        if hit[1] is not None:
            raise ValueProblem(hit[1], hit[2] or "")
        return hit[0]

    return parse


def _parser_for(item: Item) -> Parser | None:
    """The parser of an item; ``None`` for plain text (checked inline, the commonest case) and
    for ID numbers, which depend on the 证件类型 beside them."""
    match item.type:
        case ItemType.TEXT | ItemType.ID_NUMBER:
            return None
        case ItemType.DATE:
            return _date_parser
        case ItemType.DECIMAL:
            unit = item.unit
            return lambda v: parse_decimal(v, unit=unit)
        case ItemType.INTEGER:
            return parse_integer
        case ItemType.YEAR:
            return parse_year
        case ItemType.ENUM:
            return _enum_parser(item)
        case ItemType.USCC:
            return _code_parser(check_uscc)
        case ItemType.TAXPAYER_NO:
            return _code_parser(check_taxpayer_no)
        case ItemType.ORG_CODE:
            return _code_parser(check_org_code)
        case ItemType.REG_NO:
            return _code_parser(check_reg_no)
    return None


class RowChecker:
    """Checks rows of one dataset delivered by one department."""

    def __init__(
        self,
        dataset: Dataset,
        dept_uscc: str,
        today: date,
        lists: ListRegister | None = None,
    ) -> None:
        self.dataset = dataset
        self.dept_uscc = dept_uscc
        self.today = today  # the delivery's day in Beijing: no decision may lie after it
        # the list register, for a list dataset whose register has kinds for it
        self.lists = lists if lists is not None and lists.of_dataset(dataset.code) else None
        self.items = dataset.items
        self._parsers: dict[str, Parser] = {
            i.code: p for i in dataset.items if (p := _parser_for(i)) is not None
        }
        self._parsed_order = tuple(self._parsers)
        # Codes legally issued although they fail their check (catalog/codes): accepted by the
        # checker, and each use is reported so that nobody mistakes them for verified codes.
        self._exceptions = code_catalog().exceptions
        self._code_items = tuple(
            i.code for i in dataset.items if i.type in (ItemType.USCC, ItemType.TAXPAYER_NO)
        )
        self._limits: dict[str, int] = {
            i.code: 64 if i.type is ItemType.ID_NUMBER else (i.max_length or _NO_LIMIT)
            for i in dataset.items
            if i.code not in self._parsers
            and (i.max_length is not None or i.type is ItemType.ID_NUMBER)
        }
        self.id_items = [i for i in dataset.items if i.type is ItemType.ID_NUMBER]
        self._id_cache: dict[str, CodeCheck] = {}
        self._tax_cache: dict[str, str] = {}
        sub = dataset.subject
        # Subject identifiers that are only conditionally required decide linking, not
        # acceptance: a row without any code waits in the pending queue instead of being lost.
        self.link_codes = {
            c
            for c in (sub.uscc, sub.org_code, sub.reg_no, sub.tax_no, sub.id_number, sub.id_type)
            if c
        }
        self.required = [i for i in dataset.items if i.required]
        self._required_codes = frozenset(i.code for i in self.required)
        names = {i.code: i.name for i in dataset.items}
        # Conditions compiled to plain tuples: pydantic attribute access is too slow per row.
        self.conditional = [
            (
                i.code,
                i.name,
                tuple(
                    (c.field, frozenset(c.in_), frozenset(c.contains), c.present, names[c.field])
                    for c in i.required_when
                ),
            )
            for i in dataset.items
            if i.required_when and i.code not in self.link_codes
        ]
        self._conditional_codes = frozenset(code for code, _, _ in self.conditional)
        self.rules: tuple[Rule, ...] = dataset.rules
        self._today_iso = self.today.isoformat()
        self._names = names
        self._name_norms: dict[str, str] = {}
        self._clean_names: dict[str, tuple[str, bool]] = {}
        self._key = tuple((k == "subject", k) for k in dataset.natural_key)

    # -- the whole row ---------------------------------------------------------------------

    def check(self, row_no: int, cells: Mapping[str, str], raw: list[str]) -> CheckedRow:
        """Check one row given as ``{item code: non-empty stripped text}``."""
        # Text is the common case and is stored as given: copy every cell, then fix up the few
        # that are too long or need parsing (a comprehension and set operations, not a loop
        # of Python statements per cell: this is the hottest code of a bulk load).
        data = dict(cells)
        row = CheckedRow(row_no=row_no, raw=raw, data=data)
        limit = self._limits.get
        for code in [c for c, v in cells.items() if len(v) > limit(c, _NO_LIMIT)]:
            value = data.pop(code)
            row.errors.append(
                Problem(
                    code,
                    value[:200],
                    "FIELD_TOO_LONG",
                    f"“{self._names[code]}”长度 {len(value)} 超过上限 {self._limits[code]} 个字符",
                )
            )
        parsers = self._parsers
        for code in [c for c in self._parsed_order if c in data]:  # item order: stable receipts
            value = data[code]
            try:
                data[code] = parsers[code](value)
            except ValueProblem as p:
                del data[code]
                row.errors.append(Problem(code, value, p.code, p.message))
        if self._exceptions:
            for code in self._code_items:
                issued = self._exceptions.get(data.get(code, ""))
                if issued is not None:
                    row.warnings.append(
                        Problem(
                            code,
                            issued.code,
                            "CODE_ISSUED_EXCEPTION",
                            f"{issued.code} 未通过校验码检验，按合法签发代码名单接收"
                            f"（{issued.authority}，{issued.notice}）",
                        )
                    )
        self._required(row)
        if self.id_items:
            self._id_numbers(row)
        if self.rules:
            self._rules(row)
        self._whole_row(row)
        return row

    def check_clean(self, row_no: int, cells: dict[str, str], raw: list[str]) -> CheckedRow:
        """Check a row whose cells the columnar checks (``ingest/columnar.py``) found already
        canonical: within their lengths, parsed to themselves, required items present, ID
        numbers valid as written, the dataset's rules met. What is left is what :meth:`check`
        does after those steps, by the same code: the subject, the source department, the list
        kind and the natural key."""
        row = CheckedRow(row_no=row_no, raw=raw, data=cells)
        self._whole_row(row)
        return row

    def _whole_row(self, row: CheckedRow) -> None:
        self._subject(row)
        self._source_dept(row)
        if self.lists is not None:
            self._list_kind(row, self.lists)
        if not row.errors:
            self._finish(row)

    def _required(self, row: CheckedRow) -> None:
        data = row.data
        missing = self._required_codes.difference(data)
        if missing:
            failed = {p.field for p in row.errors}
            for item in self.required:
                if item.code in missing and item.code not in failed:
                    row.errors.append(
                        Problem(item.code, None, "FIELD_REQUIRED", f"必填项“{item.name}”为空")
                    )
        if self._conditional_codes.issubset(data):
            return
        failed = {p.field for p in row.errors}
        for code, name, conditions in self.conditional:
            if code in data or code in failed:
                continue
            for fname, in_, contains, present, other in conditions:
                value = data.get(fname)
                if present is not None:
                    holds = (value is not None) == present
                elif value is None:
                    holds = False
                elif in_:
                    holds = value in in_
                else:
                    holds = not contains.isdisjoint(value.split(";"))
                if holds:
                    row.errors.append(
                        Problem(
                            code,
                            None,
                            "FIELD_REQUIRED_IF",
                            f"“{other}”为“{value or ''}”时，“{name}”必填",
                        )
                    )
                    break

    def _id_numbers(self, row: CheckedRow) -> None:
        """ID numbers: a 居民身份证号码 is checked (and 15 digits become 18); others are text."""
        for item in self.id_items:
            if item.code not in row.data:
                continue
            value = row.data[item.code]
            id_type = row.data.get(item.id_type_field) if item.id_type_field else None
            if id_type not in (None, ID_CARD_LABEL):
                if len(value) > 64:
                    row.errors.append(
                        Problem(item.code, value, "FIELD_TOO_LONG", f"“{item.name}”超过 64 个字符")
                    )
                continue
            result = self._id_cache.get(value)
            if result is None:
                if len(self._id_cache) >= _CODE_CACHE_LIMIT:
                    self._id_cache.clear()
                result = self._id_cache[value] = check_id_number(value, self.today)
            if not result.ok:
                del row.data[item.code]
                row.errors.append(
                    Problem(item.code, value, result.error or "ID_INVALID", result.message or "")
                )
                continue
            row.data[item.code] = result.value
            for w in result.warnings:
                row.warnings.append(Problem(item.code, value, "ID_REGION_UNKNOWN", w))

    def _rules(self, row: CheckedRow) -> None:
        data = row.data
        for rule in self.rules:
            if rule.kind is RuleKind.DATE_ORDER:
                assert rule.before and rule.after
                first, second = data.get(rule.before), data.get(rule.after)
                if first and second and first > second:
                    a, b = self.dataset.item(rule.before), self.dataset.item(rule.after)
                    row.errors.append(
                        Problem(
                            rule.after,
                            second,
                            "DATE_ORDER",
                            f"“{b.name}”（{second}）早于“{a.name}”（{first}）",
                        )
                    )
            elif rule.kind is RuleKind.NOT_FUTURE:
                assert rule.field
                value = data.get(rule.field)
                if value and value > self._today_iso:
                    name = self.dataset.item(rule.field).name
                    row.errors.append(
                        Problem(rule.field, value, "DATE_FUTURE", f"“{name}”{value} 晚于今天")
                    )
            elif rule.kind is RuleKind.SIMPLE_PROCEDURE_PERSON:
                self._simple_procedure(rule, row)

    def _simple_procedure(self, rule: Rule, row: CheckedRow) -> None:
        """河南省社会信用条例 art. 13 para. 3: keep simple-procedure penalties on persons out."""
        data = row.data
        category_field = self.dataset.subject.category
        if not category_field or data.get(category_field) != rule.person_category:
            return
        assert rule.types_field
        types = data.get(rule.types_field)
        if not types or not set(types.split(";")) <= set(rule.minor_types):
            return
        fine = data.get(rule.fine_field) if rule.fine_field else None
        if fine is not None and rule.max_fine_yuan is not None:
            yuan = Decimal(fine) * (rule.fine_unit_yuan or 1)
            if yuan > rule.max_fine_yuan:
                return
        row.errors.append(
            Problem(
                rule.types_field,
                types,
                "HN_SIMPLE_PROCEDURE",
                "自然人适用简易程序的行政处罚（警告或"
                f"{rule.max_fine_yuan}元以下罚款）依《河南省社会信用条例》第十三条不归集到平台",
            )
        )

    def _subject(self, row: CheckedRow) -> None:
        sub = self.dataset.subject
        data = row.data
        name = data.get(sub.name, "")
        if name:
            known = self._clean_names.get(name)
            if known is None:
                if len(self._clean_names) >= _CODE_CACHE_LIMIT:
                    self._clean_names.clear()
                known = self._clean_names[name] = clean_name(name)
            cleaned, changed = known
            if changed:
                data[sub.name] = name = cleaned  # stored cleaned; the cell as sent stays in raw
                row.warnings.append(
                    Problem(
                        sub.name,
                        cleaned,
                        "NAME_NORMALISED",
                        "主体名称含不可见字符或兼容字符，已规范化后存储（NFKC，去除零宽、"
                        f"方向控制等格式字符）：{cleaned}",
                    )
                )
        category = (data.get(sub.category) if sub.category else None) or sub.default_category
        if not category:
            return  # the category item is required and its absence is already reported
        norm = self._name_norms.get(name)
        if norm is None:
            if len(self._name_norms) >= _CODE_CACHE_LIMIT:
                self._name_norms.clear()
            norm = self._name_norms[name] = normalize_name(name)
        ref = SubjectRef(category=category, name=name, name_norm=norm)
        if sub.uscc:
            code = data.get(sub.uscc)
            if code is not None and len(code) == 15:
                # a 税务登记号 in a 纳税人识别号 column: the subject is its 组织机构代码
                ref.org_code = code[6:]
            else:
                ref.uscc = code
        if sub.org_code:
            ref.org_code = data.get(sub.org_code) or ref.org_code
        if sub.reg_no:
            ref.reg_no = data.get(sub.reg_no)
        if sub.tax_no and not (ref.uscc or ref.org_code) and category != PERSON:
            ref.org_code = self._tax_org_code(data.get(sub.tax_no))
        if sub.id_number and sub.id_number in data:
            id_type = data.get(sub.id_type) if sub.id_type else None
            if id_type in (None, ID_CARD_LABEL):
                ref.id_number = data[sub.id_number]
            else:
                ref.other_id = f"{id_type}:{data[sub.id_number]}"
        if sub.former_names and sub.former_names in data:
            ref.former_names = tuple(
                clean_name(n.strip())[0]
                for n in _SPLIT_MULTI.split(data[sub.former_names])
                if n.strip()
            )
        if sub.status:
            ref.status = data.get(sub.status)
        if ref.uscc and ref.org_code and ref.uscc[8:17] != ref.org_code:
            row.errors.append(
                Problem(
                    sub.org_code,
                    ref.org_code,
                    "ORG_CODE_MISMATCH",
                    f"组织机构代码 {ref.org_code} 与统一社会信用代码中的 {ref.uscc[8:17]} 不一致",
                )
            )
        if ref.uscc and category != PERSON:
            derived = INDIVIDUAL_BUSINESS if ref.uscc.startswith("92") else ORGANISATION
            given = bool(sub.category and data.get(sub.category))
            if derived != category and not given:
                ref.category = derived  # the dataset's default category, corrected by the code
            elif derived != category:
                row.warnings.append(
                    Problem(
                        sub.category,
                        category,
                        "CATEGORY_MISMATCH",
                        f"统一社会信用代码前两位表明主体为{derived}，但类别填写为{category}；按代码归类",
                    )
                )
                ref.category = derived
        if category == PERSON and (ref.uscc or ref.org_code or ref.reg_no):
            # A person has no organisation codes: trust the ID number, keep the rest as data.
            ref.uscc = ref.org_code = ref.reg_no = None
        if not name and sub.name not in {p.field for p in row.errors}:
            row.errors.append(Problem(sub.name, None, "FIELD_REQUIRED", "主体名称为空"))
        row.subject = ref

    def _tax_org_code(self, value: str | None) -> str | None:
        """The 组织机构代码 inside a valid 15-character 税务登记号, else None (the cell stays
        text: 税务登记号 of persons and odd local forms are not codes to link by)."""
        if value is None or len(value) != 15:
            return None
        hit = self._tax_cache.get(value)
        if hit is None:
            if len(self._tax_cache) >= _CODE_CACHE_LIMIT:
                self._tax_cache.clear()
            result = check_tax_reg_no(value)
            hit = self._tax_cache[value] = result.facts["org_code"] if result.ok else ""
        return hit or None

    def _source_dept(self, row: CheckedRow) -> None:
        fname = self.dataset.source_dept_code
        if not fname:
            return
        value = row.data.get(fname)
        if value and value != self.dept_uscc:
            row.errors.append(
                Problem(
                    fname,
                    value,
                    "DEPT_MISMATCH",
                    f"数据来源单位代码 {value} 与报送部门 {self.dept_uscc} 不一致；"
                    "部门只能报送本单位的数据",
                )
            )

    def _list_kind(self, row: CheckedRow, lists: ListRegister) -> None:
        """名单类别: the entry's kind from the register (by code or name, else by 名单名称), of
        this dataset, designated by the delivering department; stored as its code."""
        given = row.data.get(KIND_ITEM)
        kind = lists.resolve(self.dataset.code, given, row.data.get(NAME_ITEM))
        own = lists.of_dataset(self.dataset.code)
        known = "、".join(f"{k.code}（{k.name}）" for k in own)
        if kind is None:
            row.errors.append(
                Problem(
                    KIND_ITEM,
                    given or row.data.get(NAME_ITEM),
                    "LIST_KIND_UNKNOWN",
                    f"名单类别{f'“{given}”' if given else '未填写，且名单名称'}不在名单目录中；"
                    f"本数据集可用的名单类别：{known}",
                )
            )
            return
        if kind.dataset != self.dataset.code:
            row.errors.append(
                Problem(
                    KIND_ITEM,
                    given,
                    "LIST_KIND_DATASET",
                    f"名单类别 {kind.code}（{kind.name}）应报送到数据集 {kind.dataset}，"
                    f"不能报送到 {self.dataset.code}",
                )
            )
            return
        if self.dept_uscc not in lists.designated_by.get(kind.code, frozenset()):
            row.errors.append(
                Problem(
                    KIND_ITEM,
                    given or kind.name,
                    "LIST_KIND_NOT_DESIGNATOR",
                    f"本部门不是“{kind.name}”的认定部门，不能报送该名单；"
                    f"该名单由{'、'.join(kind.designators)}认定",
                )
            )
            return
        row.data[KIND_ITEM] = kind.code

    def _finish(self, row: CheckedRow) -> None:
        assert row.subject is not None
        data = row.data
        subject_key = row.subject.key
        parts = [subject_key if is_subject else data.get(k, "") for is_subject, k in self._key]
        row.natural_key = KEY_SEP.join(parts)
        row.content_hash = content_hash(data)
        if self.dataset.decision_date and self.dataset.decision_date in data:
            row.decision_date = date.fromisoformat(data[self.dataset.decision_date])


def content_hash(data: Mapping[str, str]) -> str:
    """Hash of the normalised values: the same facts written differently hash the same."""
    return hashlib.blake2b(
        orjson.dumps(data, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()
