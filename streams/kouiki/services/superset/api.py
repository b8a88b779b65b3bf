"""A logged-in session against the Superset REST API (and the legacy chart endpoint)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

import requests

from kouiki.config import Settings
from kouiki.services.superset.bundle import bundle_uuids
from kouiki.services.superset.process import SupersetError, base_url, credentials


def rison_filter(column: str, value: str) -> str:
    """A Rison ``q`` that selects the rows whose ``column`` equals ``value``."""
    return f"(filters:!((col:{column},opr:eq,value:'{value}')))"


def _datasource_uid(chart: Mapping[str, Any]) -> str:
    return f"{chart['datasource_id']}__{chart['datasource_type']}"


def _datasource_fix(chart: Mapping[str, Any]) -> dict[str, str]:
    """The chart fields (params, query_context) whose datasource reference is stale, corrected."""
    uid = _datasource_uid(chart)
    source = {"id": chart["datasource_id"], "type": chart["datasource_type"]}
    update: dict[str, str] = {}
    params = json.loads(chart["params"] or "{}")
    if params.get("datasource") != uid:
        update["params"] = json.dumps(params | {"datasource": uid}, ensure_ascii=False)
    context = json.loads(chart.get("query_context") or "null")
    if context and context.get("datasource") != source:
        context["datasource"] = source
        context.setdefault("form_data", {})["datasource"] = uid
        for query in context.get("queries", []):
            query.pop("datasource", None)
        update["query_context"] = json.dumps(context, ensure_ascii=False)
    return update


class ApiClient:
    """A logged-in session against the Superset REST API (and the legacy chart endpoint)."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        # Superset's CSRF check on HTTP also compares the Referer with the host.
        self.session.headers["Referer"] = self.url

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(f"{method} {path} -> {response.status_code}: {response.text[:500]}")
        return response

    def request_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return cast(dict[str, Any], self.request(method, path, **kwargs).json())

    def login(self, username: str, password: str) -> None:
        """JWT login for the REST API, plus the CSRF token its write endpoints require."""
        body = {"username": username, "password": password, "provider": "db", "refresh": True}
        token = self.request_json("POST", "/api/v1/security/login", json=body)["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self.request_json("GET", "/api/v1/security/csrf_token/")["result"]
        self.session.headers["X-CSRFToken"] = csrf

    def form_login(self, username: str, password: str) -> None:
        """Cookie session via the login form; the legacy explore_json endpoint accepts only this."""
        if "X-CSRFToken" not in self.session.headers:
            self.session.headers["X-CSRFToken"] = self.request_json("GET", "/api/v1/security/csrf_token/")["result"]
        form = {"username": username, "password": password, "csrf_token": self.session.headers["X-CSRFToken"]}
        response = self.request("POST", "/login/", data=form, allow_redirects=False)
        if response.status_code != 302 or "/login" in response.headers.get("Location", "/login"):
            raise SupersetError(f"form login as {username} failed ({response.status_code})")

    def all_pages(self, path: str, page_size: int = 100) -> list[dict[str, Any]]:
        """Every row of a paginated list endpoint."""
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            batch = self.request_json("GET", path, params={"q": f"(page:{page},page_size:{page_size})"})["result"]
            rows.extend(batch)
            if len(batch) < page_size:
                return rows
            page += 1

    def id_by_uuid(self, resource: str, uuid: str) -> int:
        """Numeric id of a chart/dataset/dashboard from its (committed) UUID."""
        found = self.request_json("GET", f"/api/v1/{resource}/", params={"q": rison_filter("uuid", uuid)})["ids"]
        if len(found) != 1:
            raise SupersetError(f"{resource} with uuid {uuid} not found")
        return int(found[0])

    def chart(self, chart: int | str) -> dict[str, Any]:
        chart_id = chart if isinstance(chart, int) else self.id_by_uuid("chart", chart)
        saved = cast(dict[str, Any], self.request_json("GET", f"/api/v1/chart/{chart_id}")["result"])
        return saved | {"id": chart_id}

    def link_charts_to_datasets(self, uuids: Iterable[str] | None = None) -> None:
        """Point each chart's saved params and query context at its imported dataset.

        import-directory assigns dataset ids but keeps the placeholder id of the committed query
        context, which GET /api/v1/chart/<id>/data/, reports and cache warm-up rely on.
        """
        for uuid in uuids if uuids is not None else bundle_uuids("charts"):
            saved = self.chart(uuid)
            update = _datasource_fix(saved)
            if update:
                self.request("PUT", f"/api/v1/chart/{saved['id']}", json=update)

    def chart_data(self, chart: int | str, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows a chart shows, optionally with equality filters such as {"fiscal_year": 2026}.

        Charts with a saved query context go through /api/v1/chart/data; legacy charts (the country
        map) through /superset/explore_json/, which needs ``form_login`` first.
        """
        saved = self.chart(chart)
        if saved.get("query_context"):
            return self._query_context_rows(saved, filters or {})
        return self._legacy_rows(saved, filters or {})

    def _query_context_rows(self, saved: dict[str, Any], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        if not filters:
            result = self.request_json("GET", f"/api/v1/chart/{saved['id']}/data/")
        else:
            context = json.loads(saved["query_context"])
            for query in context["queries"]:
                query["filters"] = [
                    *query.get("filters", []),
                    *({"col": c, "op": "==", "val": v} for c, v in filters.items()),
                ]
            result = self.request_json("POST", "/api/v1/chart/data", json=context)
        return cast(list[dict[str, Any]], result["result"][0]["data"])

    def _legacy_rows(self, saved: dict[str, Any], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        form_data = json.loads(saved["params"])
        form_data["datasource"] = _datasource_uid(saved)
        form_data["adhoc_filters"] = [
            *form_data.get("adhoc_filters", []),
            *(
                {"expressionType": "SIMPLE", "clause": "WHERE", "subject": c, "operator": "==", "comparator": v}
                for c, v in filters.items()
            ),
        ]
        result = self.request_json("POST", "/superset/explore_json/", data={"form_data": json.dumps(form_data)})
        return cast(list[dict[str, Any]], result.get("data") or [])

    def refresh_datasets(self, uuids: Iterable[str] | None = None) -> list[int]:
        """Invalidate cached chart data after a new serving file is published.

        The dataset's changed_on is part of every query's cache key, so touching the dataset is
        enough; the stamp goes into ``extra`` to leave user-visible fields alone.
        """
        stamp = json.dumps({"kouiki_published_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
        touched = []
        for uuid in uuids if uuids is not None else bundle_uuids("datasets"):
            dataset_id = self.id_by_uuid("dataset", uuid)
            self.request("PUT", f"/api/v1/dataset/{dataset_id}", json={"extra": stamp})
            touched.append(dataset_id)
        return touched


def admin_client(settings: Settings, legacy: bool = False) -> ApiClient:
    """An ApiClient logged in as the Kouiki admin (also form-logged-in when ``legacy``)."""
    client = ApiClient(base_url(settings))
    username, password = credentials(settings)
    client.login(username, password)
    if legacy:
        client.form_login(username, password)
    return client
