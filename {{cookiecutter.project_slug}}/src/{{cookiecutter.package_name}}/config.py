"""Typed pipeline configuration, read from YAML and checked before any work starts.

Every command takes ``--config``. A typo or a bad value stops the run at once with a
message naming the file and the key, rather than halfway through training.
"""

from __future__ import annotations

import hashlib
{%- if cookiecutter.experiment_tracking == "mlflow" %}
import os
{%- endif %}
from pathlib import Path
from typing import Annotated, Any, Literal
{%- if cookiecutter.experiment_tracking == "mlflow" %}
from urllib.parse import urlsplit, urlunsplit
{%- endif %}

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    InstanceOf,
    PlainSerializer,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from .errors import ConfigError
from .tasks import Task, task_named

DEFAULT_CONFIG = Path("configs/config.yaml")
# Serialization context for what is written to files and logged: no credentials in it,
# no home folder.
FOR_THE_RECORD = {"for_the_record": True}

# libyaml's C parser and emitter, which PyYAML's wheels include, else the Python ones:
# the same safe subset of YAML, read and written several times faster.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# ``task:`` is written as a name and read as the task object that name stands for.
TaskSetting = Annotated[
    InstanceOf[Task], BeforeValidator(task_named), PlainSerializer(str, return_type=str)
]


def read_yaml(text: str) -> Any:
    return yaml.load(text, Loader=YAML_LOADER)  # noqa: S506 - a safe loader


def write_yaml(data: Any, *, sort_keys: bool = True) -> str:
    return yaml.dump(data, Dumper=YAML_DUMPER, sort_keys=sort_keys, allow_unicode=True)


