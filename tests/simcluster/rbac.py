"""RBAC as the real API server evaluates it: who may do what, read from the stored Roles, ClusterRoles and bindings.

Pure rules over a ``Store`` (no HTTP): ``Attributes`` is what one request asks (kube-apiserver's
``authorizer.Attributes``), ``Authorizer.authorize`` answers it as the RBAC authorizer does, ``forbidden`` builds the
403 ``Status`` kube-apiserver sends (``k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go``), and
``covers`` is the escalation rule (``k8s.io/kubernetes/pkg/registry/rbac/validation``): a Role may be written, or
bound, only by someone who holds every permission it grants, or has ``escalate`` (``bind``) on it.

The bootstrap policy that matters here is built in, not stored: ``system:masters`` may do anything;
``system:authenticated`` may read discovery (``system:discovery``, ``system:public-info-viewer``) and create
SelfSubjectAccessReviews and SelfSubjectRulesReviews (``system:basic-user``).
"""
from __future__ import annotations

import dataclasses

from . import errors

MASTERS = "system:masters"
AUTHENTICATED = "system:authenticated"
RBAC_GROUP = "rbac.authorization.k8s.io"

# The bootstrap ClusterRoles bound to system:authenticated (system:discovery, system:public-info-viewer, system:basic-user).
BOOTSTRAP_RULES = (
    {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/readyz", "/openapi", "/openapi/*",
                         "/version", "/version/"], "verbs": ["get"]},
    {"apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
     "verbs": ["create"]},
)


@dataclasses.dataclass(frozen=True)
class _GroupResource:
    """What ``errors.forbidden`` names: a plural and its API group."""

    plural: str
    group: str


@dataclasses.dataclass(frozen=True)
class User:
    """An authenticated identity: name and groups (``system:authenticated`` included)."""

    name: str
    groups: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Attributes:  # pylint: disable=too-many-instance-attributes
    """What one request asks: a resource request (group, resource, subresource, namespace, name) or a path."""

    user: User
    verb: str
    group: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""
    resource_request: bool = True

    @property
    def full_resource(self) -> str:
        """``pods`` or ``pods/status``: how rules name a subresource."""
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _matches(values, wanted: str) -> bool:
    return "*" in values or wanted in values


def _resource_matches(resources, attrs: Attributes) -> bool:
    if "*" in resources or attrs.full_resource in resources:
        return True
    # "*/status" grants the status subresource of any resource
    return bool(attrs.subresource) and f"*/{attrs.subresource}" in resources


def _url_matches(urls, path: str) -> bool:
    for url in urls:
        if url == "*" or url == path or (url.endswith("*") and path.startswith(url[:-1])):
            return True
    return False


def rule_allows(rule: dict, attrs: Attributes) -> bool:
    """Whether one PolicyRule allows ``attrs`` (rbac's RuleAllows)."""
    if not _matches(rule.get("verbs") or (), attrs.verb):
        return False
    if not attrs.resource_request:
        return _url_matches(rule.get("nonResourceURLs") or (), attrs.path)
    names = rule.get("resourceNames") or ()
    return (_matches(rule.get("apiGroups") or (), attrs.group) and _resource_matches(rule.get("resources") or (), attrs)
            and (not names or attrs.name in names))


def subject_matches(subject: dict, user: User, binding_namespace: str) -> bool:
    """Whether a binding's subject is this user (by name, group, or ServiceAccount)."""
    kind, name = subject.get("kind"), subject.get("name")
    if kind == "User":
        return name == user.name
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        namespace = subject.get("namespace") or binding_namespace
        return user.name == f"system:serviceaccount:{namespace}:{name}"
    return False


@dataclasses.dataclass(frozen=True)
class Grant:
    """The rules one binding gives a user, and how to name it in a reason."""

    binding: str
    rules: tuple
    missing: str = ""


class Authorizer:
    """RBAC over the store's Roles, ClusterRoles, RoleBindings and ClusterRoleBindings (read at each call)."""

    def __init__(self, store) -> None:
        self.store = store

    def _role(self, kind: str, namespace: str, name: str) -> dict | None:
        if kind == "ClusterRole":
            return self.store.get(f"{RBAC_GROUP}/clusterroles", None, name)
        return self.store.get(f"{RBAC_GROUP}/roles", namespace, name)

    def grants(self, user: User, namespace: str) -> list[Grant]:
        """The rules that apply to ``user`` in ``namespace`` (cluster-wide ones with ``""``), one Grant per binding."""
        found = []
        sources = [("ClusterRoleBinding", binding, "") for binding in self.store.list(f"{RBAC_GROUP}/clusterrolebindings", copy=False)[0]]
        if namespace:
            sources += [("RoleBinding", binding, namespace)
                        for binding in self.store.list(f"{RBAC_GROUP}/rolebindings", namespace, copy=False)[0]]
        for kind, binding, binding_namespace in sources:
            if not any(subject_matches(s, user, binding_namespace) for s in binding.get("subjects") or ()):
                continue
            ref = binding.get("roleRef") or {}
            role = self._role(ref.get("kind", ""), binding_namespace, ref.get("name", ""))
            where = f' in namespace "{binding_namespace}"' if binding_namespace else ""
            label = f'{kind} "{binding["metadata"]["name"]}"{where} of {ref.get("kind")} "{ref.get("name")}"'
            if role is None:
                plural = "clusterrole" if ref.get("kind") == "ClusterRole" else "role"
                found.append(Grant(label, (), f'{plural}.{RBAC_GROUP} "{ref.get("name")}" not found'))
            else:
                found.append(Grant(label, tuple(role.get("rules") or ())))
        return found

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """``(allowed, reason)`` as kube-apiserver's authorizers (system:masters, bootstrap policy, RBAC) answer."""
        user = attrs.user
        if MASTERS in user.groups:
            return True, ""
        if AUTHENTICATED in user.groups and any(rule_allows(rule, attrs) for rule in BOOTSTRAP_RULES):
            return True, "RBAC: allowed by the bootstrap policy of system:authenticated"
        missing = []
        for grant in self.grants(user, attrs.namespace):
            if any(rule_allows(rule, attrs) for rule in grant.rules):
                return True, f'RBAC: allowed by {grant.binding} to User "{user.name}"'
            if grant.missing:
                missing.append(grant.missing)
        if not missing:
            return False, ""
        return False, "RBAC: " + (missing[0] if len(missing) == 1 else "[" + ", ".join(missing) + "]")

    def rules_of(self, user: User, namespace: str) -> list[dict]:
        """Every rule ``user`` holds in ``namespace`` (bootstrap included); everything for system:masters."""
        if MASTERS in user.groups:
            return [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]
        rules = list(BOOTSTRAP_RULES) if AUTHENTICATED in user.groups else []
        for grant in self.grants(user, namespace):
            rules.extend(grant.rules)
        return rules


# ------------------------------------------------------------------------------------------------ escalation

def _atoms(rule: dict):
    """A rule broken down into single (group, resource, verb, name) or (url, verb) permissions (BreakdownRule)."""
    verbs = rule.get("verbs") or ()
    for url in rule.get("nonResourceURLs") or ():
        for verb in verbs:
            yield {"nonResourceURLs": [url], "verbs": [verb]}
    for group in rule.get("apiGroups") or ():
        for resource in rule.get("resources") or ():
            for verb in verbs:
                names = rule.get("resourceNames") or [None]
                for name in names:
                    atom = {"apiGroups": [group], "resources": [resource], "verbs": [verb]}
                    if name is not None:
                        atom["resourceNames"] = [name]
                    yield atom


def _has(values, wanted: str) -> bool:
    return "*" in values or wanted in values


def _owner_covers(owner: dict, atom: dict) -> bool:
    """Whether one rule of the owner covers one broken-down permission (ruleCovers): a wildcard needs a wildcard."""
    if not _has(owner.get("verbs") or (), atom["verbs"][0]):
        return False
    if "nonResourceURLs" in atom:
        return _url_matches(owner.get("nonResourceURLs") or (), atom["nonResourceURLs"][0])
    resource = atom["resources"][0]
    owner_resources = owner.get("resources") or ()
    sub = resource.split("/", 1)[1] if "/" in resource else ""
    resource_ok = _has(owner_resources, resource) or (sub and f"*/{sub}" in owner_resources)
    owner_names = owner.get("resourceNames") or ()
    names_ok = not owner_names or ("resourceNames" in atom and atom["resourceNames"][0] in owner_names)
    return _has(owner.get("apiGroups") or (), atom["apiGroups"][0]) and bool(resource_ok) and names_ok


def uncovered(owner_rules: list[dict], rules: list[dict]) -> list[dict]:
    """The broken-down permissions of ``rules`` that no rule of ``owner_rules`` covers (empty: no escalation)."""
    return [atom for rule in rules for atom in _atoms(rule) if not any(_owner_covers(o, atom) for o in owner_rules)]


# ------------------------------------------------------------------------------------------------ 403

def forbidden_message(attrs: Attributes) -> str:
    """kube-apiserver's forbiddenMessage: ``User "u" cannot <verb> resource "r" in API group "g" ...``."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    if attrs.namespace:
        return (f'User "{user}" cannot {attrs.verb} resource "{attrs.full_resource}" in API group "{attrs.group}" '
                f'in the namespace "{attrs.namespace}"')
    return f'User "{user}" cannot {attrs.verb} resource "{attrs.full_resource}" in API group "{attrs.group}" at the cluster scope'


def forbidden(attrs: Attributes, reason: str = "") -> errors.ApiError:
    """The 403 ``Status`` of a denied request (responsewriters.Forbidden then apierrors.NewForbidden)."""
    text = forbidden_message(attrs) + (f": {reason}" if reason else "")
    if not attrs.resource_request:
        return errors.ApiError(403, "Forbidden", f"forbidden: {text}")
    return errors.forbidden(_GroupResource(attrs.resource, attrs.group), attrs.name, text)


def _compact(atom: dict) -> str:
    """One broken-down rule as the escalation message prints it (rbac's CompactString)."""
    fields = [("APIGroups", "apiGroups"), ("Resources", "resources"), ("ResourceNames", "resourceNames"),
              ("NonResourceURLs", "nonResourceURLs"), ("Verbs", "verbs")]
    parts = [f"{label}:[" + " ".join(f'"{v}"' for v in atom[key]) + "]" for label, key in fields if atom.get(key)]
    return "{" + ", ".join(parts) + "}"


def escalation_forbidden(attrs: Attributes, missing: list[dict]) -> errors.ApiError:
    """403 for a Role or binding that grants what its writer does not hold (ConfirmNoEscalation's message)."""
    groups = "[" + " ".join(f'"{g}"' for g in attrs.user.groups) + "]"
    text = (f'user "{attrs.user.name}" (groups={groups}) is attempting to grant RBAC permissions not currently held:\n'
            + "\n".join(_compact(atom) for atom in missing))
    return errors.forbidden(_GroupResource(attrs.resource, attrs.group), attrs.name, text)
