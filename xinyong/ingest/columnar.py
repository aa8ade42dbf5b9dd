"""The columnar checks of a chunk: every check the catalogue declares, over whole columns.

A chunk's rows are turned into columns (one polars Series per item) and each check of
:class:`~xinyong.ingest.rows.RowChecker` that looks at cells is asked of the column at once:
lengths, cell parsers, 合法签发 code exceptions, ID numbers, required and conditionally
required items, the dataset's rules. The parsers themselves are not rewritten: each is asked
once per *distinct* value of its column (a chunk repeats its dates, enumerations, agency codes
and subjects), through the very functions the row checker uses, so the two paths cannot
disagree on what a value means.

A row passes the columnar checks when those checks would find nothing to say about it: its
cells already stripped, each parsed cell valid (its normal form, ``2024-05-12`` for
``2024/5/12``, is what the parser gave for that distinct value), ID numbers valid as written,
nothing missing, no rule broken, no warning due. Such a row goes to
:meth:`RowChecker.check_clean` with its cells in normal form, which does what remains row by
row (the subject it names, the source department, the list kind, the natural key and hash).
Every other row goes through :func:`~xinyong.ingest.checking.check_row` exactly as before: the
row checker stays the one source of reasons and messages, and the columnar checks only decide
who may skip it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import TYPE_CHECKING, Any

from xinyong.catalog.schema import RuleKind
from xinyong.codes import check_id_number
from xinyong.ingest.columns import ColumnPlan
from xinyong.ingest.rows import ID_CARD_LABEL, RowChecker
from xinyong.ingest.values import ValueProblem

if TYPE_CHECKING:
    import polars as pl

# Below this many rows the columns cost more than they save.
MIN_ROWS = 16
# Leading or trailing characters that str.strip() might remove (a superset: all of Unicode's
# White_Space, the C0 controls and the C1 range Python also counts as space).
_PADDED = r"^[\s\x00-\x20\x7f-\xa0]|[\s\x00-\x20\x7f-\xa0]$"


@dataclass
class CleanRows:
    """Which rows of a chunk pass the columnar checks, and the normal form of their cells."""

    passed: list[bool]
    # item code -> {cell as sent: normal form}, only for cells whose normal form differs
    normal: dict[str, dict[str, str]]

    def normalise(self, data: dict[str, str]) -> dict[str, str]:
        """A passing row's ``{item code: stripped cell}`` in normal form, in place (the keys
        keep their order, as the row checker's in-place parsing keeps it)."""
        for code, forms in self.normal.items():
            value = data.get(code)
            if value is not None:
                data[code] = forms.get(value, value)
        return data


def clean_rows(checker: RowChecker, plan: ColumnPlan, cells: list[list[str]]) -> CleanRows:
    """For each row (its cells, exactly the header's width), whether the row checker's cell
    checks would find nothing to say about it."""
    import polars as pl

    columns = list(zip(*cells, strict=True))
    frame = pl.DataFrame(
        [pl.Series(code, columns[at], dtype=pl.String) for at, code in plan.positions]
    )
    col = _Columns(frame)
    conds: list[pl.Expr] = [~pl.col(code).str.contains(_PADDED) for code in frame.columns]
    conds.extend(_parsed(checker, col))  # first: it sets the normal forms the others read
    conds.extend(_lengths(checker, col))
    conds.extend(_id_numbers(checker, col))
    conds.extend(_required(checker, col))
    conds.extend(_rules(checker, col))
    mask = frame.select(pl.all_horizontal(conds).fill_null(False).alias("ok"))
    return CleanRows(mask.to_series().to_list(), col.normal)


class _Columns:
    """The chunk's columns as values (an empty cell is no value) in normal form."""

    def __init__(self, frame: pl.DataFrame) -> None:
        import polars as pl

        self.pl = pl
        self.frame = frame
        self.codes = set(frame.columns)
        self.normal: dict[str, dict[str, str]] = {}

    def cell(self, code: str | None) -> pl.Expr:
        """The cells as sent (stripped already: padded rows fail their own check)."""
        polars = self.pl
        if code is None or code not in self.codes:
            none: pl.Expr = polars.lit(None, dtype=polars.String)
            return none
        expr: pl.Expr = polars.when(polars.col(code) != "").then(polars.col(code))
        return expr

    def value(self, code: str | None) -> pl.Expr:
        """The values in normal form."""
        forms = self.normal.get(code or "")
        expr: pl.Expr = self.cell(code).replace(forms) if forms else self.cell(code)
        return expr

    def sent(self, code: str) -> list[str]:
        """The distinct non-empty cells as sent."""
        if code not in self.codes:
            return []
        return [v for v in self.frame[code].unique().to_list() if v]

    def distinct(self, code: str) -> list[str]:
        forms = self.normal.get(code, {})
        return list({forms.get(v, v) for v in self.sent(code)})

    def one_of(self, expr: pl.Expr, values: list[str]) -> pl.Expr:
        polars = self.pl
        return expr.is_in(polars.Series(values, dtype=polars.String).implode())

    def among(self, code: str, keep: Callable[[str], bool]) -> pl.Expr:
        """True where the value is one for which ``keep`` holds (asked once per value)."""
        return self.one_of(self.value(code), [v for v in self.distinct(code) if keep(v)])


