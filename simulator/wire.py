"""Name a signed AWS request and read its parameters, from botocore's public service model.

The recorder must see every call it meters, so this owes nothing to moto's private parsers (a
moto release once changed one and the recorder silently lost sight of every call). What it
cannot name or read raises `UnparsedCall`; the recorder answers that request with a 501 and the
test fixture fails the test that sent it.

    operation, params = parse_call("ecs", "POST", "/", "", headers, body)

Parameters keep botocore's member names (S3 PutObject: Bucket, Key, ServerSideEncryption, Body).
Scalars in a URI, query string or header are converted by their shape's type; bodies of the
JSON protocols are taken as sent; an XML body is read as nested dicts of strings (a repeated
element: a list).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

#: Signing names that differ from the botocore service's name.
MODEL_OF = {"tagging": "resourcegroupstaggingapi"}


class UnparsedCall(Exception):
    """A signed request the recorder cannot name or read."""


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of the service a request was signed for (by its signing name)."""
    return botocore.session.get_session().get_service_model(MODEL_OF.get(service, service))


def parse_call(
    service: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, dict[str, Any]]:
    """The operation's name and its parameters under botocore's member names."""
    try:
        model = service_model(service)
    except Exception as error:  # botocore names the missing service
        raise UnparsedCall(f"no botocore model for signing name {service!r}: {error}") from error
    protocol = model.resolved_protocol
    if protocol == "json":
        return _parse_json(model, headers, body)
    if protocol == "query":
        return _parse_query(model, query, body)
    if protocol in ("rest-json", "rest-xml"):
        return _parse_rest(model, protocol, method, path, query, headers, body)
    raise UnparsedCall(f"{service} speaks {protocol}, which the recorder does not read")


def _parse_json(
    model: ServiceModel, headers: Mapping[str, str], body: bytes
) -> tuple[str, dict[str, Any]]:
    target = _header(headers, "X-Amz-Target") or ""
    prefix, _, name = target.rpartition(".")
    if prefix != model.metadata.get("targetPrefix") or name not in model.operation_names:
        raise UnparsedCall(f"X-Amz-Target {target!r} names no {model.service_name} operation")
    try:
        params = json.loads(body or b"{}")
    except ValueError as error:
        raise UnparsedCall(f"{name}: the body is not JSON ({error})") from error
    if not isinstance(params, dict):
        raise UnparsedCall(f"{name}: the body is not a JSON object")
    return name, params


def _parse_query(model: ServiceModel, query: str, body: bytes) -> tuple[str, dict[str, Any]]:
    fields = {**_flat(query), **_flat(body.decode("utf-8", "replace"))}
    name = fields.pop("Action", None)
    fields.pop("Version", None)
    if name not in model.operation_names:
        raise UnparsedCall(f"Action {name!r} names no {model.service_name} operation")
    return name, fields


def _flat(encoded: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(encoded, keep_blank_values=True).items()}


# --- the REST protocols: the operation is found by its method, URI template and required members


@dataclass(frozen=True)
class _Route:
    operation: OperationModel
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]  # literal keys the URI template requires
    headers: tuple[str, ...]  # headers of required members
    params: tuple[str, ...]  # query parameters of required members

    def matches(self, method: str, path: str, query: dict[str, str], headers: set[str]) -> bool:
        return (
            method == self.method
            and self.path.fullmatch(path) is not None
            and all(key in query and value in (None, query[key]) for key, value in self.query)
            and all(header.lower() in headers for header in self.headers)
            and all(param in query for param in self.params)
        )

    @property
    def rank(self) -> tuple[int, bool, bool]:
        """The most specific match wins (how much of the request the route pins down); of
        two alike, the current operation over a deprecated one, and the general one over one
        for S3 Express directory buckets (ListBuckets over ListDirectoryBuckets)."""
        specific = len(self.query) + len(self.headers) + len(self.params)
        operation = self.operation
        return specific, not operation.deprecated, not operation.static_context_parameters


@cache
def _routes(service: str) -> tuple[_Route, ...]:
    model = service_model(service)
    return tuple(_route(model.operation_model(name)) for name in model.operation_names)


