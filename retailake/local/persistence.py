"""Snapshots of moto's in-memory backends, so the local twin survives a restart or a kill -9.

Why snapshots rather than moto's request recording: a replay re-runs every create call and
hands out new IDs (KMS key ids, VPC ids...), so Terraform state would point at nothing. A
pickle of the live backend objects keeps every ID, ARN and timestamp.

Layout under the state dir:
  snapshot.pickle   every backend that holds state, written atomically (tmp + os.replace)
  blobs/<sha256>    S3 object bodies, content-addressed: written once, never re-pickled,
                    read back when first used, not at restore
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.bindings._rust import x509 as rust_x509
from cryptography.hazmat.primitives import serialization
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import PolicyVersion
from moto.s3.models import FakeKey

log = logging.getLogger("retailake.emulator")

SNAPSHOT_NAME = "snapshot.pickle"
FORMAT_VERSION = 1
_LOCK_TYPE = type(threading.Lock())
_RLOCK_TYPE = type(threading.RLock())
_BLOB_ATTR = "_retailake_blob"

# Where FakeKey bodies go while pickling / come from while unpickling (one store per process).
_blob_dir: Path | None = None


def _backend_key(backend_dict: BackendDict) -> tuple[str, str]:
    """A stable name for a BackendDict: the module and class of the backend it holds."""
    return backend_dict.backend.__module__, backend_dict.backend.__qualname__


def find_backend_dict(module: str, qualname: str) -> BackendDict:
    """The live BackendDict (module global) whose backend class is module.qualname."""
    mod = importlib.import_module(module)
    for value in vars(mod).values():
        if isinstance(value, BackendDict) and _backend_key(value) == (module, qualname):
            return value
    raise LookupError(f"no BackendDict for {module}.{qualname}")


def _account_backend(module: str, qualname: str, account_id: str) -> AccountSpecificBackend:
    return find_backend_dict(module, qualname)[account_id]


def _reduce_backend_dict(obj: BackendDict) -> tuple[Any, ...]:
    # A model that references a module-level BackendDict gets the live one back, not a copy.
    return find_backend_dict, _backend_key(obj)


def _reduce_account_backend(obj: AccountSpecificBackend) -> tuple[Any, ...]:
    module, qualname = obj.backend.__module__, obj.backend.__qualname__
    return _account_backend, (module, qualname, obj.account_id)


def _reduce_lock(_obj: Any) -> tuple[Any, ...]:
    return threading.Lock, ()


def _reduce_rlock(_obj: Any) -> tuple[Any, ...]:
    return threading.RLock, ()


def _load_private_key(der: bytes) -> Any:
    return serialization.load_der_private_key(der, password=None)


def _load_public_key(der: bytes) -> Any:
    return serialization.load_der_public_key(der)


def _reduce_private_key(key: Any) -> tuple[Any, ...]:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return _load_private_key, (der,)


def _reduce_public_key(key: Any) -> tuple[Any, ...]:
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return _load_public_key, (der,)


def _reduce_certificate(cert: Any) -> tuple[Any, ...]:
    return x509.load_der_x509_certificate, (cert.public_bytes(serialization.Encoding.DER),)


def _crypto_reducers() -> dict[type, Any]:
    """cryptography's Rust key objects (KMS asymmetric keys, ACM certificates) as DER."""
    table: dict[type, Any] = {}
    for module_name in ("rsa", "ec", "ed25519", "ed448", "dsa", "x25519", "x448"):
        module = getattr(rust_openssl, module_name, None)
        for name in dir(module):
            if name.endswith("PrivateKey"):
                table[getattr(module, name)] = _reduce_private_key
            elif name.endswith("PublicKey"):
                table[getattr(module, name)] = _reduce_public_key
    table[rust_x509.Certificate] = _reduce_certificate
    return table