def _parsed(checker: RowChecker, col: _Columns) -> Iterable[pl.Expr]:
    exceptions = checker._exceptions  # codes issued although they fail their check: warned
    code_items = set(checker._code_items)
    for code, parser in checker._parsers.items():
        if code not in col.codes:
            continue
        excepted: Any = exceptions if code in code_items else {}
        valid: list[str] = []
        forms: dict[str, str] = {}
        for v in col.sent(code):
            try:
                normal = parser(v)
            except ValueProblem:
                continue
            if normal in excepted:
                continue
            valid.append(v)
            if normal != v:
                forms[v] = normal
        if forms:
            col.normal[code] = forms
        yield col.cell(code).is_null() | col.one_of(col.cell(code), valid)


def _lengths(checker: RowChecker, col: _Columns) -> Iterable[pl.Expr]:
    for code, limit in checker._limits.items():
        if code in col.codes:
            yield (col.cell(code).str.len_chars() <= limit).fill_null(True)


def _id_numbers(checker: RowChecker, col: _Columns) -> Iterable[pl.Expr]:
    today = checker.today

    def valid_as_written(v: str) -> bool:
        result = check_id_number(v, today)
        return result.ok and result.value == v and not result.warnings

    for item in checker.id_items:
        if item.code not in col.codes:
            continue
        id_type = col.value(item.id_type_field)
        other_document = (id_type.is_not_null() & (id_type != ID_CARD_LABEL)).fill_null(False)
        yield (
            col.cell(item.code).is_null() | other_document | col.among(item.code, valid_as_written)
        )


def _required(checker: RowChecker, col: _Columns) -> Iterable[pl.Expr]:
    polars = col.pl
    for item in checker.required:
        yield col.cell(item.code).is_not_null()
    for code, _name, conditions in checker.conditional:
        holds: list[pl.Expr] = []
        for fname, in_, contains, present, _other in conditions:
            value = col.value(fname)
            if present is not None:
                holds.append(value.is_not_null() if present else value.is_null())
            elif in_:
                holds.append(col.one_of(value, sorted(in_)))
            else:
                holds.append(col.among(fname, _shares_part(contains)))
        if holds:
            triggered = polars.any_horizontal([h.fill_null(False) for h in holds])
            yield col.cell(code).is_not_null() | ~triggered


def _rules(checker: RowChecker, col: _Columns) -> Iterable[pl.Expr]:
    for rule in checker.rules:
        if rule.kind is RuleKind.DATE_ORDER:
            before, after = col.value(rule.before), col.value(rule.after)
            yield ~(before > after).fill_null(False)
        elif rule.kind is RuleKind.NOT_FUTURE:
            yield ~(col.value(rule.field) > checker._today_iso).fill_null(False)
        elif rule.kind is RuleKind.SIMPLE_PROCEDURE_PERSON:
            category = checker.dataset.subject.category
            if not category or not rule.types_field:
                continue
            only_minor = col.among(rule.types_field, _parts_within(set(rule.minor_types)))
            excluded = (col.value(category) == rule.person_category) & only_minor
            if rule.fine_field and rule.max_fine_yuan is not None:
                unit, cap = rule.fine_unit_yuan or 1, rule.max_fine_yuan
                over = col.among(rule.fine_field, partial(_over, unit=unit, cap=cap))
                excluded = excluded & ~over.fill_null(False)
            yield ~excluded.fill_null(False)
        else:  # a rule this module does not know: every row goes through the row checker
            yield col.pl.lit(False)


def _shares_part(parts: frozenset[str]) -> Callable[[str], bool]:
    return lambda v: not parts.isdisjoint(v.split(";"))


def _parts_within(allowed: set[str]) -> Callable[[str], bool]:
    return lambda v: set(v.split(";")) <= allowed


def _over(value: str, *, unit: Any, cap: Any) -> bool:
    """Whether a fine (in normal form) is above the simple procedure's cap, in yuan."""
    try:
        return bool(Decimal(value) * unit > cap)
    except InvalidOperation:
        return False  # not a number: the row fails its parser check anyway
