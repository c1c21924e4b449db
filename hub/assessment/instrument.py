"""Reading and checking an instrument written in YAML.

The instrument is data kept in the repository (``instruments/v1.yaml`` and later versions).
It is checked against a JSON Schema and a few rules a schema cannot say before it is stored;
every problem is reported with the place it was found, so staff publishing a new version can
fix it.
"""

from pathlib import Path

import jsonschema
import yaml
from django.core.exceptions import ValidationError

FOLDER = Path(__file__).parent / "instruments"

DIMENSIONS = ["governance", "accountability", "relationships", "intelligence",
              "partnership", "risk", "trust"]
DEFINING = "governance"

_TEXT = {"type": "string", "minLength": 3, "maxLength": 600}

SCHEMA = {
    "type": "object",
    "required": ["version", "title", "introduction", "scale", "dimensions"],
    "additionalProperties": False,
    "properties": {
        "version": {"type": "integer", "minimum": 1},
        "title": {"type": "string", "minLength": 3, "maxLength": 200},
        "introduction": {"type": "string", "minLength": 3, "maxLength": 2000},
        "scale": {"type": "array", "items": _TEXT, "minItems": 5, "maxItems": 5},
        "dimensions": {
            "type": "array", "minItems": len(DIMENSIONS), "maxItems": len(DIMENSIONS),
            "items": {
                "type": "object",
                "required": ["key", "name", "summary", "indicators"],
                "additionalProperties": False,
                "properties": {
                    "key": {"enum": DIMENSIONS},
                    "name": {"type": "string", "minLength": 3, "maxLength": 80},
                    "defining": {"type": "boolean"},
                    "weight": {"type": "number", "exclusiveMinimum": 0, "maximum": 10},
                    "summary": _TEXT,
                    "indicators": {
                        "type": "array", "minItems": 3, "maxItems": 6,
                        "items": {
                            "type": "object",
                            "required": ["key", "question", "targeted", "focussed"],
                            "additionalProperties": False,
                            "properties": {
                                "key": {"type": "string",
                                        "pattern": "^[a-z][a-z0-9-]{2,59}$"},
                                "question": _TEXT,
                                "targeted": _TEXT,
                                "focussed": _TEXT,
                            },
                        },
                    },
                },
            },
        },
    },
}


def _where(path) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path) or "top"


def validate(data) -> dict:
    """Return the instrument with defaults filled in, or raise ValidationError listing every
    problem found."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = [f"{_where(error.absolute_path)}: {error.message}"
                for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path))]
    if problems:
        raise ValidationError(problems)
    keys = [dimension["key"] for dimension in data["dimensions"]]
    if len(set(keys)) != len(keys):
        problems.append("dimensions: each of " + ", ".join(DIMENSIONS) + " must appear once")
    seen = set()
    for index, dimension in enumerate(data["dimensions"]):
        defining = dimension.get("defining", False)
        if defining != (dimension["key"] == DEFINING):
            problems.append(f"dimensions[{index}]: only '{DEFINING}' is the defining "
                            "characteristic")
        for position, indicator in enumerate(dimension["indicators"]):
            if indicator["key"] in seen:
                problems.append(f"dimensions[{index}].indicators[{position}].key: "
                                f"'{indicator['key']}' is used twice")
            seen.add(indicator["key"])
    if problems:
        raise ValidationError(problems)
    for dimension in data["dimensions"]:
        dimension.setdefault("defining", False)
        dimension.setdefault("weight", 1)
    return data


def parse(text: str) -> dict:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ValidationError(f"This is not valid YAML{where}.") from error
    if not isinstance(data, dict):
        raise ValidationError("The instrument must be a YAML mapping with a version, a title, "
                              "an introduction, a scale and dimensions.")
    return validate(data)


def read(version: int) -> tuple[dict, str]:
    """An instrument kept in the repository, checked, with its source text."""
    text = (FOLDER / f"v{version}.yaml").read_text(encoding="utf-8")
    return parse(text), text
