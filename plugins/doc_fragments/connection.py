# -*- coding: utf-8 -*-
# Copyright: (c) 2026, meshops.istio contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every module (module_utils/k8s/args.py holds the matching argument spec)."""

from __future__ import annotations


class ModuleDocFragment:
    """Options to reach and authenticate with the Kubernetes API, named as in kubernetes.core."""

    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path to a kubeconfig file, or the kubeconfig itself as a dictionary.
      - The tokens, passwords, keys and certificate data of a kubeconfig given as a dictionary are hidden in
        everything the module prints, its invocation at C(-vvv) included.
      - When neither this, O(context) nor O(host) with credentials is given, the in-cluster service account is
        tried, then C(~/.kube/config).
      - Can also be set with the E(K8S_AUTH_KUBECONFIG) environment variable.
    type: raw
  context:
    description:
      - The name of a context in the kubeconfig.
      - Can also be set with the E(K8S_AUTH_CONTEXT) environment variable.
    type: str
  host:
    description:
      - The URL of the Kubernetes API server, for example V(https://10.0.0.1:6443).
      - Overrides the server of the kubeconfig. With O(api_key), with O(username) and O(password), or with
        O(client_cert) and O(client_key), no kubeconfig is read.
      - Can also be set with the E(K8S_AUTH_HOST) environment variable.
    type: str
  api_key:
    description:
      - A bearer token to authenticate with the API.
      - Can also be set with the E(K8S_AUTH_API_KEY) environment variable.
    type: str
  username:
    description:
      - A user name for HTTP basic authentication, for clusters that still accept it.
      - Can also be set with the E(K8S_AUTH_USERNAME) environment variable.
    type: str
  password:
    description:
      - The password for O(username).
      - Can also be set with the E(K8S_AUTH_PASSWORD) environment variable.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate.
      - Can also be set with the E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL) environment variable (the
        first one set wins). As in kubernetes.core, only V(0), V(false) and V(no) (in any case) turn verification
        off from the environment; any other value, V(off) included, leaves it on.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path to the CA certificate (the full chain) that signed the API server's certificate.
      - Can also be set with the E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT) environment variable.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path to a client certificate to authenticate with the API.
      - Can also be set with the E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE) environment variable.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path to the key of O(client_cert).
      - Can also be set with the E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE) environment variable.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - The URL of an HTTP proxy to reach the API through.
      - Proxy settings of the environment (E(HTTPS_PROXY)) are not used.
      - Can also be set with the E(K8S_AUTH_PROXY) environment variable.
    type: str
  no_proxy:
    description:
      - Comma-separated hosts, domains, IP addresses or CIDRs that are reached without O(proxy),
        for example V(localhost,.local,10.0.0.0/8).
      - Can also be set with the E(K8S_AUTH_NO_PROXY) environment variable.
    type: str
  proxy_headers:
    description:
      - Headers to send to O(proxy).
    type: dict
    suboptions:
      proxy_basic_auth:
        description:
          - C(user:password) for the proxy's basic authentication.
          - Can also be set with the E(K8S_AUTH_PROXY_HEADERS_PROXY_BASIC_AUTH) environment variable.
        type: str
      basic_auth:
        description:
          - C(user:password) for a basic authentication header.
          - Can also be set with the E(K8S_AUTH_PROXY_HEADERS_BASIC_AUTH) environment variable.
        type: str
      user_agent:
        description:
          - The user agent to announce to the proxy.
          - Can also be set with the E(K8S_AUTH_PROXY_HEADERS_USER_AGENT) environment variable.
        type: str
  persist_config:
    description:
      - Whether to save refreshed tokens (for example OIDC refresh tokens) back to the kubeconfig file.
      - Can also be set with the E(K8S_AUTH_PERSIST_CONFIG) environment variable (false only for V(0), V(false)
        or V(no), as O(validate_certs)).
    type: bool
  impersonate_user:
    description:
      - A user name to act as (the C(Impersonate-User) header); the authenticated identity needs the
        C(impersonate) permission.
      - Can also be set with the E(K8S_AUTH_IMPERSONATE_USER) environment variable.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (one C(Impersonate-Group) header each).
      - Can also be set with the E(K8S_AUTH_IMPERSONATE_GROUPS) environment variable, for example V(group1,group2).
    type: list
    elements: str
requirements:
  - python >= 3.9
  - kubernetes >= 24.2.0
  - PyYAML >= 6.0
notes:
  - Requests that fail with HTTP 429, 500, 502, 503 or 504, or cannot connect, are retried with exponential backoff.
    Creating an object is never retried once the request may have reached the API server.
  - To avoid certificate validation errors with O(validate_certs=true), give the full CA chain in O(ca_cert) or
    the kubeconfig.
"""
