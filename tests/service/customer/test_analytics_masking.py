"""One masking rule on every analytics list: a customer who appears in each of them appears
under the same masked name, and under their full name in none. The routes are walked from the
OpenAPI document, so a new analytics route joins the check without anyone remembering to."""

import json
import uuid
from typing import Any

import httpx

from shared.masking import mask_name
from tests.service.customer.factories import create_customer, open_account, transaction
from tests.waiting import wait_until

# The parameters a route needs to list anyone; the lists are long enough to hold everyone.
QUERIES: dict[str, dict[str, str]] = {
    "/v1/analytics/segment-migration": {"start": "2026-01-01T00:00:00+08:00"},
    "/v1/analytics/drifting": {"limit": "500"},
    "/v1/analytics/rfm": {"limit": "1000"},
    "/v1/analytics/unserved": {"limit": "1000"},
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


class TestAnalyticsNames:
    async def test_every_analytics_list_masks_the_name_of_a_customer_in_all_of_them(
        self, desk: httpx.AsyncClient
    ) -> None:
        full_name = f"欧阳{uuid.uuid4().hex[:6]}"
        branch = f"M{uuid.uuid4().hex[:8].upper()}"
        # Premium without a manager (none has room here), new and so drifting, with money in.
        customer = await create_customer(desk, name=full_name, branch_code=branch)
        account = (await open_account(desk, customer["id"]))["full_number"]
        posted = await desk.post(
            "/v1/transactions",
            json={"transactions": [transaction(account, amount="3000000.00")]},
        )
        assert posted.status_code == 200, posted.text
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
