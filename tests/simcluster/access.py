"""Who is asking, and may they: bearer tokens, impersonation, RBAC on every request, and the API of access itself.

- Tokens: the cluster's admin token (user ``simcluster-admin`` in ``system:masters``) and the ServiceAccount tokens
  made by ``POST .../serviceaccounts/<name>/token`` (TokenRequest): user ``system:serviceaccount:<ns>:<name>``,
  groups ``system:serviceaccounts``, ``system:serviceaccounts:<ns>``, ``system:authenticated``.
- ``Impersonate-User`` / ``Impersonate-Group`` headers, allowed with the ``impersonate`` verb on users, groups
  (or serviceaccounts for ``system:serviceaccount:`` users), as kube-apiserver's impersonation filter checks.
- ``Access.check`` authorizes one request with ``rbac.Authorizer`` (a server-side apply that creates its object needs
  ``create`` too), and refuses a Role or binding that would grant what its writer does not hold (without
  ``escalate`` / ``bind``).
- SubjectAccessReview, SelfSubjectAccessReview (create) and TokenRequest are answered here (``Access.handle``).

Requests the simulated cluster's own controllers and Istio injection make go to the ``Store`` directly: they are
never authorized, as the real controllers run with their own full rights.
"""
from __future__ import annotations

import dataclasses
import datetime
import hmac
import json
import secrets
import threading
import types

import yaml

from . import errors, rbac
from .api_http import Response

ADMIN_USER = "simcluster-admin"
ADMIN = rbac.User(ADMIN_USER, (rbac.MASTERS, rbac.AUTHENTICATED))
_REVIEWS = {"subjectaccessreviews": "SubjectAccessReview", "selfsubjectaccessreviews": "SelfSubjectAccessReview"}
_REVIEW_TYPES = {plural: types.SimpleNamespace(kind=kind, group="authorization.k8s.io") for plural, kind in _REVIEWS.items()}
_ROLE_KINDS = {"roles": "Role", "clusterroles": "ClusterRole"}
_BINDING_KINDS = ("rolebindings", "clusterrolebindings")


def service_account_user(namespace: str, name: str) -> rbac.User:
    """The identity of a ServiceAccount's token."""
    return rbac.User(f"system:serviceaccount:{namespace}:{name}",
                     ("system:serviceaccounts", f"system:serviceaccounts:{namespace}", rbac.AUTHENTICATED))


