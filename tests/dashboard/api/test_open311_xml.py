"""Open311 as the specification says (issue 18, item 14): XML, the required format, for discovery,
services, a service definition, requests (list and one) and POST receipts, with the spec's element
names and its XML error shape; and a real Open311 client library (PyPI ``georeport``) reading a
running app in both formats and posting a request."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import xmltodict
from fastapi.testclient import TestClient
from georeport import GeoReport

from dashboard.api.open311_xml import requests_xml
from dashboard.domain.vocabulary import Category
from dashboard.imports import onboarding
from dashboard.runtime import Runtime
from dashboard.settings import PROJECT_ROOT, Settings
from tests.conftest import REDIS_URL, _clean
from tests.dashboard.api.open311_support import app_token, open311_client
from tests.dashboard.auth_support import new_source_token
from tests.factories import small_county
from tests.serving import wait_until_serving

PREFIX = "/open311/v2"
REQUEST_ELEMENTS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                    "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
"""A service request's elements, in the specification's order."""
OUTLINE = '{"type":"Polygon","coordinates":[[[127,44],[127.8,44],[127.8,44.2],[127,44.2],[127,44]]]}'



@pytest.fixture
def token(runtime: Runtime, county: str) -> str:
    return app_token(runtime)


@pytest.fixture
def api(runtime: Runtime, token: str) -> TestClient:
    return open311_client(runtime)


def _xml(answer: requests.Response | object, status: int = 200) -> ET.Element:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"].startswith("text/xml"), answer.headers  # type: ignore[attr-defined]
    return ET.fromstring(answer.content)  # type: ignore[attr-defined]


def _error(answer: object, status: int) -> str:
    root = _xml(answer, status)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert [c.tag for c in root[0]] == ["code", "description"] and root[0].findtext("code") == str(status)
    return root[0].findtext("description") or ""


def _post(api: TestClient, token: str, **fields: str) -> ET.Element:
    form = {"api_key": token, "service_code": "labour_wages", "lat": "44.05", "long": "127.05",
            "description": "工地拖欠三个月工资", "attribute[external_ref]": uuid.uuid4().hex, **fields}
    return _xml(api.post(f"{PREFIX}/requests.xml", data=form), 201)


def test_discovery_lists_xml_and_json(api: TestClient) -> None:
    root = _xml(api.get(f"{PREFIX}/discovery.xml"))
    assert root.tag == "discovery" and [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    [endpoint] = root.find("endpoints")  # type: ignore[union-attr]
    assert endpoint.tag == "endpoint" and endpoint.findtext("url") == "http://testserver/open311/v2"
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]  # type: ignore[union-attr]
    assert api.get(f"{PREFIX}/discovery.json").json()["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_services_and_a_service_definition(api: TestClient, county: str) -> None:
    root = _xml(api.get(f"{PREFIX}/services.xml", params={"jurisdiction_id": county}))
    assert root.tag == "services" and {s.tag for s in root} == {"service"}
    assert [s.findtext("service_code") for s in root] == [c.value for c in Category]
    assert [c.tag for c in root[0]] == ["service_code", "service_name", "description", "metadata", "type",
                                        "keywords", "group"]
    assert root[0].findtext("metadata") == "true" and root[0].findtext("service_name") == "婚姻家庭"
    definition = _xml(api.get(f"{PREFIX}/services/land.xml"))
    assert definition.tag == "service_definition" and definition.findtext("service_code") == "land"
    attributes = definition.find("attributes")
    assert attributes is not None and [a.findtext("code") for a in attributes.iter("attribute")] == \
        ["grid_code", "external_ref"]
    assert attributes[0].findtext("variable") == "true" and attributes[0].findtext("required") == "false"
    assert api.get(f"{PREFIX}/services/land.json").json()["attributes"][0]["datatype"] == "string"
    assert "pothole" in _error(api.get(f"{PREFIX}/services/pothole.xml"), 404)
    _error(api.get(f"{PREFIX}/services.xml", params={"jurisdiction_id": "110101"}), 404)


def test_post_and_read_requests_in_xml(api: TestClient, token: str) -> None:
    receipt = _post(api, token)
    assert receipt.tag == "service_requests" and [r.tag for r in receipt] == ["request"]
    assert [c.tag for c in receipt[0]] == ["service_request_id", "service_notice", "account_id"]
    case_id = receipt[0].findtext("service_request_id")
    assert case_id and case_id.isdigit()
    one = _xml(api.get(f"{PREFIX}/requests/{case_id}.xml"))
    assert one.tag == "service_requests" and len(one) == 1 and [c.tag for c in one[0]] == REQUEST_ELEMENTS
    assert one[0].findtext("lat") == "44.05" and one[0].findtext("status") == "open"
    assert one[0].findtext("description") == "", "no free text without a key"
    listed = _xml(api.get(f"{PREFIX}/requests.xml", params={"status": "open"}))
    assert [r.findtext("service_request_id") for r in listed] == [case_id]
    keyed = _xml(api.get(f"{PREFIX}/requests.xml", params={"service_request_id": case_id, "api_key": token}))
    assert keyed[0].findtext("description") == "工地拖欠三个月工资"


def test_hostile_text_is_escaped_and_the_document_stays_xml(api: TestClient, token: str) -> None:
    nasty = "<script>alert(1)</script> & ]]> \x01\x0b 结束"
    case_id = _post(api, token, description=nasty)[0].findtext("service_request_id")
    keyed = api.get(f"{PREFIX}/requests/{case_id}.xml", params={"api_key": token})
    assert b"<script>" not in keyed.content
    assert _xml(keyed)[0].findtext("description") == "<script>alert(1)</script> & ]]> \ufffd\ufffd 结束"
    assert ET.fromstring(requests_xml([{"description": "a\x00b"}]))[0].findtext("description") == "a\ufffdb"


def test_refusals_come_in_the_xml_error_shape(api: TestClient, token: str) -> None:
    form = {"api_key": token, "service_code": "labour_wages", "lat": "44.05", "long": "127.05"}
    assert "api_key" in _error(api.post(f"{PREFIX}/requests.xml", data={**form, "api_key": ""}), 403)
    assert "service_code" in _error(api.post(f"{PREFIX}/requests.xml", data={**form, "service_code": "x"}), 400)
    assert "start_date" in _error(api.get(f"{PREFIX}/requests.xml", params={"start_date": "yesterday"}), 400)
    _error(api.get(f"{PREFIX}/requests/999999.xml"), 404)
    _error(api.get(f"{PREFIX}/nothing/here.xml"), 404)
    assert api.get(f"{PREFIX}/nothing/here.json").json()[0]["code"] == 404


# --- a real client against a running app --------------------------------------------------------

@pytest.fixture
def served(pg_schema: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """``python -m dashboard serve`` on the test PostgreSQL schema with the small county and a source
    system: (the Open311 root URL, the county code, the source system's api_key)."""
    runtime = Runtime(Settings(database_url=pg_schema, redis_url=REDIS_URL, var_dir=tmp_path))
    _clean(runtime)
    with runtime.sessions() as session, session.begin():
        county = onboarding.save_county(session, small_county(), name="测试县", now=datetime(2026, 1, 1, tzinfo=UTC),
                                        outline_geojson=OUTLINE).county_code
    key = new_source_token(runtime, "市民APP", "online")
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": pg_schema, "REDIS_URL": REDIS_URL, "PORT": str(port),
           "MEDIATION_VAR_DIR": str(tmp_path), "MEDIATION_SCHEDULER": "off", "COUNTY_CODE": county}
    log = tmp_path / "serve.log"
    process = subprocess.Popen([sys.executable, "-m", "dashboard", "serve"], env=env, cwd=PROJECT_ROOT,
                               stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process=process, log=str(log))
        yield f"{url}{PREFIX}", county, key
    finally:
        process.terminate()
        process.wait(timeout=20)
        _clean(runtime)
        runtime.close()


