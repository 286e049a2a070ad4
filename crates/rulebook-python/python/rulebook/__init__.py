"""Rules-as-code for Finnish service vouchers (palveluseteli).

Load a rulebook (a ``.rulebook`` file or a programme's folder of yearly
versions) and decide cases with it: one case as a dict, or a whole
population as an Apache Arrow table or a pandas DataFrame. Decisions are
the same as ``rulebook eval`` gives, from the same engine::

    import rulebook
    home_care = rulebook.load("rulebooks/helsinki-home-care")
    decision = home_care.evaluate({
        "decision_date": "2021-06-01",
        "household": {"gross_monthly_income": "900.00", "size": 1},
        "service": {"hourly_price": "40.00", "hours_per_month": 20},
    })
    decision["outputs"]["hourly_value"]        # Decimal('32.18')

Amounts are exact: ``decimal.Decimal`` in a decision, ``decimal128`` in an
Arrow table. Nothing is ever a float.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
from typing import Any, Dict, List, Mapping, Optional, Union

import pyarrow as pa

from . import _native

__all__ = [
    "load",
    "impact_summary",
    "impact_report",
    "Rulebook",
    "Counts",
    "RulebookError",
    "LoadError",
    "InvalidCaseError",
    "EvaluationError",
    "ColumnError",
]


class RulebookError(Exception):
    """Base class of every error this package raises."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class LoadError(RulebookError):
    """The rulebook could not be read, or it has errors.

    ``errors`` lists them as dicts with ``file``, ``line``, ``column``,
    ``code``, ``message`` and ``help``, as ``rulebook check --format json``
    reports them; ``str(error)`` shows them with their source lines.
    """

    @property
    def errors(self) -> List[Dict[str, Any]]:
        return self.details if isinstance(self.details, list) else []


class InvalidCaseError(RulebookError, ValueError):
    """The case does not fit the rulebook's inputs.

    ``problems`` lists them as dicts with ``path`` (such as
    ``household.size``), ``message`` and ``help``.
    """

    @property
    def problems(self) -> List[Dict[str, Any]]:
        return self.details if isinstance(self.details, list) else []


class EvaluationError(RulebookError):
    """The rulebook could not decide the case (a table without a matching
    row, a parameter without a value in force). ``code`` is the error's code
    and ``rule`` the definition being evaluated."""

    @property
    def code(self) -> Optional[str]:
        return (self.details or {}).get("code")

    @property
    def rule(self) -> Optional[str]:
        return (self.details or {}).get("rule")


class ColumnError(RulebookError, ValueError):
    """A column of a table names no input, or has a type that cannot be
    read. ``column`` names it."""

    @property
    def column(self) -> Optional[str]:
        return (self.details or {}).get("column")


_KINDS = {
    "load": LoadError,
    "input": InvalidCaseError,
    "evaluation": EvaluationError,
    "column": ColumnError,
    "argument": ValueError,
}


def _raise(error: "_native.NativeError") -> None:
    kind, message, details = error.args
    cls = _KINDS.get(kind, RulebookError)
    parsed = json.loads(details) if details else None
    if cls is ValueError:
        raise ValueError(message) from None
    raise cls(message, parsed) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()[:10]
    raise TypeError(f"{type(value).__name__} cannot be part of a case")


