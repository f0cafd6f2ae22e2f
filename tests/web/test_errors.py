from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from web import create_app

from .support import GOOD_MOVE, csrf_token, login


def test_unknown_page_is_a_govuk_404_page(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.text and "govuk-header" in response.text


def test_wrong_method_is_a_405_page_with_an_allow_header(client: FlaskClient) -> None:
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert "govuk-heading-l" in response.text


def test_unexpected_error_is_a_500_page_without_a_traceback(app_config: dict[str, object]) -> None:
    app = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    app.extensions["vsw"].engine.dispose()


def test_invalid_data_is_json_with_per_field_errors_when_json_is_asked_for(
    client: FlaskClient, first_task_id: str
) -> None:
    login(client, "sam")
    url = f"/tasks/{first_task_id}"
    token = csrf_token(client.get(url).text)
    response = client.post(
        url, data={**GOOD_MOVE, "reason": "", "csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"] and list(response.json["errors"]) == ["reason"]


def test_govuk_frontend_assets_are_served_for_the_compiled_css(app: Flask, client: FlaskClient) -> None:
    css = client.get("/static/govuk/govuk-frontend.min.css")
    assert css.status_code == 200 and "govuk-header" in css.text
    font = client.get("/assets/fonts/bold-b542beb274-v2.woff2")
    assert font.status_code == 200 and font.mimetype == "font/woff2"
    script = client.get("/static/js/app.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    css.close(), font.close(), script.close()
