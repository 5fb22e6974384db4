"""The FOCUS requirements model (vendored in tests/focus_model/) run over an export in DuckDB.

:func:`violations` reads the model's rules, keeps those that apply to this export (the features
it claims, the columns it has) and runs each as a query: presence of mandatory columns, data
types (Decimal, String, Date/Time, key-value JSON), formats, allowed values, null rules and the
unit price x quantity = cost rules. Nothing here is a hand-typed list of FOCUS columns: the
column names, value lists and conditions all come from the model files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

MODEL_DIR = Path(__file__).parent / "focus_model"
# What the export supports, in the model's applicability terms: a public price list and unit
# prices (the catalogue), negotiated prices (price files), measured usage (tokens), sub accounts
# (workspaces), tags (the job) and an account name. Rules of other features (commitment
# discounts, regions, capacity reservations...) do not apply.
CLAIMED = frozenset(
    {
        "PUBLIC_PRICE_LIST_SUPPORTED",
        "UNIT_PRICING_SUPPORTED",
        "NEGOTIATED_PRICING_SUPPORTED",
        "USAGE_MEASUREMENT_SUPPORTED",
        "SUB_ACCOUNT_SUPPORTED",
        "TAGGING_SUPPORTED",
        "ACCOUNT_NAMING_SUPPORTED",
    }
)
_BINDING = ("MUST", "MUST NOT")
# The 1.3 draft's column ids and the names ratified 1.3 gives them (see focus_model/README.md).
_RATIFIED_13 = {"ServiceProvider": "ServiceProviderName", "HostProvider": "HostProviderName"}
_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
_UNIT = re.compile(r"^([0-9]+ )?[A-Z][A-Za-z-]*( [A-Za-z-]+)*(/[A-Z][A-Za-z-]*)?$")


@dataclass
class Outcome:
    checked: list[str] = field(default_factory=list)  # rule ids run
    failed: dict[str, str] = field(default_factory=dict)  # rule id -> what failed
    kinds: set[str] = field(default_factory=set)  # check functions run


def load_model(version: str) -> dict[str, Any]:
    model = json.loads((MODEL_DIR / "1.2" / "model-1.2.json").read_text())
    assert model["Details"]["FOCUSVersion"] == "1.2"
    if version == "1.3":
        model = _with_13_columns(model)
    return model


def currency_codes() -> set[str]:
    lines = (MODEL_DIR / "1.2" / "currency_codes.csv").read_text().splitlines()[1:]
    return {line.split(",")[1].strip() for line in lines if line.strip()}


def _constraints(text: str) -> dict[str, str]:
    table = text.split("## Content Constraints", 1)[1]
    cells = {}
    for line in table.splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 2 and not parts[0].startswith(":") and parts[0] != "Constraint":
            cells[parts[0]] = parts[1]
    return cells


def _with_13_columns(model: dict[str, Any]) -> dict[str, Any]:
    """The 1.2 model plus rules built from the 1.3 column files' constraint tables."""
    rules = dict(model["ModelRules"])
    for path in sorted((MODEL_DIR / "1.3").glob("*_provider.md")):
        text = path.read_text()
        draft_id = text.split("## Column ID", 1)[1].split()[0]
        column = _RATIFIED_13[draft_id]
        table = _constraints(text)
        static = {"EntityType": "Column", "Reference": column, "ApplicabilityCriteria": []}
        static["Type"] = "Static"
        if table["Feature level"] == "Mandatory":
            rules[f"{column}-D-13-M"] = {
                **static,
                "EntityType": "Dataset",
                "ValidationCriteria": {
                    "Keyword": "MUST",
                    "Requirement": {"CheckFunction": "ColumnPresent", "ColumnName": column},
                    "Condition": {},
                },
            }
        kind = {"String": "TypeString", "Decimal": "TypeDecimal"}[table["Data type"]]
        rules[f"{column}-C-13-type"] = {
            **static,
            "ValidationCriteria": {
                "Keyword": "MUST",
                "Requirement": {"CheckFunction": kind, "ColumnName": column},
                "Condition": {},
            },
        }
        if table["Allows nulls"] == "False":
            rules[f"{column}-C-13-null"] = {
                **static,
                "ValidationCriteria": {
                    "Keyword": "MUST NOT",
                    "Requirement": {
                        "CheckFunction": "CheckNotValue",
                        "ColumnName": column,
                        "Value": None,
                    },
                    "Condition": {},
                },
            }
    return {**model, "ModelRules": rules}


