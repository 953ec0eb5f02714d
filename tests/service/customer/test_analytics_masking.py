"""One masking rule on every list of customers: an individual and a corporate who appear in each
analytics list and in the customer search appear under the same masked name in all, and under
their full name in none. The analytics routes are walked from the OpenAPI document, so a new
one joins the check without anyone remembering to."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shared.masking import mask_name
from tests.service.customer.factories import (
    corporate,
    individual,
    open_account,
    transaction,
)
from tests.waiting import wait_until

# The parameters a route needs to list anyone; the lists are long enough to hold everyone.
QUERIES: dict[str, dict[str, str]] = {
    "/v1/analytics/segment-migration": {"start": "2026-01-01T00:00:00+08:00"},
    "/v1/analytics/drifting": {"limit": "500"},
    "/v1/analytics/rfm": {"limit": "1000"},
    "/v1/analytics/unserved": {"limit": "1000"},
    "/v1/analytics/share-of-wallet": {},
    "/v1/analytics/retention": {"period": "2026"},
    "/v1/analytics/products-per-customer": {},
}


def _names_listed(document: dict[str, Any], schema: dict[str, Any]) -> bool:
    """Whether an answer of this schema carries a ``name`` (in itself or its items)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    if schema.get("type") == "array":
        return _names_listed(document, schema["items"])
    return "name" in schema.get("properties", {})


def _answer_schema(operation: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def _entry_of(answer: str, customer_id: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = json.loads(answer)
    return next(e for e in entries if customer_id in (e.get("id"), e.get("customer_id")))


async def _premium(desk: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """Premium without a manager (none has room here), new and so drifting, with money in."""
    created = await desk.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer: dict[str, Any] = created.json()
    account = (await open_account(desk, customer["id"]))["full_number"]
    posted = await desk.post(
        "/v1/transactions",
        json={"transactions": [transaction(account, amount="3000000.00")]},
    )
    assert posted.status_code == 200, posted.text
    return customer


class TestListNames:
    @pytest.mark.parametrize("make", [individual, corporate], ids=["individual", "corporate"])
    async def test_every_list_masks_the_name_of_a_customer_in_all_of_them_alike(
        self, desk: httpx.AsyncClient, make: Callable[..., dict[str, Any]]
    ) -> None:
        full_name = f"欧阳{uuid.uuid4().hex[:6]}"
        branch = f"M{uuid.uuid4().hex[:8].upper()}"
        customer = await _premium(desk, make(name=full_name, branch_code=branch))
        document = (await desk.get("/openapi.json")).json()
        routes = {
            path: _names_listed(document, _answer_schema(operations["get"]))
            for path, operations in document["paths"].items()
            if path.startswith("/v1/analytics/") and "get" in operations
        }
        assert set(routes) <= set(QUERIES) | {"/v1/analytics/value-pyramid"}, routes

        async def answers() -> dict[str, str]:
            return {
                path: (await desk.get(path, params=QUERIES.get(path, {}))).text for path in routes
            }

        async def listed_everywhere() -> bool:
            texts = await answers()
            return all(customer["id"] in texts[path] for path, named in routes.items() if named)

        await wait_until(listed_everywhere, timeout=20)
        texts = await answers()
        named = sorted(path for path, names in routes.items() if names)
        assert named == ["/v1/analytics/drifting", "/v1/analytics/rfm", "/v1/analytics/unserved"]
        for path in named:
            entry = _entry_of(texts[path], customer["id"])
            assert entry["name"] == mask_name(full_name), path
        assert not [path for path, text in texts.items() if full_name in text]
        searched = await desk.get("/v1/customers", params={"name": full_name})
        (found,) = searched.json()["items"]
        assert (found["id"], found["kind"]) == (customer["id"], make()["kind"])
        assert found["name"] == mask_name(full_name)
        assert full_name not in searched.text