def _free_port() -> int:
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_georeport_client_reads_both_formats_and_posts(served: tuple[str, str, str]) -> None:
    """``georeport`` 0.3.1 reads (it has no method to post): the POST is made as the specification
    describes it, with the client's own endpoint, jurisdiction and api_key, and read back with
    ``xmltodict``, the parser the client itself uses for XML."""
    root, county, key = served
    as_xml = GeoReport(root, jurisdiction=county, api_key=key, output_format="xml")
    as_json = GeoReport(root, jurisdiction=county, api_key=key, output_format="json")

    posted = requests.post(f"{as_xml.root_address}/requests.xml", timeout=10, data={
        "api_key": as_xml.api_key, "jurisdiction_id": as_xml.jurisdiction, "service_code": "neighbour",
        "lat": "44.0512", "long": "127.0534", "description": "邻居装修噪音", "first_name": "伟", "last_name": "王"})
    assert posted.status_code == 201, posted.text
    case_id = xmltodict.parse(posted.content)["service_requests"]["request"]["service_request_id"]

    xml_services, json_services = as_xml.get_service_list(), as_json.get_service_list()
    assert [s["service_code"] for s in xml_services] == [s["service_code"] for s in json_services] == \
        [c.value for c in Category]
    assert xml_services[1]["service_name"] == json_services[1]["service_name"] == "邻里纠纷"
    assert as_xml.get_service_definition("neighbour")["attributes"]["attribute"][0]["code"] == "grid_code"
    assert as_json.get_service_definition("neighbour")["attributes"][0]["code"] == "grid_code"

    xml_one, json_one = as_xml.get_service_request(case_id), as_json.get_service_request(case_id)
    assert xml_one["service_request_id"] == json_one["service_request_id"] == case_id
    assert (xml_one["service_code"], xml_one["status"], xml_one["lat"], xml_one["long"]) == \
        ("neighbour", "open", "44.051", "127.053")
    assert (json_one["lat"], json_one["long"], json_one["description"]) == (44.051, 127.053, None)
    assert xml_one["description"] is None and "王伟" not in str(xml_one) + str(json_one)

    xml_list = as_xml.get_service_requests(service_code="neighbour", status="open")
    json_list = as_json.get_service_requests(service_request_id=case_id)
    assert xml_list["service_request_id"] == case_id  # xmltodict: one <request> is a dict, not a list
    assert [r["service_request_id"] for r in json_list] == [case_id]
    refused = requests.get(f"{root}/requests/999999.xml", params={"jurisdiction_id": county}, timeout=10)
    assert refused.status_code == 404 and xmltodict.parse(refused.content)["errors"]["error"]["code"] == "404"
