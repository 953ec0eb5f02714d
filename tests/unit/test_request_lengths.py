"""A text a client may send fits the column that keeps it: every request model's string field
with the name of a column of its service is no longer than that column (a callback's
phone_number took 30 characters into a varchar(20) and failed in the database)."""

import importlib
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import String

from crm.registry import SERVICES
from shared.requests import RequestModel


def request_models(service: str) -> list[type[RequestModel]]:
    package = importlib.import_module(f"services.{service}")
    for module in pkgutil.walk_packages(package.__path__, f"services.{service}."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)

    def subclasses(model: type[RequestModel]) -> Iterator[type[RequestModel]]:
        for child in model.__subclasses__():
            yield child
            yield from subclasses(child)

    return [m for m in subclasses(RequestModel) if m.__module__.startswith(f"services.{service}.")]


def column_lengths(service: str) -> dict[str, int]:
    """The longest varchar of each column name among the service's tables."""
    models = importlib.import_module(f"services.{service}.models")
    lengths: dict[str, int] = {}
    for table in models.Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, String) and column.type.length:
                lengths[column.name] = max(lengths.get(column.name, 0), column.type.length)
    return lengths


def text_limits(schema: dict[str, Any]) -> list[int]:
    forms = schema.get("anyOf", [schema])
    return [f["maxLength"] for f in forms if f.get("type") == "string" and "maxLength" in f]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_request_text_is_longer_than_its_column(service: str) -> None:
    lengths = column_lengths(service)
    too_long = []
    for model in request_models(service):
        for name, schema in model.model_json_schema().get("properties", {}).items():
            column = lengths.get(name)
            if column is None:
                continue
            too_long += [
                f"{model.__name__}.{name}: {limit} > {column}"
                for limit in text_limits(schema)
                if limit > column
            ]
    assert too_long == []
