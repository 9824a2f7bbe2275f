"""Decoding of Kubernetes protobuf request bodies into JSON-shaped dicts, for the kinds kubectl sends that way.

kubectl's typed clients (``kubectl create namespace|deployment|configmap|secret|service|serviceaccount|job|
cronjob``) send ``application/vnd.kubernetes.protobuf`` bodies: the magic ``k8s\\0`` and a ``runtime.Unknown``
envelope (type meta + the object's own protobuf message). The schemas below name the fields of those kinds
(field numbers as in k8s.io/api's ``generated.proto``); fields not listed are skipped. Go's generated code
writes non-pointer scalars even when empty, so empty strings, zero numbers and false booleans are dropped as
JSON's ``omitempty`` would, except pointer fields (marked ``?``), whose presence is meaningful. Answers are
always JSON (clients list JSON as acceptable too).
"""
from __future__ import annotations

import base64
from datetime import datetime, timezone

from . import errors

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"

_META = "msg:ObjectMeta"
SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {
    "Unknown": {1: ("typeMeta", "msg:TypeMeta"), 2: ("raw", "raw"), 3: ("contentEncoding", "string"), 4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"), 5: ("uid", "string"),
                   6: ("resourceVersion", "string"), 7: ("generation", "int"), 8: ("creationTimestamp", "time"),
                   10: ("deletionGracePeriodSeconds", "int?"), 11: ("labels", "map"), 12: ("annotations", "map"),
                   13: ("ownerReferences", "msgs:OwnerReference"), 14: ("finalizers", "strings")},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
                       6: ("controller", "bool?"), 7: ("blockOwnerDeletion", "bool?")},
    "LabelSelector": {1: ("matchLabels", "map"), 2: ("matchExpressions", "msgs:LabelSelectorRequirement")},
    "LabelSelectorRequirement": {1: ("key", "string"), 2: ("operator", "string"), 3: ("values", "strings")},
    # core/v1
    "Namespace": {1: ("metadata", _META), 2: ("spec", "msg:NamespaceSpec"), 3: ("status", "msg:NamespaceStatus")},
    "NamespaceSpec": {1: ("finalizers", "strings")},
    "NamespaceStatus": {1: ("phase", "string")},
    "ConfigMap": {1: ("metadata", _META), 2: ("data", "map"), 3: ("binaryData", "bytesmap"), 4: ("immutable", "bool?")},
    "Secret": {1: ("metadata", _META), 2: ("data", "bytesmap"), 3: ("type", "string"), 4: ("stringData", "map"),
               5: ("immutable", "bool?")},
    "ServiceAccount": {1: ("metadata", _META), 2: ("secrets", "msgs:ObjectReference"),
                       3: ("imagePullSecrets", "msgs:LocalObjectReference"), 4: ("automountServiceAccountToken", "bool?")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                        5: ("apiVersion", "string"), 6: ("resourceVersion", "string"), 7: ("fieldPath", "string")},
    "LocalObjectReference": {1: ("name", "string")},
    "Service": {1: ("metadata", _META), 2: ("spec", "msg:ServiceSpec"), 3: ("status", "msg:Empty")},
    "ServiceSpec": {1: ("ports", "msgs:ServicePort"), 2: ("selector", "map"), 3: ("clusterIP", "string"),
                    4: ("type", "string"), 5: ("externalIPs", "strings"), 7: ("sessionAffinity", "string"),
                    10: ("externalName", "string"), 18: ("clusterIPs", "strings"), 19: ("ipFamilies", "strings"),
                    17: ("ipFamilyPolicy", "string?")},
    "ServicePort": {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int"), 4: ("targetPort", "intorstring"),
                    5: ("nodePort", "int"), 6: ("appProtocol", "string?")},
    "Pod": {1: ("metadata", _META), 2: ("spec", "msg:PodSpec"), 3: ("status", "msg:Empty")},
    "PodTemplateSpec": {1: ("metadata", _META), 2: ("spec", "msg:PodSpec")},
    "PodSpec": {2: ("containers", "msgs:Container"), 20: ("initContainers", "msgs:Container"), 3: ("restartPolicy", "string"),
                4: ("terminationGracePeriodSeconds", "int?"), 5: ("activeDeadlineSeconds", "int?"), 6: ("dnsPolicy", "string"),
                7: ("nodeSelector", "map"), 8: ("serviceAccountName", "string"), 10: ("nodeName", "string"),
                11: ("hostNetwork", "bool"), 15: ("imagePullSecrets", "msgs:LocalObjectReference"),
                19: ("schedulerName", "string"), 21: ("automountServiceAccountToken", "bool?"), 24: ("priorityClassName", "string")},
    "Container": {1: ("name", "string"), 2: ("image", "string"), 3: ("command", "strings"), 4: ("args", "strings"),
                  5: ("workingDir", "string"), 6: ("ports", "msgs:ContainerPort"), 7: ("env", "msgs:EnvVar"),
                  8: ("resources", "msg:ResourceRequirements"), 13: ("terminationMessagePath", "string"),
                  14: ("imagePullPolicy", "string"), 16: ("stdin", "bool"), 17: ("stdinOnce", "bool"),
                  18: ("tty", "bool"), 20: ("terminationMessagePolicy", "string")},
    "ContainerPort": {1: ("name", "string"), 2: ("hostPort", "int"), 3: ("containerPort", "int"), 4: ("protocol", "string"),
                      5: ("hostIP", "string")},
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", "quantitymap"), 2: ("requests", "quantitymap")},
    "Empty": {},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int?"), 2: ("preconditions", "msg:Preconditions"), 3: ("orphanDependents", "bool?"),
                      4: ("propagationPolicy", "string?"), 5: ("dryRun", "strings")},
    "Preconditions": {1: ("uid", "string?"), 2: ("resourceVersion", "string?")},
    # apps/v1
    "Deployment": {1: ("metadata", _META), 2: ("spec", "msg:DeploymentSpec"), 3: ("status", "msg:Empty")},
    "DeploymentSpec": {1: ("replicas", "int?"), 2: ("selector", "msg:LabelSelector"), 3: ("template", "msg:PodTemplateSpec"),
                       4: ("strategy", "msg:DeploymentStrategy"), 5: ("minReadySeconds", "int"),
                       6: ("revisionHistoryLimit", "int?"), 7: ("paused", "bool"), 9: ("progressDeadlineSeconds", "int?")},
    "DeploymentStrategy": {1: ("type", "string"), 2: ("rollingUpdate", "msg:RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intorstring"), 2: ("maxSurge", "intorstring")},
    # batch/v1
    "Job": {1: ("metadata", _META), 2: ("spec", "msg:JobSpec"), 3: ("status", "msg:Empty")},
    "JobSpec": {1: ("parallelism", "int?"), 2: ("completions", "int?"), 3: ("activeDeadlineSeconds", "int?"),
                4: ("selector", "msg:LabelSelector"), 5: ("manualSelector", "bool?"), 6: ("template", "msg:PodTemplateSpec"),
                7: ("backoffLimit", "int?"), 8: ("ttlSecondsAfterFinished", "int?"), 9: ("completionMode", "string?"),
                10: ("suspend", "bool?")},
    "CronJob": {1: ("metadata", _META), 2: ("spec", "msg:CronJobSpec"), 3: ("status", "msg:Empty")},
    "CronJobSpec": {1: ("schedule", "string"), 8: ("timeZone", "string?"), 2: ("startingDeadlineSeconds", "int?"),
                    3: ("concurrencyPolicy", "string"), 4: ("suspend", "bool?"), 5: ("jobTemplate", "msg:JobTemplateSpec"),
                    6: ("successfulJobsHistoryLimit", "int?"), 7: ("failedJobsHistoryLimit", "int?")},
    "JobTemplateSpec": {1: ("metadata", _META), 2: ("spec", "msg:JobSpec")},
}
# Kinds whose protobuf bodies are understood (their top-level message names).
DECODABLE_KINDS = ("DeleteOptions", "Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "Pod", "Deployment", "Job", "CronJob")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes):
    """Yield ``(field_number, value)``: an int for varint and fixed fields, bytes for length-delimited ones."""
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
            if pos > len(data):
                raise ValueError("truncated length-delimited field")
        elif wire == 1:
            value, pos = int.from_bytes(data[pos:pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos:pos + 4], "little"), pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _entry(data: bytes) -> tuple[str, bytes]:
    key, value = "", b""
    for number, raw in _fields(data):
        if number == 1:
            key = raw.decode("utf-8")
        elif number == 2:
            value = raw
    return key, value


def _time(data: bytes) -> str | None:
    seconds = 0
    for number, raw in _fields(data):
        if number == 1:
            seconds = _signed(raw)
    if not seconds:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _int_or_string(data: bytes):
    kind, number_value, text = 0, 0, ""
    for number, raw in _fields(data):
        if number == 1:
            kind = raw
        elif number == 2:
            number_value = _signed(raw)
        elif number == 3:
            text = raw.decode("utf-8")
    return text if kind == 1 else number_value


def _quantity(data: bytes) -> str:
    return next((raw.decode("utf-8") for number, raw in _fields(data) if number == 1), "")


def _scalar(kind: str, raw):  # pylint: disable=too-many-return-statements
    base = kind.rstrip("?")
    if base == "string":
        return raw.decode("utf-8")
    if base == "int":
        return _signed(raw)
    if base == "bool":
        return bool(raw)
    if base == "time":
        return _time(raw)
    if base == "intorstring":
        return _int_or_string(raw)
    if base.startswith("msg:") or base.startswith("msgs:"):
        return decode_message(base.split(":", 1)[1], raw)
    if base == "raw":
        return raw
    raise ValueError(f"no decoder for field type {kind}")


def decode_message(name: str, data: bytes) -> dict:
    """Decode one protobuf message named in ``SCHEMAS`` into a JSON-shaped dict."""
    schema = SCHEMAS[name]
    result: dict = {}
    for number, raw in _fields(data):
        if number not in schema:
            continue
        field, kind = schema[number]
        if kind in ("map", "bytesmap", "quantitymap"):
            key, value = _entry(raw)
            if kind == "map":
                result.setdefault(field, {})[key] = value.decode("utf-8")
            elif kind == "bytesmap":
                result.setdefault(field, {})[key] = base64.b64encode(value).decode("ascii")
            else:
                result.setdefault(field, {})[key] = _quantity(value)
        elif kind in ("strings",):
            result.setdefault(field, []).append(raw.decode("utf-8"))
        elif kind.startswith("msgs:"):
            result.setdefault(field, []).append(_scalar(kind, raw))
        else:
            value = _scalar(kind, raw)
            if kind.endswith("?") or kind.startswith("msg:") or value not in ("", 0, False, None):
                result[field] = value
    return result


def decode_object(body: bytes) -> dict:
    """Decode a ``k8s\\0``-prefixed protobuf body into an object dict; 415 when the kind cannot be decoded here."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("the protobuf body does not start with the Kubernetes magic prefix 'k8s\\x00'")
    try:
        envelope = decode_message("Unknown", body[len(MAGIC):])
        type_meta = envelope.get("typeMeta") or {}
        kind = type_meta.get("kind", "")
        if kind not in DECODABLE_KINDS:
            raise errors.ApiError(415, "UnsupportedMediaType", f"the simulated cluster decodes protobuf bodies only for "
                                  f"{', '.join(DECODABLE_KINDS)} (got kind {kind!r}): send application/json instead")
        obj = {"apiVersion": type_meta.get("apiVersion", ""), "kind": kind}
        obj.update(decode_message(kind, envelope.get("raw") or b""))
    except (ValueError, UnicodeDecodeError, KeyError) as exc:
        raise errors.bad_request(f"the protobuf body could not be decoded: {exc}") from exc
    obj.setdefault("metadata", {})
    return obj
