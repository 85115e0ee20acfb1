"""A first config for the user's own table, drafted from the table itself.

Writing the schema column by column is where a new table's first hour goes, and where
its first mistakes are made. ``init-config`` looks at the data once and writes what it
can tell: the task, each column's type (dates and yes/no columns included), whether it
may be missing, its allowed values and its lower bound, a quality gate that only a model
better than the naive baseline passes, and a model card that names the table. What it
cannot decide for the user (an ID, a column that gives the answer away) it leaves out of
the features and says why in a comment beside it. Every other section is taken from the
project's current config, comments and all. ``validate`` warns with the same judgments.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from .config import YAML_DUMPER, DataConfig, read_yaml
from .data import in_the_file
from .errors import ConfigError, DataError
from .tasks import CLASSIFICATION, REGRESSION, Task

MAX_CLASSES = 10  # an integer target with more distinct values is taken as a quantity
MAX_ALLOWED = 20  # a text column with at most this many values gets an allowed list
MANY_CATEGORIES = 50  # past this, one-hot encoding deserves a word
ID_SHARE = 0.9  # a text column whose values are this unique is an identifier
LEAK_SCORE = 0.99  # a single column that predicts the target this well is suspect
DATE_FORMATS = ("ISO8601", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%d.%m.%Y")
DATE_SHARE = 0.95  # the share of a text column's values that must parse as dates
# Two values that make a column boolean rather than categorical (or numeric, for 0 and 1).
BOOLEAN_PAIRS = [
    {"true", "false"},
    {"yes", "no"},
    {"y", "n"},
    {"t", "f"},
    {"1", "0"},
    {"1.0", "0.0"},
]


@dataclass
class Draft:
    """The config's text, and what the user should read about it."""

    text: str
    summary: list[str] = field(default_factory=list)


@dataclass
class ColumnDecision:
    """Where one column goes: a feature (``entry``), passthrough, or nowhere, and why."""

    name: str
    entry: dict[str, Any] | None = None
    passthrough: bool = False
    note: str = ""


def flow(value: Any) -> str:
    """``value`` as YAML on one line, quoted only where YAML needs it."""
    text = yaml.dump(
        value,
        Dumper=YAML_DUMPER,
        default_flow_style=True,
        sort_keys=False,
        width=1 << 20,
        allow_unicode=True,
    )
    return text.removesuffix("\n").removesuffix("\n...")


def _number(value: float) -> int | float:
    """A bound as a reader would write it: ``0`` rather than ``0.0``."""
    return int(value) if float(value).is_integer() else float(value)


def _is_integral(values: pd.Series) -> bool:
    return bool(pd.api.types.is_integer_dtype(values)) or bool(
        pd.api.types.is_float_dtype(values) and np.all(np.mod(values, 1) == 0)
    )