def mandatory_columns(model: dict[str, Any]) -> set[str]:
    """Columns the model says MUST be present, for the features the export claims."""
    out = set()
    for rule in model["ModelRules"].values():
        criteria = rule["ValidationCriteria"]
        requirement = criteria["Requirement"]
        if (
            rule["EntityType"] == "Dataset"
            and requirement.get("CheckFunction") == "ColumnPresent"
            and criteria.get("Keyword") in _BINDING
            and set(rule["ApplicabilityCriteria"]) <= CLAIMED
        ):
            out.add(requirement["ColumnName"])
    return out


class _Unsupported(Exception):
    pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _predicate(check: dict[str, Any], columns: set[str]) -> str:
    """SQL that is TRUE where ``check`` holds (over the all-VARCHAR view ``t``)."""
    function = check.get("CheckFunction")
    if function in ("AND", "OR"):
        parts = [_predicate(item, columns) for item in check["Items"]]
        return "(" + f" {function} ".join(parts) + ")"
    for key in ("ColumnName", "ColumnAName", "ColumnBName"):
        if key in check and check[key] not in columns:
            # A condition on a column the export does not have: it never holds.
            return "FALSE"
    if function in ("CheckValue", "CheckNotValue"):
        column = _quote(check["ColumnName"])
        value = check["Value"]
        if value is None:
            held = f"{column} IS NULL"
        elif isinstance(value, int | float):
            held = f"TRY_CAST({column} AS DECIMAL(38, 18)) = {_literal(value)}"
        else:
            held = f"{column} = {_literal(value)}"
        return held if function == "CheckValue" else f"(NOT coalesce({held}, FALSE))"
    if function in ("CheckSameValue", "CheckNotSameValue"):
        a, b = _quote(check["ColumnAName"]), _quote(check["ColumnBName"])
        same = f"({a} IS NOT DISTINCT FROM {b})"
        return same if function == "CheckSameValue" else f"(NOT {same})"
    if function == "CheckGreaterOrEqualThanValue":
        column = _quote(check["ColumnName"])
        return (
            f"coalesce(TRY_CAST({column} AS DECIMAL(38, 18)) >= {_literal(check['Value'])}, TRUE)"
        )
    raise _Unsupported(str(function))


def violations(path: Path, version: str, *, product_tolerance: Decimal = Decimal(0)) -> Outcome:
    """Run every binding, applicable rule of the model over the export at ``path``."""
    model = load_model(version)
    con = duckdb.connect()
    if path.suffix == ".csv":
        con.execute(
            f"CREATE VIEW raw AS SELECT * FROM read_csv({_literal(str(path))}, header = true, "
            "all_varchar = true, nullstr = '')"
        )
    else:
        con.execute(f"CREATE VIEW raw AS SELECT * FROM read_parquet({_literal(str(path))})")
    types = {name: kind for name, kind, *_ in con.execute("DESCRIBE raw").fetchall()}
    columns = set(types)
    # One all-VARCHAR view for the value rules, whatever the file's types.
    casts = ", ".join(
        f"CAST({_quote(c)} AS VARCHAR) AS {_quote(c)}"
        if not types[c].startswith("TIMESTAMP")
        else f"strftime({_quote(c)} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS {_quote(c)}"
        for c in types
    )
    con.execute(f"CREATE VIEW t AS SELECT {casts} FROM raw")
    outcome = Outcome()
    codes = currency_codes()
    rules = model["ModelRules"]
    for rule_id, rule in sorted(rules.items()):
        criteria = rule["ValidationCriteria"]
        requirement = criteria["Requirement"]
        function = requirement.get("CheckFunction")
        if rule.get("Type") != "Static" or criteria.get("Keyword") not in _BINDING:
            continue
        if not set(rule["ApplicabilityCriteria"]) <= CLAIMED or function in (
            None,
            "CheckModelRule",
        ):
            continue
        if function == "AND" and all(
            i.get("CheckFunction") == "CheckModelRule" for i in requirement["Items"]
        ):
            continue  # a composite: its parts are rules of their own
        if function == "ColumnPresent":
            outcome.checked.append(rule_id)
            outcome.kinds.add(function)
            if requirement["ColumnName"] not in columns:
                outcome.failed[rule_id] = f"{requirement['ColumnName']} is missing"
            continue
        if rule["EntityType"] != "Column" or rule["Reference"] not in columns:
            continue  # a conditional column the export does not have
        condition = _conditions(rule_id, rules, columns)
        column = rule["Reference"]
        quoted = _quote(requirement.get("ColumnName", column))
        try:
            bad = _bad_rows(
                con,
                function,
                requirement,
                quoted,
                condition,
                types,
                codes,
                columns,
                product_tolerance,
            )
        except _Unsupported as exc:
            raise AssertionError(f"{rule_id}: the test cannot run check {exc}") from None
        outcome.checked.append(rule_id)
        outcome.kinds.add(function)
        if bad:
            outcome.failed[rule_id] = f"{bad} rows fail: {criteria.get('MustSatisfy', '')}"
    return outcome