def _route(operation: OperationModel) -> _Route:
    template = operation.http["requestUri"]
    path_template, _, query_template = template.partition("?")
    pattern = re.sub(
        r"\\\{(\w+)(\\\+)?\\\}",
        lambda m: f"(?P<{m[1]}>.+)" if m[2] else f"(?P<{m[1]}>[^/]+)",
        re.escape(path_template),
    )
    query = tuple(
        (key, value if equals else None)
        for key, equals, value in (part.partition("=") for part in query_template.split("&"))
        if key
    )
    shape = operation.input_shape
    required = set(shape.required_members) if isinstance(shape, StructureShape) else set()
    members = shape.members if isinstance(shape, StructureShape) else {}
    located = [(members[name].serialization, name) for name in sorted(required)]
    return _Route(
        operation=operation,
        method=operation.http["method"],
        path=re.compile(pattern.rstrip("/") + "/?"),
        query=query,
        headers=tuple(s["name"] for s, _ in located if s.get("location") == "header"),
        params=tuple(s["name"] for s, _ in located if s.get("location") == "querystring"),
    )


def _parse_rest(
    model: ServiceModel,
    protocol: str,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, dict[str, Any]]:
    fields = _flat(query)
    present = {name.lower() for name in headers}
    found = [
        route
        for route in _routes(model.service_name)
        if route.matches(method, path, fields, present)
    ]
    if not found:
        raise UnparsedCall(f"{method} {path} matches no {model.service_name} operation")
    found.sort(key=lambda route: route.rank, reverse=True)
    if len(found) > 1 and found[0].rank == found[1].rank:
        names = ", ".join(route.operation.name for route in found[:2])
        raise UnparsedCall(f"{method} {path} matches more than one operation ({names})")
    route = found[0]
    labels = route.path.fullmatch(path)
    assert labels is not None  # matched above
    return route.operation.name, _rest_params(
        route.operation, protocol, labels.groupdict(), fields, headers, body
    )


def _rest_params(
    operation: OperationModel,
    protocol: str,
    labels: dict[str, str],
    query: dict[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> dict[str, Any]:
    shape = operation.input_shape
    if not isinstance(shape, StructureShape):
        return {}
    params: dict[str, Any] = {}
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if location == "uri" and wire in labels:
            params[name] = _scalar(member, unquote(labels[wire]))
        elif location == "querystring" and wire in query:
            params[name] = _scalar(member, query[wire])
        elif location == "header" and _header(headers, wire) is not None:
            params[name] = _scalar(member, str(_header(headers, wire)))
        elif location == "headers":
            prefix = wire.lower()
            found = {
                k[len(prefix) :]: v for k, v in headers.items() if k.lower().startswith(prefix)
            }
            if found:
                params[name] = found
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        if member.type_name == "blob" or member.type_name == "string":
            params[payload] = body
        elif body:
            params[payload] = _document(protocol, body)
    elif body:
        params.update(_document(protocol, body))
    return params


def _document(protocol: str, body: bytes) -> dict[str, Any]:
    try:
        if protocol == "rest-json":
            parsed = json.loads(body)
            if not isinstance(parsed, dict):
                raise UnparsedCall("the body is not a JSON object")
            return parsed
        content = _xml(ElementTree.fromstring(body))  # the root names the payload member
        return content if isinstance(content, dict) else {}
    except (ValueError, ElementTree.ParseError) as error:
        raise UnparsedCall(f"the body cannot be read as {protocol} ({error})") from error


def _xml(element: ElementTree.Element) -> Any:
    """An element's text, or its children by name (a name repeated: a list, in order)."""
    children = list(element)
    if not children:
        return element.text or ""
    names = [_local(child.tag) for child in children]
    found: dict[str, Any] = {}
    for name, child in zip(names, children, strict=True):
        if names.count(name) > 1:
            found.setdefault(name, []).append(_xml(child))
        else:
            found[name] = _xml(child)
    return found


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _scalar(shape: Shape, text: str) -> Any:
    if shape.type_name in ("integer", "long"):
        try:
            return int(text)
        except ValueError as error:
            raise UnparsedCall(f"{text!r} is not the integer {shape.name} holds") from error
    if shape.type_name == "boolean":
        return text.lower() == "true"
    return text


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)