def _date_format(values: pd.Series) -> str | None:
    """The first format in which nearly all of a text column's values are dates, if any."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return "ISO8601"  # already dates, as in Parquet: any format reads them
    text = values.astype(str).head(1000)
    if not text.str.contains(r"\d", regex=True).all():
        return None
    return next((form for form in DATE_FORMATS if _parses(text, form)), None)


def _parses(values: pd.Series, date_format: str) -> bool:
    """Whether nearly all of the first 1,000 values are dates in ``date_format``."""
    text = values.astype(str).head(1000)
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    return bool(parsed.notna().mean() >= DATE_SHARE)


def _leaks(values: pd.Series, target: pd.Series, task: Task, numeric: bool) -> float | None:
    """How well ``values`` alone give the target away, when that is suspiciously well.

    Categories: the share of rows whose category's most common target it is (or, for a
    quantity, the share of its variance the category means explain). Numbers: ROC AUC for
    two classes, the correlation for a quantity.
    """
    known = values.notna() & target.notna()
    values, target = values[known], target[known]
    if len(values) < 10 or values.nunique() < 2:
        return None
    if not numeric:
        if values.nunique() > len(values) / 10:
            return None  # with few rows per category, any column looks telling
        groups = target.groupby(values.astype(str))
        if task.has_classes:
            score = groups.agg(lambda column: column.value_counts().iloc[0]).sum() / len(target)
        else:
            spread = float(((target - target.mean()) ** 2).sum())
            explained = float((groups.transform("mean") - target.mean()).pow(2).sum())
            score = explained / spread if spread else 0.0
        return float(score) if score >= LEAK_SCORE else None
    if not task.has_classes:
        score = abs(float(np.corrcoef(values.astype(float), target.astype(float))[0, 1]))
    elif target.nunique() == 2:
        from sklearn.metrics import roc_auc_score

        area = float(roc_auc_score(target == target.max(), values.astype(float)))
        score = max(area, 1 - area)
    else:
        return None
    return score if score >= LEAK_SCORE else None


def decide_column(name: str, values: pd.Series, target: pd.Series, task: Task) -> ColumnDecision:
    """Type one column from its values, or say why it is not a feature."""
    rows = len(values)
    known = values.dropna()
    distinct = int(known.nunique())
    if known.empty:
        return ColumnDecision(name, note="empty in every row")
    if values.nunique(dropna=False) == 1:
        return ColumnDecision(name, note=f"the same value ({known.iloc[0]!r}) in every row")
    nullable = {"nullable": True} if len(known) < rows else {}
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and _is_integral(known) and distinct == rows and rows > MAX_ALLOWED:
        return ColumnDecision(
            name,
            passthrough=True,
            note=f"ID-like: {distinct} distinct whole numbers in {rows} rows",
        )
    if _is_boolean(known):
        return _unless_leaking(
            ColumnDecision(name, entry={"name": name, "type": "boolean", **nullable}),
            values.astype(str).where(values.notna()),
            target,
            task,
        )
    if not numeric:
        date_format = _date_format(known)
        if date_format is not None:
            entry: dict[str, Any] = {"name": name, "type": "datetime", "format": date_format}
            entry |= nullable
            note = "the model sees year, month, weekday"
            swapped = date_format.replace("%d", "%?").replace("%m", "%d").replace("%?", "%m")
            if swapped != date_format and _parses(known, swapped):
                note = f"check: no day is past the 12th, so it may be {swapped}; {note}"
            return ColumnDecision(name, entry=entry, note=note)
        if distinct > MAX_ALLOWED and distinct >= ID_SHARE * len(known):
            return ColumnDecision(
                name, passthrough=True, note=f"ID-like: {distinct} distinct values in {rows} rows"
            )
    if numeric:
        entry = {"name": name, "type": "numeric"}
        if float(known.min()) >= 0:
            entry["min"] = 0
        note = f"seen {float(known.min()):.6g} to {float(known.max()):.6g}"
        decision = ColumnDecision(name, entry={**entry, **nullable}, note=note)
        return _unless_leaking(decision, values, target, task)
    entry = {"name": name, "type": "categorical", **nullable}
    if distinct <= MAX_ALLOWED:
        entry["allowed"] = sorted(known.astype(str).unique())
        return _unless_leaking(ColumnDecision(name, entry=entry), values, target, task)
    note = f"{distinct} values, not listed: an unseen one is encoded as none of them"
    if distinct > MANY_CATEGORIES:
        note += f"; one-hot encoding makes {distinct} columns"
    return _unless_leaking(ColumnDecision(name, entry=entry, note=note), values, target, task)


def _is_boolean(known: pd.Series) -> bool:
    """Two values, both words of a yes/no column (``true``, ``no``, ``1``...), or booleans."""
    if pd.api.types.is_bool_dtype(known):
        return True
    words = {str(value).strip().lower() for value in known.unique()}
    return any(words == pair for pair in BOOLEAN_PAIRS)


def _unless_leaking(
    decision: ColumnDecision, values: pd.Series, target: pd.Series, task: Task
) -> ColumnDecision:
    """``decision``, or the column left out if it alone gives the target away."""
    numeric = decision.entry is not None and decision.entry["type"] == "numeric"
    leak = _leaks(values, target, task, numeric)
    if leak is None:
        return decision
    return ColumnDecision(
        decision.name,
        note=f"gives the target away alone ({leak:.3f}): is it known before the outcome?",
    )


def suspicious_features(frame: pd.DataFrame, config: DataConfig, task: Task) -> list[str]:
    """What ``validate`` warns of: features that the draft would have left out, and why.

    They are allowed (the user may know better) but usually a mistake: an identifier
    that the model would memorise, dates taken as categories, a column that gives the
    target away.
    """
    target = frame.get(config.target.name)
    warnings = []
    for column in config.features:
        if target is None:
            break
        verdict = decide_column(column.name, frame[column.name], target, task)
        if verdict.passthrough:
            warnings.append(
                f"feature {column.name!r} looks like an ID ({verdict.note.split(': ', 1)[1]}): "
                "a model only memorises it; move it to data.passthrough"
            )
        elif verdict.entry is None and verdict.note.startswith("gives"):
            warnings.append(f"feature {column.name!r}: {verdict.note}")
        elif verdict.entry is not None and verdict.entry["type"] != column.type == "categorical":
            kind = verdict.entry["type"]
            warnings.append(
                f"feature {column.name!r} holds {'dates' if kind == 'datetime' else kind + 's'}"
                f": make it type: {kind}"
                + (f" (format: {verdict.entry['format']})" if kind == "datetime" else "")
            )
    return warnings


def infer_task(target: pd.Series) -> tuple[Task, str]:
    """Classification for text, booleans and a few whole numbers; regression otherwise."""
    known = target.dropna()
    classes = int(known.nunique())
    numeric = pd.api.types.is_numeric_dtype(known) and not pd.api.types.is_bool_dtype(known)
    if numeric and not (_is_integral(known) and classes <= MAX_CLASSES):
        return REGRESSION, f"{target.name!r} holds numbers ({classes} distinct values)"
    if classes < 2:
        raise DataError(f"the target {target.name!r} has a single value: nothing to predict")
    if classes > MANY_CATEGORIES and classes >= len(known) / 2:
        raise DataError(
            f"the target {target.name!r} has {classes} distinct values in {len(known)} rows: "
            "an identifier or a free text, not an outcome to predict"
        )
    return CLASSIFICATION, f"{target.name!r} has {classes} classes"


def _class_order(known: pd.Series) -> list[int] | list[str]:
    """The classes in order, so the last is the positive one: whole numbers as numbers
    (predictions then come back as numbers), anything else as text."""
    unique = known.drop_duplicates()
    if pd.api.types.is_bool_dtype(unique):
        return [str(value) for value in unique.sort_values()]
    if pd.api.types.is_numeric_dtype(unique):
        return [int(value) for value in unique.sort_values()]
    return sorted(str(value) for value in unique)


def target_entry(target: pd.Series, task: Task) -> dict[str, Any]:
    known = target.dropna()
    textual = not pd.api.types.is_numeric_dtype(known) or pd.api.types.is_bool_dtype(known)
    if task.has_classes and textual and _is_boolean(known):
        return {"name": target.name, "type": "boolean"}
    if task.has_classes:
        return {"name": target.name, "type": "categorical", "allowed": _class_order(known)}
    entry: dict[str, Any] = {"name": target.name, "type": "numeric"}
    if float(known.min()) >= 0:
        entry["min"] = 0
    return entry


def quality_gate(target: pd.Series, task: Task) -> tuple[list[str], str]:
    """A gate the naive baseline does not pass: the majority class, or the mean."""
    known = target.dropna()
    if task.has_classes:
        shares = known.astype(str).value_counts(normalize=True)
        majority, share = str(shares.index[0]), float(shares.iloc[0])
        floor = round(math.floor(share * 100) / 100 + 0.01, 2)  # the hundredth above it
        lines = [
            "quality_gate:",
            f"  # Baselines on this table: always answering {majority!r} scores accuracy {share:.3f},",
            "  # a guess ROC AUC 0.5. A model that learned nothing fails; raise the floors to",
            "  # what your use of the model needs.",
            "  minimum:",
            "    roc_auc: 0.6",
            f"    accuracy: {floor}",
        ]
        return lines, f"roc_auc >= 0.6, accuracy >= {floor} (always {majority!r}: {share:.3f})"
    spread = float(known.std())
    step = 10.0 ** (math.floor(math.log10(spread)) - 2) if spread > 0 else 1.0
    ceiling = _number(round(math.floor(spread / step) * step, 12))  # 3 digits, rounded down
    lines = [
        "quality_gate:",
        f"  # The baseline on this table: predicting the mean scores rmse {spread:.4g}, r2 0.",
        "  # A model that learned nothing fails; tighten the limits to what your use needs.",
        "  minimum:",
        "    r2: 0.01",
        "  maximum:",
        f"    rmse: {ceiling}",
    ]
    return lines, f"r2 >= 0.01, rmse <= {ceiling} (the mean: {spread:.4g})"


def project_owners(pyproject: Path) -> list[str]:
    """The authors' names (or e-mails) in ``pyproject.toml``'s ``[project]`` table."""
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, tomllib.TOMLDecodeError):
        return []
    authors = project.get("authors", [])
    return [
        str(a.get("name") or a.get("email")) for a in authors if a.get("name") or a.get("email")
    ]


def model_card(source: Path, rows: int, target: str, owners: list[str]) -> list[str]:
    return [
        "model_card:",
        "  intended_use: >-",
        f"    Predicts {flow(target)} for rows like those of {flow(str(source))}. Replace this",
        "    text with who may use the model, for which decisions, and for which not.",
        "  limitations: >-",
        f"    Trained on {flow(str(source))} ({rows} rows): its scores hold for data drawn the",
        "    same way, and say nothing about other populations or later periods.",
        f"  owners: {flow(owners)}",
    ]


def data_section(
    source: Path, target: pd.Series, task: Task, decisions: list[ColumnDecision]
) -> list[str]:
    features = [d for d in decisions if d.entry is not None]
    left_out = [d for d in decisions if d.entry is None and not d.passthrough]
    passthrough = [d.name for d in decisions if d.passthrough]
    lines = ["data:", f"  path: {flow(str(source))}", "  target:"]
    for key, value in target_entry(target, task).items():
        comment = ""
        if key == "allowed" and len(value) == 2:
            comment = "  # the last class is the positive one for ROC AUC"
        lines.append(f"    {key}: {flow(value)}{comment}")
    lines.append("  features:")
    for decision in features:
        comment = f"  # {decision.note}" if decision.note else ""
        lines.append(f"    - {flow(decision.entry)}{comment}")
    if left_out:
        lines.append("  # Not features; add a line above for any you want the model to use:")
        lines += [f"  #   {flow(d.name)}: {d.note}" for d in left_out]
    lines.append("  # Carried from the input to the predictions as they are, to join them back on.")
    for decision in decisions:
        if decision.passthrough:
            lines.append(f"  #   {flow(decision.name)}: {decision.note}")
    lines.append(f"  passthrough: {flow(passthrough)}")
    return lines


TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_]\w*):")


def split_blocks(text: str) -> list[tuple[str | None, list[str]]]:
    """The config's top-level sections, each with the comment lines right above its key
    and the blank lines after it. The first block (key ``None``) is the opening comment."""
    blocks: list[tuple[str | None, list[str]]] = [(None, [])]
    above: list[str] = []
    for line in text.splitlines():
        match = TOP_LEVEL_KEY.match(line)
        if match:
            blocks.append((match.group(1), [*above, line]))
            above = []
        elif line.startswith("#"):
            above.append(line)
        else:  # a blank or indented line: comments before it belong to the section above
            blocks[-1][1].extend([*above, line])
            above = []
    blocks[-1][1].extend(above)
    return blocks


def join_blocks(blocks: list[tuple[str | None, list[str]]]) -> str:
    return "\n".join(line for _, lines in blocks for line in lines).rstrip("\n") + "\n"


HEADER = [
    "# Pipeline configuration, read by every command (pass another file with --config).",
    "# Relative paths are resolved from the directory you run the command in: the project root.",
    "# Drafted by init-config from the data: read the comments under data, the quality gate",
    "# and the model card, then run validate and train.",
]


def draft(
    source: Path, frame: pd.DataFrame, target_name: str, base_text: str, pyproject: Path
) -> Draft:
    """The config for ``frame`` (read from ``source``) predicting ``target_name``: the
    sections the data decides drafted, the others as ``base_text`` has them."""
    if target_name not in frame.columns:
        columns = [str(name) for name in frame.columns]
        raise DataError(f"{source}: no column {target_name!r}{in_the_file(target_name, columns)}")
    target = frame[target_name]
    if target.notna().sum() < 10:
        raise DataError(f"{source}: {target_name!r} has a value in fewer than 10 rows")
    task, why = infer_task(target)
    decisions = [
        decide_column(str(name), frame[name], target, task)
        for name in frame.columns
        if name != target_name
    ]
    if not any(decision.entry for decision in decisions):
        raise DataError(
            f"{source}: no column can be a feature: "
            + "; ".join(f"{decision.name}: {decision.note}" for decision in decisions)
        )
    blocks = split_blocks(base_text)
    missing = sorted(set(DRAFTED) - {key for key, _ in blocks})
    if missing:
        raise ConfigError(f"the config to start from lacks {', '.join(missing)}")
    gate, gate_summary = quality_gate(target, task)
    sections: dict[str | None, list[str]] = {
        None: HEADER,
        "task": [f"task: {task}  # {why}"],
        "data": data_section(source, target, task, decisions),
        "quality_gate": gate,
        "model_card": model_card(source, len(frame), target_name, project_owners(pyproject)),
    }
    if (read_yaml(base_text) or {}).get("task") != task.name:
        sections |= _task_sections(task, blocks)
    drafted = [
        (key, [*_without_trailing_blanks(sections[key]), *_trailing_blanks(lines)])
        if key in sections
        else (key, lines)
        for key, lines in blocks
    ]
    summary = _summary(source, len(frame), task, why, decisions, gate_summary)
    positive = _positive_class(target_entry(target, task))
    if positive is not None:
        summary.insert(2, positive)
    if target.isna().any():
        summary.append(
            f"warning: {int(target.isna().sum())} rows have no {target_name!r}: remove them "
            "before training, which refuses a row without a label"
        )
    return Draft(join_blocks(drafted), summary)


DRAFTED = ("task", "data", "model", "quality_gate", "model_card")


def _without_trailing_blanks(lines: list[str]) -> list[str]:
    kept = list(lines)
    while kept and not kept[-1].strip():
        kept.pop()
    return kept


def _trailing_blanks(lines: list[str]) -> list[str]:
    return [""] * (len(lines) - len(_without_trailing_blanks(lines)))


def _task_sections(
    task: Task, blocks: list[tuple[str | None, list[str]]]
) -> dict[str | None, list[str]]:
    """The model, tuning space and promotion metric of ``task``, in the base's layout."""
    defaults = task.default_model
    sections: dict[str | None, list[str]] = {
        "model": [
            "model:",
            "  # Any scikit-learn estimator, by import path; params are passed to its constructor.",
            f"  estimator: {defaults['estimator']}",
            f"  params: {flow(defaults['params'])}",
            "  params_file: configs/tuned_params.yaml  # written by `tune`; overrides params",
        ]
    }
    for key, lines in blocks:
        if key == "tuning":
            sections["tuning"] = _replace_space(lines, defaults["space"])
        elif key == "tracking":
            sections["tracking"] = [
                re.sub(r"^(\s+metric:\s*)\S+", rf"\g<1>{defaults['promotion_metric']}", line)
                for line in lines
            ]
    return sections


