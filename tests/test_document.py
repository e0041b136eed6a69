"""Snapshot documents: the exact JSON written, the checksum over canonical bytes, and every
refusal's one-line reason when a document is read back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest

from ecsundo_action.aws.records import Cluster, ContainerImage, Kind, ScheduledTask
from ecsundo_action.errors import SnapshotRefused
from ecsundo_action.snapshots import document as doc

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROD = Cluster("prod", f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod", ACCOUNT, REGION)
TD = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:3"
TD_API = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/api:7"
WEB_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"
API_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/api"
REVISION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/prod/web/4242"
DIGEST = "sha256:" + "ab" * 32
WEB_BODY = {"family": "web", "containerDefinitions": [{"name": "web", "image": "shop/web:1"}]}
API_BODY = {"family": "api", "containerDefinitions": [{"name": "api", "image": "shop/api:7"}]}

# Every optional field set; capacity provider strategy and settings as read-only mappings,
# the way the records hold what ECS answered.
FULL = doc.ServiceRecord(
    name="web",
    arn=WEB_ARN,
    task_definition=TD,
    desired_count=3,
    scheduling_strategy="DAEMON",
    capacity_provider_strategy=(
        MappingProxyType({"capacityProvider": "FARGATE_SPOT", "weight": 2}),
        MappingProxyType({"capacityProvider": "FARGATE", "base": 1}),
    ),
    controller="CODE_DEPLOY",
    images=(ContainerImage("web", "shop/web:1", DIGEST), ContainerImage("envoy", "envoy:v1")),
    settings=MappingProxyType({"platformVersion": "1.4.0", "loadBalancers": []}),
    revision=REVISION,
    rollout_state="IN_PROGRESS",
    recorded_from="mid-rollout: web:4 was not serving yet",
)
FULL_JSON: dict[str, Any] = {
    "name": "web",
    "arn": WEB_ARN,
    "taskDefinition": TD,
    "desiredCount": 3,
    "schedulingStrategy": "DAEMON",
    "deploymentController": "CODE_DEPLOY",
    "images": [
        {"containerName": "web", "image": "shop/web:1", "imageDigest": DIGEST},
        {"containerName": "envoy", "image": "envoy:v1"},
    ],
    "settings": {"platformVersion": "1.4.0", "loadBalancers": []},
    "capacityProviderStrategy": [
        {"capacityProvider": "FARGATE_SPOT", "weight": 2},
        {"capacityProvider": "FARGATE", "base": 1},
    ],
    "serviceRevision": REVISION,
    "rolloutState": "IN_PROGRESS",
    "recordedFrom": "mid-rollout: web:4 was not serving yet",
}
MINIMAL = doc.ServiceRecord("api", API_ARN, TD_API, 0)
MINIMAL_JSON: dict[str, Any] = {
    "name": "api",
    "arn": API_ARN,
    "taskDefinition": TD_API,
    "desiredCount": 0,
    "schedulingStrategy": "REPLICA",
    "deploymentController": "ECS",
    "images": None,
    "settings": None,
}


def snapshot(**changes: Any) -> doc.Snapshot:
    fields: dict[str, Any] = {
        "id": "before-v2",
        "created_at": "2026-11-27T16:26:00.123Z",
        "tool": "ecsundo 1.2.3",
        "cluster": PROD,
        "services": (FULL, MINIMAL),
        "task_definitions": {
            TD: doc.KeptTaskDefinition("ACTIVE", WEB_BODY, [{"key": "team", "value": "shop"}]),
            TD_API: doc.KeptTaskDefinition("INACTIVE", API_BODY),
        },
        "selection": ("web*", "api"),
        "github": {"repository": "org/shop", "sha": "f00d", "runId": "17", "actor": "ci"},
    }
    fields.update(changes)
    return doc.Snapshot(**fields)


def v1_document() -> dict[str, Any]:
    """A version 1 document as an older ecsundo sealed it: no controller, images, settings."""
    return doc.seal(
        {
            "schemaVersion": 1,
            "id": "20260102T030405006Z-abcdef",
            "createdAt": "2026-01-02T03:04:05.006Z",
            "tool": "ecsundo 0.9",
            "cluster": {"name": "prod", "arn": PROD.arn},
            "region": REGION,
            "accountId": ACCOUNT,
            "services": [
                {
                    "name": "web",
                    "arn": WEB_ARN,
                    "taskDefinition": TD,
                    "desiredCount": 2,
                    "schedulingStrategy": "REPLICA",
                }
            ],
            "taskDefinitions": {TD: {"status": "ACTIVE", "body": WEB_BODY, "tags": []}},
        }
    )


def resealed(document: dict[str, Any]) -> bytes:
    """The document with a checksum that matches its (possibly broken) content."""
    return doc.dumps(dict(document, checksum=doc.checksum(document)))


def refusal(data: bytes, source: str = "'pre'") -> str:
    with pytest.raises(SnapshotRefused) as excinfo:
        doc.loads(data, source)
    return str(excinfo.value)


# --- service records ------------------------------------------------------------------------


def test_a_full_record_is_written_with_every_field() -> None:
    written = FULL.to_json()
    assert written == FULL_JSON
    # Plain dicts, so that JSON can write them.
    assert type(written["settings"]) is dict
    assert all(type(item) is dict for item in written["capacityProviderStrategy"])
    assert json.loads(json.dumps(written)) == FULL_JSON


def test_a_minimal_record_has_the_defaults_and_no_optional_keys() -> None:
    assert MINIMAL.to_json() == MINIMAL_JSON
    assert list(MINIMAL.to_json()) == list(MINIMAL_JSON)


def test_a_capacity_provider_strategy_replaces_the_launch_type() -> None:
    assert replace(FULL, launch_type="FARGATE").to_json() == FULL_JSON


def test_a_launch_type_without_a_capacity_provider_strategy_is_written() -> None:
    record = doc.ServiceRecord("api", API_ARN, TD_API, 1, launch_type="EC2")
    assert record.to_json() == {**MINIMAL_JSON, "desiredCount": 1, "launchType": "EC2"}


def test_an_external_service_without_a_task_definition_keeps_null() -> None:
    record = doc.ServiceRecord("ext", API_ARN, None, 1, controller="EXTERNAL", images=())
    assert record.to_json() == {
        **MINIMAL_JSON,
        "name": "ext",
        "taskDefinition": None,
        "desiredCount": 1,
        "deploymentController": "EXTERNAL",
        "images": [],
    }


def test_records_round_trip_through_their_json() -> None:
    for record in (FULL, MINIMAL):
        assert doc.ServiceRecord.from_json(record.to_json()) == record
    back = doc.ServiceRecord.from_json(FULL_JSON)
    assert back.images == (
        ContainerImage("web", "shop/web:1", DIGEST),
        ContainerImage("envoy", "envoy:v1", None),
    )
    assert back.capacity_provider_strategy == tuple(FULL_JSON["capacityProviderStrategy"])
    assert back.launch_type is None


def test_a_version_1_record_reads_with_the_defaults() -> None:
    record = doc.ServiceRecord.from_json(
        {
            "name": "web",
            "arn": WEB_ARN,
            "taskDefinition": TD,
            "desiredCount": 2,
            "schedulingStrategy": "REPLICA",
            "launchType": "FARGATE",
        }
    )
    assert record == doc.ServiceRecord(
        name="web",
        arn=WEB_ARN,
        task_definition=TD,
        desired_count=2,
        scheduling_strategy="REPLICA",
        launch_type="FARGATE",
        capacity_provider_strategy=(),
        controller="ECS",
        images=None,
        settings=None,
        revision=None,
        rollout_state=None,
        recorded_from=None,
    )


# --- whole documents ------------------------------------------------------------------------


def test_a_snapshot_is_written_exactly_and_sealed() -> None:
    written = snapshot().to_json()
    content = {
        "schemaVersion": 3,
        "id": "before-v2",
        "createdAt": "2026-11-27T16:26:00.123Z",
        "tool": "ecsundo 1.2.3",
        "cluster": {"name": "prod", "arn": PROD.arn},
        "region": REGION,
        "accountId": ACCOUNT,
        "services": [FULL_JSON, MINIMAL_JSON],
        "taskDefinitions": {
            TD: {"status": "ACTIVE", "body": WEB_BODY, "tags": [{"key": "team", "value": "shop"}]},
            TD_API: {"status": "INACTIVE", "body": API_BODY, "tags": []},
        },
        "selection": ["web*", "api"],
        "github": {"repository": "org/shop", "sha": "f00d", "runId": "17", "actor": "ci"},
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    assert written == {**content, "checksum": "sha256:" + hashlib.sha256(canonical).hexdigest()}
    assert list(written) == [*content, "checksum"]


def test_without_selection_or_github_those_keys_are_absent() -> None:
    for empty in (None, ()):
        written = snapshot(selection=empty, github=None).to_json()
        assert "selection" not in written and "github" not in written
    assert "github" not in snapshot(github={}).to_json()


def test_a_snapshot_read_from_an_older_version_is_written_as_version_3() -> None:
    old = doc.loads(doc.dumps(v1_document()), "'old'")
    assert old.version == 1 and old.schema_version == 1
    assert old.to_json()["schemaVersion"] == 3
    assert snapshot().version is None and snapshot().schema_version == 3


def test_a_version_2_snapshot_still_loads_without_scheduled_tasks() -> None:
    content = {**snapshot().content(), "schemaVersion": 2}
    v2 = doc.loads(doc.dumps({**content, "checksum": doc.checksum(content)}), "'v2'")
    assert v2.version == 2 and v2.scheduled_tasks is None  # not read: a restore leaves them
    assert v2.services == snapshot().services


def test_scheduled_tasks_round_trip_and_their_task_definitions_are_kept() -> None:
    rule = ScheduledTask(
        Kind.RULE,
        "nightly",
        f"arn:aws:events:{REGION}:{ACCOUNT}:rule/nightly",
        "default",
        "nightly",
        "ecs-task",
        {"Id": "ecs-task", "Arn": PROD.arn, "EcsParameters": {"TaskDefinitionArn": TD}},
    )
    schedule = ScheduledTask(
        Kind.SCHEDULE,
        "reports/weekly",
        f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/reports/weekly",
        "reports",
        "weekly",
        None,
        {
            "Name": "weekly",
            "GroupName": "reports",
            "ScheduleExpression": "rate(7 days)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {"Arn": PROD.arn, "EcsParameters": {"TaskDefinitionArn": TD_API}},
        },
    )
    taken = snapshot(scheduled_tasks=(rule, schedule))
    back = doc.loads(doc.dumps(taken.to_json()), "'with-tasks'")
    assert back.scheduled_tasks == (rule, schedule)
    assert [t.definition for t in back.scheduled_tasks] == [rule.definition, schedule.definition]
    assert [t.task_definition for t in back.scheduled_tasks] == [TD, TD_API]
    # A scheduled task's task definition must be kept, as a service's must.
    document = taken.content()
    del document["taskDefinitions"][TD_API]
    document["services"] = [s for s in document["services"] if s["taskDefinition"] != TD_API]
    assert refusal(resealed(document)) == (
        "snapshot 'pre' does not match the schema at scheduledTasks/1/taskDefinition: "
        "not among the taskDefinitions kept"
    )


def test_a_snapshot_round_trips_through_dumps_and_loads() -> None:
    taken = snapshot()
    back = doc.loads(doc.dumps(taken.to_json()), "'before-v2'")
    assert back == taken
    assert back.version == 3
    assert back.cluster == PROD
    assert back.selection == ("web*", "api")
    assert back.github == {"repository": "org/shop", "sha": "f00d", "runId": "17", "actor": "ci"}
    assert back.kept(TD) == doc.KeptTaskDefinition(
        "ACTIVE", WEB_BODY, [{"key": "team", "value": "shop"}]
    )
    bare = doc.loads(doc.dumps(snapshot(selection=None, github=None).to_json()), "'b'")
    assert bare.selection is None and bare.github is None


def test_a_version_1_document_loads_with_its_fields() -> None:
    old = doc.loads(doc.dumps(v1_document()), "'old'")
    assert old.id == "20260102T030405006Z-abcdef"
    assert old.created_at == "2026-01-02T03:04:05.006Z"
    assert old.tool == "ecsundo 0.9"
    assert (old.cluster.name, old.cluster.arn) == ("prod", PROD.arn)
    assert (old.cluster.account_id, old.cluster.region) == (ACCOUNT, REGION)
    assert old.services == (
        doc.ServiceRecord("web", WEB_ARN, TD, 2, "REPLICA", controller="ECS", images=None),
    )
    assert old.task_definitions == {TD: doc.KeptTaskDefinition("ACTIVE", WEB_BODY, [])}
    assert old.selection is None and old.github is None


def test_kept_task_definitions_default_to_no_tags() -> None:
    kept = doc.KeptTaskDefinition("ACTIVE", WEB_BODY)
    assert kept.to_json() == {"status": "ACTIVE", "body": WEB_BODY, "tags": []}
    assert kept.tags is not doc.KeptTaskDefinition("ACTIVE", API_BODY).tags


def test_taken_at_is_the_utc_moment_of_created_at() -> None:
    assert snapshot().taken_at == datetime(2026, 11, 27, 16, 26, 0, 123000, tzinfo=UTC)


def test_timestamps_are_utc_whatever_the_local_time_zone(tokyo: None) -> None:
    moment = datetime(2026, 11, 27, 18, 26, 5, 123000, timezone(timedelta(hours=2)))
    assert doc.timestamp(moment) == "2026-11-27T16:26:05.123Z"


def test_timestamps_are_utc_with_milliseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert doc.timestamp(datetime(2026, 11, 27, 18, 26, 5, 123999, plus_two)) == (
        "2026-11-27T16:26:05.123Z"
    )
    assert doc.timestamp(datetime(2026, 1, 2, 3, 4, 5, 6000, UTC)) == "2026-01-02T03:04:05.006Z"


# --- checksum and layout --------------------------------------------------------------------


def test_canonical_bytes_sort_keys_drop_the_checksum_and_keep_utf8() -> None:
    document = {"z": [1, {"b": 2, "a": "é"}], "checksum": "sha256:x", "a": None}
    assert doc.canonical(document) == '{"a":null,"z":[1,{"a":"é","b":2}]}'.encode()
    assert document["checksum"] == "sha256:x"  # the document itself is left alone


def test_the_checksum_is_sha256_of_the_canonical_bytes() -> None:
    document = {"b": 1, "a": "é", "checksum": "anything"}
    expected = hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()
    assert doc.checksum(document) == f"sha256:{expected}"
    assert doc.checksum({"a": "é", "b": 1}) == doc.checksum(document)


def test_dumps_is_indented_utf8_with_a_final_newline() -> None:
    assert doc.dumps({"tool": "café", "n": [1]}) == (
        '{\n  "tool": "café",\n  "n": [\n    1\n  ]\n}\n'.encode()
    )


def test_seal_adds_the_checksum_and_leaves_the_input_alone() -> None:
    document = v1_document()
    del document["checksum"]
    sealed = doc.seal(document)
    assert "checksum" not in document
    assert sealed == {**document, "checksum": doc.checksum(document)}


def test_seal_refuses_an_invalid_document_with_its_first_problem() -> None:
    document = v1_document()
    document["services"][0]["desiredCount"] = -1
    with pytest.raises(ValueError) as excinfo:
        doc.seal(document)
    assert str(excinfo.value) == (
        "refusing to write an invalid snapshot: services/0/desiredCount: "
        "-1 is less than the minimum of 0"
    )


def test_seal_checks_a_document_without_a_version_against_the_current_schema() -> None:
    document = v1_document()
    del document["schemaVersion"], document["checksum"]
    with pytest.raises(ValueError) as excinfo:
        doc.seal(document)
    # Version 2 requires the controller (version 1 would name the missing schemaVersion).
    assert str(excinfo.value) == (
        "refusing to write an invalid snapshot: services/0: "
        "'deploymentController' is a required property"
    )
    document["schemaVersion"] = 1
    assert doc.seal(document)["schemaVersion"] == 1


# --- refusals on read -----------------------------------------------------------------------


def test_invalid_json_is_refused_naming_the_source() -> None:
    data = doc.dumps(snapshot().to_json())
    expected = "snapshot 'pre' is not valid JSON (truncated or corrupted)"
    assert refusal(data[:100]) == expected
    assert refusal(b"\x80" + data) == expected  # not UTF-8 at all


@pytest.mark.parametrize("data", [b"[]", b'"text"', b"null", b"12"])
def test_json_that_is_not_an_object_is_refused(data: bytes) -> None:
    assert refusal(data, "s3://b/k.json") == "snapshot s3://b/k.json is not a snapshot document"


@pytest.mark.parametrize(
    ("version", "shown"),
    # 1.0 and true equal 1 in Python; a version is a whole JSON number, nothing else.
    [(None, "None"), (4, "4"), ("2", "'2'"), (0, "0"), (1.0, "1.0"), (True, "True")],
)
def test_an_unknown_schema_version_is_refused(version: Any, shown: str) -> None:
    document = snapshot().to_json()
    if version is None:
        del document["schemaVersion"]
    else:
        document["schemaVersion"] = version
    doc._build_validator.cache_clear()  # a fresh process: no validator for 1 already made
    assert refusal(resealed(document)) == (
        f"snapshot 'pre' has schema version {shown}; this ecsundo reads versions 1, 2 and 3"
    )


def test_a_modified_or_unsealed_document_fails_its_checksum() -> None:
    document = snapshot().to_json()
    expected = "snapshot 'pre' fails its checksum (modified or corrupted)"
    changed = dict(document, tool="ecsundo 6.6.6")
    assert refusal(doc.dumps(changed)) == expected
    del changed["checksum"]
    assert refusal(doc.dumps(changed)) == expected
    # Layout does not matter: the same content, compact, still passes.
    assert doc.loads(json.dumps(document).encode(), "'pre'") == snapshot()


def test_a_sealed_document_of_the_wrong_shape_names_the_place() -> None:
    document = snapshot().to_json()
    document["services"][1]["desiredCount"] = -1
    assert refusal(resealed(document)) == (
        "snapshot 'pre' does not match the schema at services/1/desiredCount: "
        "-1 is less than the minimum of 0"
    )


def test_of_several_problems_the_first_by_text_is_named() -> None:
    document = snapshot().to_json()
    del document["tool"], document["region"], document["accountId"]
    assert refusal(resealed(document)) == (
        "snapshot 'pre' does not match the schema at (top level): "
        "'accountId' is a required property"
    )


def test_a_long_schema_message_is_cut_to_200_characters() -> None:
    document = snapshot().to_json()
    document["services"][0]["schedulingStrategy"] = "X" * 300
    message = refusal(resealed(document))
    prefix = "snapshot 'pre' does not match the schema at services/0/schedulingStrategy: "
    assert message.startswith(prefix + "'XXX")
    assert len(message) == len(prefix) + 200


def test_a_version_2_document_is_checked_against_version_2() -> None:
    document = v1_document()
    document["schemaVersion"] = 2
    assert refusal(resealed(document)) == (
        "snapshot 'pre' does not match the schema at services/0: "
        "'deploymentController' is a required property"
    )


def test_a_service_whose_task_definition_is_not_kept_is_refused() -> None:
    document = snapshot().to_json()
    del document["taskDefinitions"][TD_API]
    assert refusal(resealed(document)) == (
        "snapshot 'pre' does not match the schema at services/1/taskDefinition: "
        "not among the taskDefinitions kept"
    )


def test_an_external_service_needs_no_kept_task_definition() -> None:
    external = doc.ServiceRecord("ext", API_ARN, None, 1, controller="EXTERNAL")
    taken = snapshot(services=(external, FULL), task_definitions={TD: snapshot().kept(TD)})
    assert doc.loads(doc.dumps(taken.to_json()), "'pre'").services == (external, FULL)


# --- ownership ------------------------------------------------------------------------------


def test_a_snapshot_of_this_cluster_region_and_account_is_accepted() -> None:
    assert doc.check_owner(snapshot(), PROD, "'pre'") is None


@pytest.mark.parametrize(
    ("cluster", "reason"),
    [
        (
            Cluster("staging", PROD.arn, ACCOUNT, REGION),
            "belongs to cluster 'prod', not 'staging'",
        ),
        (Cluster("prod", PROD.arn, ACCOUNT, "eu-west-1"), "belongs to region 'us-east-1', not "),
        (
            Cluster("prod", PROD.arn, "210987654321", REGION),
            "belongs to account '123456789012', not '210987654321'",
        ),
        # Several differ: the cluster is named first, then the region.
        (Cluster("dev", PROD.arn, "210987654321", "eu-west-1"), "belongs to cluster 'prod', "),
        (Cluster("prod", PROD.arn, "210987654321", "eu-west-1"), "belongs to region 'us-east-1'"),
    ],
)
def test_a_snapshot_of_another_owner_is_refused(cluster: Cluster, reason: str) -> None:
    with pytest.raises(SnapshotRefused) as excinfo:
        doc.check_owner(snapshot(), cluster, "'pre'")
    assert str(excinfo.value).startswith(f"snapshot 'pre' {reason}")


def test_the_region_refusal_in_full() -> None:
    with pytest.raises(SnapshotRefused) as excinfo:
        doc.check_owner(snapshot(), Cluster("prod", PROD.arn, ACCOUNT, "eu-west-1"), "x")
    assert str(excinfo.value) == "snapshot x belongs to region 'us-east-1', not 'eu-west-1'"


def test_building_the_checker_early_never_raises_on_its_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """prepare()'s thread keeps quiet (no thread traceback on stderr); the checker's failure
    is raised where it is needed, once, as the run's one-line error."""

    def broken(version: int) -> Any:
        raise ImportError("No module named 'jsonschema'")

    monkeypatch.setattr(doc, "_build_validator", broken)
    doc._prepared()  # no exception
    with pytest.raises(ImportError):
        doc._validator()