def _now(offset: float = 0) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Access:
    """Authentication and authorization of the HTTP requests (not of the store's internal callers)."""

    def __init__(self, store, admin_token: str) -> None:
        self.store = store
        self.authorizer = rbac.Authorizer(store)
        self._lock = threading.Lock()
        self._tokens = {admin_token: ADMIN}

    def reset(self) -> None:
        """Forget every token but the admin's."""
        with self._lock:
            self._tokens = {token: user for token, user in self._tokens.items() if user == ADMIN}

    def issue_token(self, namespace: str, name: str) -> str:
        """A new bearer token for a ServiceAccount (what TokenRequest returns)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = service_account_user(namespace, name)
        return token

    # ----------------------------------------------------------------------------------------- authentication

    def authenticate(self, headers: dict) -> rbac.User | None:
        """The user of the request's bearer token, or None (401)."""
        scheme, _space, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        token = token.strip().encode()
        with self._lock:
            known = list(self._tokens.items())
        for candidate, user in known:
            if hmac.compare_digest(token, candidate.encode()):
                return user
        return None

    def impersonate(self, user: rbac.User, headers: dict) -> rbac.User:
        """The user the request acts as: ``user``, or the impersonated one when allowed (403 otherwise)."""
        name = headers.get("impersonate-user", "")
        groups = [g.strip() for g in headers.get("impersonate-group", "").split(",") if g.strip()]
        if not name:
            if groups:
                raise errors.internal_error("requested [Group] without impersonating a user")
            return user
        targets = []
        if name.startswith("system:serviceaccount:") and name.count(":") == 3:
            _prefix, _sa, namespace, sa_name = name.split(":")
            targets.append(rbac.Attributes(user, "impersonate", "", "serviceaccounts", namespace=namespace, name=sa_name))
            implied = list(service_account_user(namespace, sa_name).groups)
        else:
            targets.append(rbac.Attributes(user, "impersonate", "", "users", name=name))
            implied = [rbac.AUTHENTICATED]
        targets += [rbac.Attributes(user, "impersonate", "", "groups", name=group) for group in groups]
        for attrs in targets:
            allowed, reason = self.authorizer.authorize(attrs)
            if not allowed:
                raise rbac.forbidden(attrs, reason)
        return rbac.User(name, tuple(dict.fromkeys(groups + implied)))

    # ----------------------------------------------------------------------------------------- authorization

    @staticmethod
    def attributes(user: rbac.User, info, path: str) -> rbac.Attributes:
        """The authorization attributes of a described request (the namespace of ``namespaces/<name>`` is its name)."""
        if info.kind != "resource":
            return rbac.Attributes(user, "get" if info.verb in ("", "list") else info.verb, path=path, resource_request=False)
        namespace = info.namespace
        if info.plural == "namespaces" and info.group == "" and info.name and not namespace:
            namespace = info.name
        return rbac.Attributes(user, info.verb, info.group, info.plural, info.subresource, namespace, info.name)

    def check(self, user: rbac.User, info, request) -> None:
        """Raise the real server's 403 when ``user`` may not make this request (escalation included)."""
        attrs = self.attributes(user, info, request.path)
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            raise rbac.forbidden(attrs, reason)
        if self._apply_creates(info, request):
            # a server-side apply that creates the object needs create as well (kube-apiserver's patch handler)
            creating = dataclasses.replace(attrs, verb="create")
            allowed, reason = self.authorizer.authorize(creating)
            if not allowed:
                raise rbac.forbidden(creating, reason)
        if info.kind == "resource" and info.group == rbac.RBAC_GROUP and not info.subresource and info.verb in ("create", "update", "patch"):
            self._check_escalation(attrs, request)

    def _apply_creates(self, info, request) -> bool:
        if info.verb != "patch" or info.subresource or info.resource_type is None:
            return False
        if not request.header("content-type", "").lower().startswith("application/apply-patch"):
            return False
        namespace = info.namespace if info.resource_type.namespaced else None
        return self.store.get(info.resource_type.key, namespace, info.name) is None

    def _check_escalation(self, attrs: rbac.Attributes, request) -> None:
        if rbac.MASTERS in attrs.user.groups:
            return
        obj = _body(request)
        if obj is None:
            return  # a JSON or merge patch: not checked here (see README)
        namespace = attrs.namespace
        if attrs.resource in _ROLE_KINDS:
            if self.authorizer.authorize(dataclasses.replace(attrs, verb="escalate"))[0]:
                return
            rules = obj.get("rules") or []
        elif attrs.resource in _BINDING_KINDS:
            ref = obj.get("roleRef") or {}
            plural = "clusterroles" if ref.get("kind") == "ClusterRole" else "roles"
            bind = rbac.Attributes(attrs.user, "bind", rbac.RBAC_GROUP, plural, namespace=namespace, name=ref.get("name", ""))
            if self.authorizer.authorize(bind)[0]:
                return
            role = self.authorizer._role(ref.get("kind", ""), namespace, ref.get("name", ""))  # pylint: disable=protected-access
            if role is None:
                raise errors.ApiError(404, "NotFound", f'{plural}.{rbac.RBAC_GROUP} "{ref.get("name")}" not found')
            rules = role.get("rules") or []
        else:
            return
        missing = rbac.uncovered(self.authorizer.rules_of(attrs.user, namespace), rules)
        if missing:
            name = attrs.name or (obj.get("metadata") or {}).get("name", "")
            raise rbac.escalation_forbidden(dataclasses.replace(attrs, name=name), missing)

    # ----------------------------------------------------------------------------------------- the access API

    def handle(self, user: rbac.User, info, request) -> Response | None:
        """Answer TokenRequest, SubjectAccessReview and SelfSubjectAccessReview; None for any other request."""
        if info.kind != "resource" or request.method != "POST":
            return None
        if info.group == "" and info.plural == "serviceaccounts" and info.subresource == "token":
            return self._token_request(info, request)
        if info.group == "authorization.k8s.io" and info.plural in _REVIEWS and not info.name:
            return self._review(user, info.plural, request)
        return None

    def _token_request(self, info, request) -> Response:
        if self.store.get("serviceaccounts", info.namespace, info.name) is None:
            raise errors.ApiError(404, "NotFound", f'serviceaccounts "{info.name}" not found',
                                  {"name": info.name, "kind": "serviceaccounts"})
        body = _json(request)
        seconds = int((body.get("spec") or {}).get("expirationSeconds") or 3600)
        token = "" if request.query.get("dryRun") == "All" else self.issue_token(info.namespace, info.name)
        return Response.json(201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                                   "metadata": {"name": info.name, "namespace": info.namespace, "creationTimestamp": None},
                                   "spec": {"audiences": (body.get("spec") or {}).get("audiences") or ["https://kubernetes.default.svc"],
                                            "expirationSeconds": seconds, "boundObjectRef": None},
                                   "status": {"token": token, "expirationTimestamp": _now(seconds)}})

    def _review(self, user: rbac.User, plural: str, request) -> Response:
        body = _json(request)
        spec = dict(body.get("spec") or {})
        if plural == "subjectaccessreviews":
            if not spec.get("user") and not spec.get("groups"):
                raise errors.invalid(_REVIEW_TYPES[plural], "", [errors.invalid_cause(
                    "spec.user", "", "at least one of user or group must be specified")])
            subject = rbac.User(spec.get("user", ""), tuple(spec.get("groups") or ()))
        else:
            subject = user
        resource, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if resource:
            attrs = rbac.Attributes(subject, resource.get("verb", ""), resource.get("group", ""), resource.get("resource", ""),
                                    resource.get("subresource", ""), resource.get("namespace", ""), resource.get("name", ""))
        elif non_resource:
            attrs = rbac.Attributes(subject, non_resource.get("verb", ""), path=non_resource.get("path", ""), resource_request=False)
        else:
            raise errors.invalid(_REVIEW_TYPES[plural], "", [errors.invalid_cause(
                "spec.resourceAttributes", "", "exactly one of nonResourceAttributes or resourceAttributes must be specified",
                "FieldValueRequired")])
        allowed, reason = self.authorizer.authorize(attrs)
        status = {"allowed": allowed}
        if reason:
            status["reason"] = reason
        return Response.json(201, {"kind": _REVIEWS[plural], "apiVersion": "authorization.k8s.io/v1",
                                   "metadata": {"creationTimestamp": None}, "spec": spec, "status": status})


def _json(request) -> dict:
    try:
        document = json.loads(request.body or b"{}")
    except ValueError as exc:
        raise errors.bad_request(f"the body of the request could not be decoded: {exc}") from exc
    return document if isinstance(document, dict) else {}


def _body(request) -> dict | None:
    """The whole object a create, update or apply sends; None for a JSON or merge patch."""
    media = request.header("content-type", "application/json").split(";", 1)[0].strip().lower()
    if request.method == "PATCH" and not media.startswith("application/apply-patch"):
        return None
    if media.startswith("application/apply-patch+yaml"):
        try:
            return yaml.safe_load(request.body) or {}
        except yaml.YAMLError:
            return None
    try:
        document = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
