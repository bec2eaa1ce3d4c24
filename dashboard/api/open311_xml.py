"""GeoReport v2 in XML, the format the specification requires (JSON is its option).

The documents are built from the same plain values the JSON routes answer with, with the
specification's element names: ``<discovery>``, ``<services><service>``, ``<service_definition>``,
``<service_requests><request>`` (reads and POST receipts) and ``<errors><error><code/><description/>``.
``xml.etree`` escapes every text; characters XML 1.0 cannot hold at all (control characters a
JSON body may carry) become U+FFFD, so a stored description can never make a document a client
fails to parse.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from starlette.responses import Response

from dashboard.access.refusals import open311_errors_xml

XML_MEDIA_TYPE = "text/xml"
"""What discovery lists and the XML routes answer with (``; charset=utf-8``)."""
JSON_MEDIA_TYPE = "application/json"
FORMATS = ("xml", "json")
"""The formats every route serves, by its extension."""

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's ``Char`` production."""

LISTS: Mapping[str, str] = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value"}
"""A list-valued field and the element each of its items becomes (``<formats><format>…``)."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: ET.Element, fields: Mapping[str, object]) -> None:
    for name, value in fields.items():
        child = ET.SubElement(parent, name)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list | tuple):
            item_name = LISTS.get(name, "item")
            for item in value:
                element = ET.SubElement(child, item_name)
                if isinstance(item, Mapping):
                    _fill(element, item)
                else:
                    element.text = _text(item)
        else:
            child.text = _text(value)


def document(root: str, item: str | None, content: Mapping[str, object] | Sequence[Mapping[str, object]]) -> bytes:
    """``<root>`` holding ``content``: a mapping's fields, or one ``<item>`` per element of a list."""
    element = ET.Element(root)
    if isinstance(content, Mapping):
        _fill(element, content)
    else:
        assert item is not None, "a list needs the name of its items"
        for entry in content:
            _fill(ET.SubElement(element, item), entry)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


class XMLResponse(Response):
    """A GeoReport v2 XML document (also what OpenAPI names as the XML routes' answer)."""

    media_type = XML_MEDIA_TYPE


def xml_response(body: bytes, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return XMLResponse(body, status_code=status_code, headers=dict(headers or {}))


def discovery_xml(discovery: Mapping[str, object]) -> bytes:
    return document("discovery", None, discovery)


def services_xml(services: Sequence[Mapping[str, object]]) -> bytes:
    return document("services", "service", services)


def definition_xml(definition: Mapping[str, object]) -> bytes:
    return document("service_definition", None, definition)


def requests_xml(requests: Sequence[Mapping[str, object]]) -> bytes:
    """Service requests, and the receipt of a POST: both are ``<service_requests><request>…``."""
    return document("service_requests", "request", requests)


errors_xml = open311_errors_xml
"""The refusal document, the same the gate sends before a route runs (413, 429)."""