def _conditions(rule_id: str, rules: dict[str, Any], columns: set[str]) -> str:
    """The rule's own condition and those of the composite rules that include it."""
    parts = []
    own = rules[rule_id]["ValidationCriteria"].get("Condition") or {}
    if own:
        parts.append(_predicate(own, columns))
    for parent in rules.values():
        requirement = parent["ValidationCriteria"]["Requirement"]
        items = requirement.get("Items", []) if requirement.get("CheckFunction") == "AND" else []
        if any(i.get("ModelRuleId") == rule_id for i in items):
            condition = parent["ValidationCriteria"].get("Condition") or {}
            if condition:
                parts.append(_predicate(condition, columns))
    return " AND ".join(parts) if parts else "TRUE"


def _bad_rows(
    con: duckdb.DuckDBPyConnection,
    function: str,
    requirement: dict[str, Any],
    column: str,
    condition: str,
    types: dict[str, str],
    codes: set[str],
    columns: set[str],
    tolerance: Decimal,
) -> int:
    def count(where: str) -> int:
        row = con.execute(f"SELECT count(*) FROM t WHERE ({condition}) AND ({where})").fetchone()
        return int(row[0]) if row else 0

    name = requirement.get("ColumnName", "")
    kind = types.get(name, "")
    if function == "TypeDecimal":
        if kind != "VARCHAR":  # Parquet: the file's own type
            return 0 if kind.startswith("DECIMAL") else count("TRUE")
        return count(
            f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{_DECIMAL.pattern}')"
        )
    if function in ("FormatNumeric", "CheckDecimalValue"):
        return count(
            f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{_DECIMAL.pattern}')"
        )
    if function == "TypeDateTime":
        if kind != "VARCHAR":
            return 0 if kind.startswith("TIMESTAMP") else count("TRUE")
        return count(f"{column} IS NOT NULL AND TRY_CAST({column} AS TIMESTAMPTZ) IS NULL")
    if function == "FormatDateTime":
        return count(
            f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{_DATETIME.pattern}')"
        )
    if function == "TypeString":
        return 0 if kind == "VARCHAR" else count("TRUE")
    if function == "FormatString":
        return count(f"{column} IS NOT NULL AND {column} <> trim({column})")
    if function == "FormatUnit":
        return count(f"{column} IS NOT NULL AND NOT regexp_full_match({column}, '{_UNIT.pattern}')")
    if function == "FormatKeyValue":
        return count(
            f"{column} IS NOT NULL AND NOT coalesce(CASE WHEN json_valid({column}) "
            f"THEN json_type({column}) = 'OBJECT' END, FALSE)"
        )
    if function in ("FormatCurrency", "CheckNationalCurrency"):
        listed = ", ".join(_literal(code) for code in sorted(codes))
        return count(f"{column} IS NOT NULL AND {column} NOT IN ({listed})")
    if function == "CheckDistinctCount":
        a, b = _quote(requirement["ColumnAName"]), _quote(requirement["ColumnBName"])
        n = int(requirement["ExpectedCount"])
        row = con.execute(
            f"SELECT count(*) FROM (SELECT {a} FROM t WHERE {a} IS NOT NULL AND ({condition}) "
            f"GROUP BY {a} HAVING count(DISTINCT {b}) <> {n})"
        ).fetchone()
        return int(row[0]) if row else 0
    if function == "ColumnByColumnEqualsColumnValue":
        # Exactly, in Decimal: a float product would hide (or invent) a difference.
        a, b, r = (
            _quote(requirement[k]) for k in ("ColumnAName", "ColumnBName", "ResultColumnName")
        )
        rows = con.execute(
            f"SELECT {a}, {b}, {r} FROM t WHERE ({condition}) AND {a} IS NOT NULL "
            f"AND {b} IS NOT NULL AND {r} IS NOT NULL"
        ).fetchall()
        return sum(
            1
            for x, y, z in rows
            if abs(Decimal(x) * Decimal(y) - Decimal(z)) > tolerance * Decimal(y)
        )
    return count(f"NOT coalesce({_predicate(requirement, columns)}, FALSE)")