def _date(value: Union[None, str, datetime.date]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()[:10]


class Counts:
    """How many cases a batch had, and how many were decided, had invalid
    input, or could not be decided."""

    def __init__(self, cases: int, decided: int, invalid: int, failed: int) -> None:
        self.cases, self.decided, self.invalid, self.failed = cases, decided, invalid, failed

    def __repr__(self) -> str:
        return (
            f"Counts(cases={self.cases}, decided={self.decided}, "
            f"invalid={self.invalid}, failed={self.failed})"
        )


class Rulebook:
    """Versions of one programme, loaded and checked. Use :func:`load`."""

    def __init__(self, native: "_native.Rulebooks") -> None:
        self._native = native
        self.versions: List[Dict[str, Any]] = json.loads(native.describe())
        self.last_counts: Optional[Counts] = None

    @property
    def id(self) -> str:
        """The programme's id, such as ``helsinki.home_care``."""
        return self.versions[-1]["id"]

    def __repr__(self) -> str:
        names = ", ".join(v["version"] for v in self.versions)
        return f"<Rulebook {self.id} versions {names}>"

    def evaluate(
        self,
        case: Mapping[str, Any],
        date: Union[None, str, datetime.date] = None,
        explain: bool = False,
    ) -> Dict[str, Any]:
        """Decides one case: a dict with one entry per input (records as
        dicts, lists as lists) and ``decision_date``, as in a case file.
        ``date`` overrides the case's decision date; the version in force
        on it decides. Amounts may be ``Decimal``, ``int`` or text such as
        ``"1250.00"``; floats are refused by Python's JSON as inexact.

        Returns the decision: ``rulebook``, ``version``, ``decision_date``,
        ``eligible``, ``failed_criteria`` (with reasons) and ``outputs``,
        numbers as ``Decimal``; with ``explain=True`` also ``explanation``
        and ``explanation_graph``. Raises :class:`InvalidCaseError` with
        field paths, or :class:`EvaluationError`.
        """
        for value in _walk(case):
            if isinstance(value, float):
                raise InvalidCaseError(
                    "a float is not an exact amount; give it as Decimal or as text",
                    [{"path": "", "message": f"{value!r} is a float"}],
                )
        text = json.dumps(case, default=_json_default)
        try:
            decided = self._native.evaluate(text, _date(date), explain)
        except _native.NativeError as e:
            _raise(e)
        decision = json.loads(decided)
        types = next(
            (v["output_types"] for v in self.versions if v["version"] == decision["version"]), {}
        )
        decision["outputs"] = {
            k: _exact(v, types.get(k, "")) for k, v in decision["outputs"].items()
        }
        return decision

    def evaluate_batch(
        self,
        cases: Any,
        date: Union[None, str, datetime.date] = None,
        threads: Optional[int] = None,
        off_period: bool = False,
    ) -> pa.Table:
        """Decides a population: a ``pyarrow.Table``, ``RecordBatch`` or
        ``RecordBatchReader``, or a pandas ``DataFrame``, with one column per
        input path (``household.size``, or a struct column ``household``),
        lists of records as lists of structs, and optionally
        ``decision_date`` and a pass-through ``id``.

        Returns a ``pyarrow.Table`` with one row per case, in order:
        ``id``, ``decision_date``, ``version``, ``eligible``, one column per
        output (money as ``decimal128(18, 2)``), ``failed_criteria`` and
        ``error`` (JSON, for a case that was not decided). The work runs on
        ``threads`` threads (default: every core) without the GIL. The
        counts are in :attr:`last_counts`. Raises :class:`ColumnError` for a
        column that names no input.
        """
        table = _as_table(cases)
        try:
            batches, schema, counts = self._native.evaluate_batches(
                table.schema, table.to_batches(), _date(date), threads, off_period
            )
        except _native.NativeError as e:
            _raise(e)
        self.last_counts = Counts(*counts)
        return pa.Table.from_batches(batches, schema=schema)


def _walk(value: Any):
    if isinstance(value, Mapping):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
    else:
        yield value


_NUMERIC = {"money", "decimal", "percent"}


def _exact(value: Any, type_name: str) -> Any:
    """An output of a numeric type as Python holds it exactly: amounts and
    decimals (text in the decision's JSON) as ``Decimal``, percentages in
    points (``"35 %"`` is ``Decimal('35')``). Other outputs, and amounts
    inside records and lists, stay as the JSON has them."""
    base = type_name[len("optional "):] if type_name.startswith("optional ") else type_name
    if base in _NUMERIC and isinstance(value, str):
        return decimal.Decimal(value[:-2] if value.endswith(" %") else value)
    return value


def _as_table(cases: Any) -> pa.Table:
    if isinstance(cases, pa.Table):
        return cases
    if isinstance(cases, pa.RecordBatch):
        return pa.Table.from_batches([cases])
    if isinstance(cases, pa.RecordBatchReader):
        return cases.read_all()
    try:
        import pandas
    except ImportError:  # pragma: no cover - pandas is optional
        pandas = None
    if pandas is not None and isinstance(cases, pandas.DataFrame):
        return pa.Table.from_pandas(cases, preserve_index=False)
    raise TypeError(
        f"expected a pyarrow Table, RecordBatch or RecordBatchReader or a pandas DataFrame, "
        f"found {type(cases).__name__}"
    )


def impact_summary(
    old: Rulebook,
    new: Rulebook,
    cases: Any,
    date: Union[None, str, datetime.date] = None,
) -> str:
    """The impact of going from ``old`` to ``new`` (the newest version of
    each) on one shard of a population (a table or DataFrame, as for
    :meth:`Rulebook.evaluate_batch`), as a JSON summary that
    :func:`impact_report` merges with the other shards' (the same summary
    ``rulebook diff --save-summary`` writes)."""
    table = _as_table(cases)
    try:
        return _native.impact_summary(
            old._native, new._native, table.schema, table.to_batches(), _date(date)
        )
    except _native.NativeError as e:
        _raise(e)
    raise AssertionError("unreachable")


def impact_report(
    old: Rulebook,
    new: Rulebook,
    summaries: List[str],
    date: Union[None, str, datetime.date] = None,
) -> Dict[str, Any]:
    """Shard summaries merged into one impact report: totals by group,
    changes per output, failures; the ``impact`` part of ``rulebook diff
    --format json``."""
    try:
        return json.loads(_native.impact_report(old._native, new._native, list(summaries), _date(date)))
    except _native.NativeError as e:
        _raise(e)
    raise AssertionError("unreachable")


def load(path: Union[str, "os.PathLike[str]"]) -> Rulebook:
    """Loads a rulebook file, or every version in a programme's folder
    (the decision date picks the version), checked as ``rulebook check``
    checks them. Raises :class:`LoadError` when a version has errors."""
    try:
        return Rulebook(_native.Rulebooks.load(str(path)))
    except _native.NativeError as e:
        _raise(e)
    raise AssertionError("unreachable")