class Section(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NumericColumn(Section):
    """A numeric column; ``min``/``max`` bound the values it may hold."""

    name: str = Field(min_length=1)
    type: Literal["numeric"]
    nullable: bool = False
    min: float | None = None
    max: float | None = None


class CategoricalColumn(Section):
    """A categorical column; ``allowed`` (optional) lists the values it may hold."""

    name: str = Field(min_length=1)
    type: Literal["categorical"]
    nullable: bool = False
    allowed: list[int] | list[str] | None = Field(default=None, min_length=1)

    @field_validator("allowed", mode="before")
    @classmethod
    def _as_text(cls, values: Any) -> Any:
        """Categories are compared as text, so codes such as `[1, 2]` need no quotes; only
        a target whose classes are all whole numbers keeps them as numbers, so that its
        predictions come back as the numbers the data holds.

        YAML reads unquoted yes/no/true/false as booleans; they become "True"/"False",
        as a categorical data column does. Quote "yes"/"no" when the data holds those words.
        """
        if isinstance(values, list) and not _whole_numbers(values):
            return [str(value) for value in values]
        return values

    @property
    def text_values(self) -> list[str] | None:
        """``allowed`` as the text a feature's values are compared with."""
        return None if self.allowed is None else [str(value) for value in self.allowed]

    @property
    def numbered_classes(self) -> bool:
        """Whether, as a target, its classes are the whole numbers in ``allowed``."""
        return bool(self.allowed) and _whole_numbers(self.allowed or [])


def _whole_numbers(values: list[Any]) -> bool:
    return all(isinstance(value, int) and not isinstance(value, bool) for value in values)


class BooleanColumn(Section):
    """Yes or no. Files may say true/false, yes/no, 1/0 (any case), the API says JSON
    true/false; the model sees 1 and 0."""

    name: str = Field(min_length=1)
    type: Literal["boolean"]
    nullable: bool = False


class DatetimeColumn(Section):
    """A date or a time, written in ``format`` (``ISO8601`` or a ``strftime`` pattern such
    as ``"%d/%m/%Y"``). The model sees three numbers made of it: the year, the month and
    the day of the week (0 is Monday)."""

    name: str = Field(min_length=1)
    type: Literal["datetime"]
    format: str = Field(default="ISO8601", min_length=2)
    nullable: bool = False


Column = Annotated[
    NumericColumn | CategoricalColumn | BooleanColumn | DatetimeColumn,
    Field(discriminator="type"),
]


def portable_path(path: Path) -> str:
    """``path`` as a record may keep it, without naming the user or their machine.

    Relative to the working directory (the project root) when it lies under it, else with
    the home folder written ``~``; run folders, model cards and MLflow travel further
    than the machine that trained.
    """
    absolute = path.expanduser().absolute()
    if absolute.is_relative_to(Path.cwd()):
        return str(absolute.relative_to(Path.cwd()))
    if absolute.is_relative_to(Path.home()):
        return str(Path("~") / absolute.relative_to(Path.home()))
    return str(path)


class DataConfig(Section):
    """Where the training data lives and the schema every data entry point enforces."""

    path: Path
    target: Column
    features: list[Column] = Field(min_length=1)
    # Columns carried through to predictions untouched (IDs to join them back on); every
    # command reads these, the features and the target, and no other column.
    passthrough: list[str] = Field(default_factory=list)

    @field_serializer("path")
    def _portable(self, path: Path, info: SerializationInfo) -> Path | str:
        """For the record, the data's path loses the user's home and working folder."""
        return portable_path(path) if (info.context or {}).get("for_the_record") else path

    @model_validator(mode="after")
    def _names_are_unique(self) -> DataConfig:
        names = [column.name for column in self.features]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"feature names must be unique, repeated: {', '.join(repeated)}")
        if self.target.name in names:
            raise ValueError(f"target {self.target.name!r} is also listed as a feature")
        if self.target.nullable:
            raise ValueError("the target cannot be nullable: every training row needs a label")
        if isinstance(self.target, DatetimeColumn):
            raise ValueError(
                "the target cannot be a datetime: use categorical or boolean (classification) "
                "or numeric (regression)"
            )
        modelled = {*names, self.target.name}
        both = sorted(modelled.intersection(self.passthrough))
        if both:
            raise ValueError(f"passthrough column(s) {', '.join(both)} are also modelled")
        return self

    @property
    def feature_names(self) -> list[str]:
        return [column.name for column in self.features]

    @property
    def columns(self) -> list[str]:
        """Every column a command reads from a data file: features, target, passthrough."""
        return [*self.feature_names, self.target.name, *dict.fromkeys(self.passthrough)]

    @property
    def text_columns(self) -> list[str]:
        """Columns read from a CSV as the text they hold: all but the numeric features.

        A category ``1`` stays ``"1"`` (not ``1.0`` because another row is empty), keys
        are carried to the output as they were, and a file read in batches gives every
        batch the same types; the schema then converts what it must.
        """
        numeric = set(self.numeric_features)
        return [name for name in self.columns if name not in numeric]

    @property
    def numeric_features(self) -> list[str]:
        return [column.name for column in self.features if column.type == "numeric"]


class SplitConfig(Section):
    test_size: float = Field(default=0.2, gt=0, lt=1)
    stratify: bool = True


class ModelConfig(Section):
    estimator: str = Field(pattern=r"^[A-Za-z_][\w.]*\.[A-Za-z_]\w*$")
    params: dict[str, Any] = Field(default_factory=dict)
    # Written by `tune`; when the file exists its values override `params`.
    params_file: Path | None = None


class SearchDimension(Section):
    """One hyperparameter's range: ``low``/``high`` for numbers, ``choices`` otherwise."""

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: list[Any] | None = None

    @model_validator(mode="after")
    def _has_a_range(self) -> SearchDimension:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical dimension needs 'choices'")
        elif self.low is None or self.high is None or self.low >= self.high:
            raise ValueError(f"a {self.type} dimension needs 'low' < 'high'")
        elif self.log and self.low <= 0:
            raise ValueError("a dimension searched on a log scale ('log: true') needs 'low' > 0")
        elif self.type == "int" and not (self.low.is_integer() and self.high.is_integer()):
            raise ValueError("an int dimension needs whole numbers for 'low' and 'high'")
        return self


class TuningConfig(Section):
    trials: int = Field(default=20, ge=1)
    cv_folds: int = Field(default=3, ge=2)
    space: dict[str, SearchDimension] = Field(default_factory=dict)


class QualityGate(Section):
    minimum: dict[str, float] = Field(default_factory=dict)
    maximum: dict[str, float] = Field(default_factory=dict)


