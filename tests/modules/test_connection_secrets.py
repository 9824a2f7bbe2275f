"""Secrets in the connection options never reach the output: every kind of credential, given as an option, in a
kubeconfig dict or through K8S_AUTH_*, run with ``-vvv`` (which prints each module's invocation) and grepped for."""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.ansible_runner import BIN, ansible_env


def _client_certificate() -> tuple[bytes, bytes]:
    """A throwaway client certificate and key (PEM), as a kubeconfig carries them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meshops-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now)
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM), key_pem


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_no_secret_in_verbose_output(sim, tmp_path, closed_port):
    certificate, key = _client_certificate()
    (tmp_path / "client.pem").write_bytes(certificate)
    (tmp_path / "client-key.pem").write_bytes(key)
    (tmp_path / "ca.pem").write_bytes(sim.ca_pem)
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "sim",
        "clusters": [{"name": "sim", "cluster": {"server": sim.url, "certificate-authority-data": b64(sim.ca_pem)}}],
        "users": [{"name": "admin", "user": {"token": sim.token, "client-certificate-data": b64(certificate),
                                             "client-key-data": b64(key)}}],
        "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "admin"}}],
    }
    password, proxy_secret, env_password = "pw-7f3a91c2e5", "proxy-4b8d0e6a1c", "envpw-9c2d7e4f0a"
    secrets = {"token": sim.token, "ca data": b64(sim.ca_pem), "cert data": b64(certificate), "key data": b64(key),
               "password": password, "proxy credentials": proxy_secret, "env password": env_password}
    tasks = [
        {"name": "kubeconfig dict", "meshops.istio.mesh_info": {"kubeconfig": kubeconfig}, "register": "as_dict"},
        {"name": "host and token", "meshops.istio.mesh_info": {"host": sim.url, "api_key": sim.token,
                                                               "ca_cert": str(tmp_path / "ca.pem")}, "register": "as_token"},
        {"name": "host with a client certificate and key", "meshops.istio.mesh_info": {
            "host": sim.url, "client_cert": str(tmp_path / "client.pem"), "client_key": str(tmp_path / "client-key.pem"),
            "ca_cert": str(tmp_path / "ca.pem"), "validate_certs": True}, "register": "as_cert", "ignore_errors": True},
        {"name": "basic auth", "meshops.istio.mesh_info": {"host": sim.url, "username": "admin", "password": password,
                                                           "validate_certs": False}, "ignore_errors": True},
        {"name": "proxy credentials", "meshops.istio.mesh_info": {
            "kubeconfig": kubeconfig, "proxy": "http://127.0.0.1:%d" % closed_port,
            "proxy_headers": {"proxy_basic_auth": "user:" + proxy_secret}}, "ignore_errors": True},
        {"name": "Check what had to work", "ansible.builtin.assert": {"that": [
            "as_dict is succeeded", "as_token is succeeded",
            # the simulated cluster authenticates by token only: a certificate alone reaches it, then gets 401
            "as_cert is failed and 'Unauthorized' in as_cert.msg or as_cert.error.status | default(0) == 401"]}},
    ]
    # K8S_AUTH_* exported where ansible-playbook runs, as a user does (Ansible itself prints a task's `environment:`
    # keyword at -vvv, for any module: docs/playbooks.md says so)
    from_env = {"K8S_AUTH_HOST": sim.url, "K8S_AUTH_API_KEY": sim.token, "K8S_AUTH_CA_CERT": str(tmp_path / "ca.pem"),
                "KUBECONFIG": "/nonexistent"}
    basic_from_env = {"K8S_AUTH_HOST": sim.url, "K8S_AUTH_USERNAME": "admin", "K8S_AUTH_PASSWORD": env_password,
                      "K8S_AUTH_VERIFY_SSL": "no"}
    runs = [(tasks, {}), ([{"name": "token from the environment", "meshops.istio.mesh_info": {}}], from_env),
            ([{"name": "basic auth from the environment", "meshops.istio.mesh_info": {}, "register": "basic",
               "ignore_errors": True},
              {"ansible.builtin.assert": {"that": "basic is failed and 'Unauthorized' in basic.msg"}}], basic_from_env)]
    output = ""
    for number, (run_tasks, environ) in enumerate(runs):
        playbook = tmp_path / ("secrets-%d.yml" % number)
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": run_tasks}]))
        completed = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook),
                                    "-vvv"], capture_output=True, text=True, env=dict(ansible_env(tmp_path / "home"), **environ),
                                   timeout=300, check=False)
        output += completed.stdout + completed.stderr
        assert completed.returncode == 0, (completed.stdout + completed.stderr)[-4000:]
    assert "cannot load" not in output  # host with a certificate and key needs no kubeconfig
    leaked = {what: output.count(value) for what, value in secrets.items() if value in output}
    assert leaked == {}
    # the invocations are printed, each secret replaced (a kubeconfig dict's four, the token, passwords, the proxy's)
    assert output.count("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") >= 10