def _replace_space(lines: list[str], space: dict[str, Any]) -> list[str]:
    """The tuning block with its ``space`` entries swapped for ``space``."""
    kept: list[str] = []
    in_space = False
    for line in lines:
        if line.strip().startswith("space:"):
            in_space = True
            kept.append(line)
            kept += [f"    {name}: {flow(bounds)}" for name, bounds in space.items()]
            continue
        if in_space and line.startswith("    "):
            continue
        in_space = False
        kept.append(line)
    return kept


def _summary(
    source: Path,
    rows: int,
    task: Task,
    why: str,
    decisions: list[ColumnDecision],
    gate: str,
) -> list[str]:
    features = [d for d in decisions if d.entry is not None]
    kinds = [str(d.entry["type"]) for d in features if d.entry is not None]
    lines = [
        f"read {source}: {rows} rows, {len(decisions) + 1} columns",
        f"task: {task}, as {why}",
        f"features: {len(features)} ("
        + ", ".join(f"{kinds.count(kind)} {kind}" for kind in dict.fromkeys(sorted(kinds)))
        + ")",
    ]
    passthrough = [d.name for d in decisions if d.passthrough]
    if passthrough:
        lines.append(f"passthrough (ID-like): {', '.join(passthrough)}")
    for decision in decisions:
        if decision.entry is None and not decision.passthrough:
            lines.append(f"left out: {decision.name}: {decision.note}")
    lines.append(f"quality gate: {gate}")
    return lines


def _positive_class(entry: dict[str, Any]) -> str | None:
    """For two classes, which one ROC AUC scores, and how to choose another."""
    if entry["type"] == "boolean":
        return "positive class for ROC AUC: True"
    allowed = entry.get("allowed") or []
    if entry["type"] != "categorical" or len(allowed) != 2:
        return None
    return (
        f"positive class for ROC AUC: {allowed[-1]!r}, the last in data.target.allowed; "
        "list the class that matters most last"
    )