def _dispatch_table() -> dict[type, Any]:
    """What plain pickle cannot handle, handled by type for every service at once."""
    table = dict(copyreg.dispatch_table)
    table.update(_CRYPTO_REDUCERS)
    table[PolicyVersion] = _reduce_policy_version
    table.update({
        BackendDict: _reduce_backend_dict,
        AccountSpecificBackend: _reduce_account_backend,
        _LOCK_TYPE: _reduce_lock,
        _RLOCK_TYPE: _reduce_rlock,
    })
    return table


_CRYPTO_REDUCERS = _crypto_reducers()


# --- IAM: AWS-managed policy documents are moto's own data, not state -----------------------


@functools.cache
def _aws_policy_documents() -> dict[str, str]:
    """The documents moto gives every AWS-managed policy, by policy name (as moto dumps them)."""
    data = json.loads(aws_managed_policies_data)
    return {name: json.dumps(item.get("Document")) for name, item in data.items()}


def _aws_policy_name(policy_arn: str) -> str | None:
    """The name of an AWS-managed policy ARN (arn:<partition>:iam::aws:policy/<path>/<name>)."""
    if ":iam::aws:policy/" not in policy_arn:
        return None
    return policy_arn.rsplit("/", 1)[-1]


def _restore_policy_version(state: dict[str, Any], name: str) -> PolicyVersion:
    version = PolicyVersion.__new__(PolicyVersion)
    version.__dict__.update(state)
    version.document = _aws_policy_documents()[name]
    return version


def _reduce_policy_version(version: PolicyVersion) -> Any:
    """About 1,500 AWS-managed policies per partition make 3 MB of JSON per IAM backend:
    store their names only (the document comes back from moto's data) unless one changed."""
    name = _aws_policy_name(version.policy_arn)
    expected = _aws_policy_documents().get(name) if name else None
    if expected is None or expected != version.document:
        return object.__reduce_ex__(version, pickle.HIGHEST_PROTOCOL)
    state = {k: v for k, v in version.__dict__.items() if k != "document"}
    return _restore_policy_version, (state, name)

# --- S3 object bodies as content-addressed blobs ------------------------------------------

_original_value = FakeKey.value


def _set_value(self: FakeKey, new_value: bytes) -> None:
    _original_value.fset(self, new_value)
    self.__dict__[_BLOB_ATTR] = None  # body changed: hash it again at the next snapshot


def _key_getstate(self: FakeKey) -> dict[str, Any]:
    """FakeKey without its body: the body lives in blobs/<sha256>, written once."""
    state = self.__dict__.copy()
    state.pop("_value_buffer", None)
    state.pop("lock", None)
    digest = state.get(_BLOB_ATTR)
    if _blob_dir is None:
        state["value"] = _body(self)
        return state
    if digest is None or digest not in _on_disk:
        data = _body(self)
        digest = hashlib.sha256(data).hexdigest()
        _write_blob(_blob_dir, digest, data)
        self.__dict__[_BLOB_ATTR] = digest
        state[_BLOB_ATTR] = digest
    _referenced.add(digest)
    return state


def _body(key: FakeKey) -> bytes:
    try:
        return key.value
    except ValueError:  # buffer closed: the key was deleted and disposed
        return b""


class _BlobBuffer:
    """A restored key's body buffer that reads its blob at first use, not at restore: a twin
    holding 10M sales lines (every version kept) took longer to restore than `local up` waits."""

    def __init__(self, path: Path, max_size: int) -> None:
        self._path, self._max_size = path, max_size
        self._buffer: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._buffer is None:
                buffer = tempfile.SpooledTemporaryFile(max_size=self._max_size)  # noqa: SIM115
                buffer.write(self._path.read_bytes())
                self._buffer = buffer
            return self._buffer

    def close(self) -> None:
        """A deleted key is disposed of: no reason to read its body first."""
        with self._lock:
            if self._buffer is not None:
                self._buffer.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loaded(), name)


