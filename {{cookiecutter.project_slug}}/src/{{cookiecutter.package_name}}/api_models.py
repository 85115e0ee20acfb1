"""The API's request and response bodies, built from the data schema in the config.

Every check of the schema is a check of the request model, so the OpenAPI docs
(``/docs``) list each column with its type, range and allowed values, a bad request gets
a 422 naming the field, and valid records go straight to the model. The models also
bound what a request can make the server hold or log: free text has a maximum length,
numbers must be finite, and text must be valid Unicode.
"""

from collections.abc import Callable
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    create_model,
)

from .config import BooleanColumn, CategoricalColumn, Column, Config, DatetimeColumn

REQUEST_ID_PATTERN = r"^[0-9a-f]{32}$"


def _whole_unicode(text: str) -> str:
    """Refuse a lone surrogate (``"\\ud800"`` in JSON): it cannot be logged or written."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode (holds a lone surrogate)") from None
    return text


def _free_text(config: Config) -> Any:
    """Text of bounded length, valid Unicode: what a field without allowed values takes."""
    return Annotated[
        str,
        StringConstraints(max_length=config.serving.max_text_length),
        AfterValidator(_whole_unicode),
    ]


def _date_in(date_format: str) -> Callable[[str], str]:
    """A check that the text is a date in ``date_format``, read as batch data reads it."""

    def check(text: str) -> str:
        try:
            pd.to_datetime(text, format=date_format)
        except (ValueError, OverflowError):
            raise ValueError(f"not a date in the format {date_format}") from None
        return text

    return check


def _field(column: Column, config: Config, *, target: bool = False) -> tuple[Any, Any]:
    """The annotation and ``Field`` that check one value of ``column`` (of the target, when
    ``target``: required, and classes numbered by whole numbers given as numbers)."""
    constraints: dict[str, Any] = {}
    if isinstance(column, BooleanColumn):
        annotation: Any = bool
        constraints = {"strict": True}  # JSON true or false, not "false" or 0
    elif isinstance(column, DatetimeColumn):
        annotation = Annotated[
            str,
            StringConstraints(max_length=64),
            AfterValidator(_date_in(column.format)),
        ]
    elif isinstance(column, CategoricalColumn):
        if target and column.numbered_classes:
            annotation = Literal[tuple(column.allowed or [])]
        elif column.text_values:
            annotation = Literal[tuple(column.text_values)]
        else:
            annotation = _free_text(config)
    else:
        annotation = float  # strict: a number, not "12" or true
        constraints = {"ge": column.min, "le": column.max, "allow_inf_nan": False, "strict": True}
    if column.nullable and not target:
        return annotation | None, Field(default=None, **constraints)
    return annotation, Field(..., **constraints)


def record_model(config: Config) -> type[BaseModel]:
    """A pydantic model with one field per configured feature, and the experiment's key
    field when it is not one of them (optional, and never part of the logged inputs)."""
    fields = {column.name: _field(column, config) for column in config.data.features}
    key = config.serving.experiment.key
    if key is not None and key not in fields:
        annotation = _free_text(config) | Annotated[int, Strict()] | None
        fields[key] = (annotation, Field(default=None, exclude=True))
    return create_model(  # type: ignore[call-overload, no-any-return]
        "Record", __config__=ConfigDict(extra="forbid"), **fields
    )


def request_model(config: Config) -> type[BaseModel]:
    """The body of ``/predict``: a bounded list of records, each checked field by field."""
    record = record_model(config)
    return create_model(
        "PredictionRequest",
        __config__=ConfigDict(extra="forbid"),
        records=(list[record], Field(min_length=1, max_length=config.serving.max_batch)),  # type: ignore[valid-type]
    )


def feedback_model(config: Config) -> type[BaseModel]:
    """The body of ``/feedback``: which prediction, and its true outcome, typed like the target."""
    return create_model(
        "Feedback",
        __config__=ConfigDict(extra="forbid"),
        request_id=(str, Field(pattern=REQUEST_ID_PATTERN, description="From /predict.")),
        index=(int, Field(ge=0, strict=True, description="Position of the record in the request.")),
        actual=_field(config.data.target, config, target=True),
    )


class Prediction(BaseModel):
    prediction: bool | int | float | str
    probabilities: dict[str, float] | None = None
    model_version: str  # the model that answered this record


class PredictionResponse(BaseModel):
    request_id: str
    model_version: str = Field(
        description="The model that answered every record; the champion's when the "
        "champion and a challenger shared the request (each prediction names its own)."
    )
    predictions: list[Prediction]