class ImportanceConfig(Section):
    repeats: int = Field(default=5, ge=1)
    max_rows: int = Field(default=1000, ge=10)


class ModelCardConfig(Section):
    intended_use: str
    limitations: str
    owners: list[str] = Field(default_factory=list)


class PathsConfig(Section):
    models: Path = Path("models")
    reports: Path = Path("reports")
{% if cookiecutter.experiment_tracking == "mlflow" %}

class PromotionConfig(Section):
    """A challenger becomes champion only if it beats it by ``min_improvement`` on ``metric``."""

    metric: str
    min_improvement: float = Field(default=0.0, ge=0)


def _default_tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"


class TrackingConfig(Section):
    """Where MLflow keeps runs and models.

    Without ``uri`` in the file, ``MLFLOW_TRACKING_URI`` decides, read once when the
    config is loaded; unset, a SQLite store inside the project is used.
    """

    enabled: bool = True
    uri: str = Field(default_factory=_default_tracking_uri)
    experiment: str = Field(min_length=1)
    registered_model: str = Field(min_length=1)
    promotion: PromotionConfig

    @field_serializer("uri")
    def _without_credentials(self, uri: str, info: SerializationInfo) -> str:
        """For the record, a server's address loses any user name and password in it."""
        parts = urlsplit(uri)
        if not (info.context or {}).get("for_the_record") or "@" not in parts.netloc:
            return uri
        return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
{% endif %}

class MonitoringConfig(Section):
    """Thresholds for ``monitor``: a feature drifts when both tests agree."""

    p_value: float = Field(default=0.01, gt=0, lt=1)
    min_psi: float = Field(default=0.1, ge=0)
    max_drifted_share: float = Field(default=0.0, ge=0, lt=1)
    # Fewer current rows than this say too little to judge: reported, never an alert.
    min_rows: int = Field(default=100, ge=2)
    # Labelled current rows the model is scored on; past this many, a uniform sample of
    # this many is, so monitoring a file of any length takes bounded memory.
    max_scored_rows: int = Field(default=500_000, ge=2)
{% if cookiecutter.serving == "fastapi" %}

class ExperimentConfig(Section):
    """How ``serve --challenger`` splits traffic between the champion and a challenger.

    ``key`` names the field of a record that says which entity it is about (a customer
    id, say): a hash of its value picks the arm, so an entity meets the same model on
    every request. It may be a feature or a ``data.passthrough`` column; records without
    it are assigned by their own request. Only its hash is logged, never the value.
    """

    key: str | None = None
    challenger_share: float = Field(default=0.1, gt=0, lt=1)  # of records, in A/B mode
    # How experiment-report decides: a difference is real below this p-value, and the
    # smallest one worth finding (relative to the champion's figure) sets the sample
    # size it says is still needed, at this power.
    significance: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    min_relative_effect: float = Field(default=0.05, gt=0)