def _key_setstate(self: FakeKey, state: dict[str, Any]) -> None:
    value = state.pop("value", None)
    self.__dict__.update(state)
    self.lock = threading.Lock()
    if value is None:
        assert _blob_dir is not None, "blob store not configured"
        # a stand-in for moto's spooled file, with the calls FakeKey makes on it
        self._value_buffer = _BlobBuffer(  # type: ignore[assignment]
            _blob_dir / state[_BLOB_ATTR], self._max_buffer_size)
        return
    self._value_buffer = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - lives with the key
        max_size=self._max_buffer_size)
    _original_value.fset(self, value)
    self.__dict__[_BLOB_ATTR] = state.get(_BLOB_ATTR)


def _write_blob(blob_dir: Path, digest: str, data: bytes) -> None:
    target = blob_dir / digest
    if digest not in _on_disk:
        tmp = target.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        _on_disk.add(digest)


_referenced: set[str] = set()  # blobs the snapshot being written refers to
_on_disk: set[str] = set()  # blobs present in the blob folder


def install_blob_store(blob_dir: Path) -> None:
    """Make FakeKey pickle its body as a blob reference (idempotent)."""
    global _blob_dir
    blob_dir.mkdir(parents=True, exist_ok=True)
    _blob_dir = blob_dir
    _on_disk.clear()
    _on_disk.update(p.name for p in blob_dir.iterdir() if ".tmp" not in p.name)
    FakeKey.value = property(_original_value.fget, _set_value)  # type: ignore[assignment]
    FakeKey.__getstate__ = _key_getstate
    FakeKey.__setstate__ = _key_setstate


# --- snapshot / restore ----------------------------------------------------------------------


def live_backends() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """Every backend instance moto has created: {(module, class): {account: {region: backend}}}."""
    state: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    seen: set[int] = set()
    for backend_dict in list(BackendDict._instances):  # type: ignore[misc]  # moto's registry
        if id(backend_dict) in seen:
            continue
        seen.add(id(backend_dict))
        accounts = {
            account: dict(dict.items(account_backend))
            for account, account_backend in dict.items(backend_dict)
        }
        if any(accounts.values()):
            state[_backend_key(backend_dict)] = accounts
    return state


def dumps(state: Any) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _dispatch_table()
    pickler.dump(state)
    return buffer.getvalue()


class SnapshotUnreadable(Exception):
    """The saved state cannot be loaded: a damaged file, or another format's."""


class SnapshotStore:
    """One emulator's snapshot file and blob folder."""

    def __init__(self, state_dir: Path):
        self.state_dir = state_dir
        self.path = state_dir / SNAPSHOT_NAME
        self.blob_dir = state_dir / "blobs"
        self.count = 0
        self.last_ms: float | None = None
        install_blob_store(self.blob_dir)

    def save(self) -> float:
        """Write every live backend; returns the milliseconds it took."""
        started = time.perf_counter()
        _referenced.clear()
        data = dumps({"version": FORMAT_VERSION, "backends": live_backends()})
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, self.path)
        self._collect_garbage(set(_referenced))
        self.count += 1
        self.last_ms = round((time.perf_counter() - started) * 1000, 2)
        return self.last_ms

    def _collect_garbage(self, referenced: set[str]) -> None:
        """Drop bodies no snapshot refers to any more (deleted or overwritten objects)."""
        for name in _on_disk - referenced:
            (self.blob_dir / name).unlink(missing_ok=True)
            _on_disk.discard(name)

    def restore(self) -> int:
        """Load the snapshot into moto's backends; returns how many backends came back."""
        if not self.path.exists():
            return 0
        try:
            state = pickle.loads(self.path.read_bytes())
            version = state.get("version")
        except Exception as error:  # a damaged pickle fails in any of a dozen ways
            raise SnapshotUnreadable(f"{self.path}: {type(error).__name__}: {error}") from error
        if version != FORMAT_VERSION:
            raise SnapshotUnreadable(
                f"{self.path} is in snapshot format {version}; this retailake reads "
                f"{FORMAT_VERSION}"
            )
        restored = 0
        for (module, qualname), accounts in state["backends"].items():
            backend_dict = find_backend_dict(module, qualname)
            for account, regions in accounts.items():
                account_backend = backend_dict[account]
                for region, backend in regions.items():
                    dict.__setitem__(account_backend, region, backend)
                    restored += 1
        return restored
