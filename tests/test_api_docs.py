"""The API documentation works offline: no CDN, assets served by the app."""

import re


def test_docs_page_uses_only_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    csp = page.headers["Content-Security-Policy"]
    assert "http" not in csp and "script-src 'self';" in csp
    assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "LAP Market"