class ServingConfig(Section):
    """The API: where it listens, what it accepts, and where it logs predictions and feedback."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    prediction_log: Path = Path("logs/predictions.jsonl")
    feedback_log: Path = Path("logs/feedback.jsonl")
    max_batch: int = Field(default=1000, ge=1)  # records in one request
    max_request_bytes: int = Field(default=1_000_000, ge=1_000)  # a request body, larger: 413
    max_text_length: int = Field(default=200, ge=1)  # characters in one free-text field
    log_rotate_bytes: int = Field(default=100_000_000, ge=1_000)  # a log's size before rotating
    log_keep: int = Field(default=10, ge=1)  # rotated files kept per log; older ones go
    experiment: ExperimentConfig = ExperimentConfig()
{% endif %}

class Config(Section):
    """The whole pipeline configuration."""

    task: TaskSetting
    seed: int = 42
    data: DataConfig
    model: ModelConfig
    split: SplitConfig = SplitConfig()
    cv_folds: int = Field(default=0, ge=0)
    quality_gate: QualityGate = QualityGate()
    importance: ImportanceConfig = ImportanceConfig()
    model_card: ModelCardConfig
    paths: PathsConfig = PathsConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    tuning: TuningConfig = TuningConfig()
{%- if cookiecutter.experiment_tracking == "mlflow" %}
    tracking: TrackingConfig
{%- endif %}
{%- if cookiecutter.serving == "fastapi" %}
    serving: ServingConfig = ServingConfig()
{%- endif %}

    @model_validator(mode="after")
    def _fits_the_task(self) -> Config:
        known = self.task.metrics
        for bound in (self.quality_gate.minimum, self.quality_gate.maximum):
            unknown = sorted(set(bound) - set(known))
            if unknown:
                raise ValueError(
                    f"quality_gate: unknown metric {', '.join(unknown)} for {self.task}; "
                    f"choose from {', '.join(known)}"
                )
        wrong_side = [name for name in self.quality_gate.minimum if not known[name]] + [
            name for name in self.quality_gate.maximum if known[name]
        ]
        if wrong_side:
            raise ValueError(
                f"quality_gate: {', '.join(wrong_side)} belongs under "
                f"{'maximum' if not known[wrong_side[0]] else 'minimum'}: for {self.task}, "
                f"{'lower' if not known[wrong_side[0]] else 'higher'} is better"
            )
        target = self.data.target
        problem = self.task.target_problem(target.type, getattr(target, "allowed", None))
        if problem is not None:
            raise ValueError(problem)
{%- if cookiecutter.experiment_tracking == "mlflow" %}
        if self.tracking.promotion.metric not in known:
            raise ValueError(
                f"tracking.promotion.metric: unknown metric {self.tracking.promotion.metric} "
                f"for {self.task}; choose from {', '.join(known)}"
            )
{%- endif %}
        if self.cv_folds == 1:
            raise ValueError("cv_folds: use 0 to turn cross-validation off, or 2 and more")
{%- if cookiecutter.serving == "fastapi" %}
        key = self.serving.experiment.key
        if key is not None and key not in [*self.data.feature_names, *self.data.passthrough]:
            raise ValueError(
                f"serving.experiment.key: {key!r} is neither a feature nor in data.passthrough"
            )
{%- endif %}
        return self

    def fingerprint(self) -> str:
        """A hash of the resolved settings, stored with every model for lineage."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def read_yaml_file(path: Path, what: str) -> Any:
    """The YAML in ``path``; an unreadable or malformed file is one ``ConfigError`` line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {error.object[error.start]:#x} at offset "
            f"{error.start}); save it as UTF-8"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read {what} ({error.strerror})") from None
    try:
        return read_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}") from None


def load_config(path: Path = DEFAULT_CONFIG) -> Config:
    """Read and validate ``path``; every problem is reported with the file and the key."""
    return with_tuned_params(config_from(read_yaml_file(path, "config file"), path))


def config_from(raw: Any, source: Path) -> Config:
    """The config in ``raw`` (parsed YAML), or a ``ConfigError`` naming ``source`` and the key."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(f"{source}: {describe_validation_error(error, raw)}") from None


def with_tuned_params(config: Config) -> Config:
    """Merge the parameters ``tune`` wrote (if any) over ``model.params``."""
    params_file = config.model.params_file
    if params_file is None or not params_file.is_file():
        return config
    tuned = read_yaml_file(params_file, "tuned parameters")
    if not isinstance(tuned, dict):
        raise ConfigError(f"{params_file}: expected a mapping of parameter names to values")
    model = config.model.model_copy(update={"params": {**config.model.params, **tuned}})
    return config.model_copy(update={"model": model})


def describe_validation_error(error: ValidationError, raw: Any = None) -> str:
    """One line per pydantic error, joined: ``key.path: message``.

    An entry of a list is named by its position counted from 1 and, for a column, by its
    name too (``data.features[2] (monthly_charges).min``), as the user would look for it.
    """
    parts = []
    for item in error.errors():
        location, value = "", raw
        # Discriminated unions add the tag ("numeric") to the location; it is noise here.
        for part in (part for part in item["loc"] if part not in ("numeric", "categorical")):
            if isinstance(part, int) and isinstance(value, list) and part < len(value):
                value = value[part]
                name = value.get("name") if isinstance(value, dict) else None
                location += f"[{part + 1}]" + (f" ({name})" if isinstance(name, str) else "")
                continue
            value = value.get(part) if isinstance(value, dict) else None
            location += f".{part}" if location else str(part)
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)
