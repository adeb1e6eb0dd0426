"""Shared fixtures: the external tools (RocksDB 10.4.2 through rocksdict, RocksDB 7.8.3's sst_dump, the moto
S3 server) and helpers that use them.

A missing tool skips its tests on a developer machine but FAILS them under CI=true: a CI run must not pass
without the interop it claims."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest

ROCKSDICT_VERSION = "0.3.29"
MOTO_BUCKET = "sstkit-py-test"


def tool_missing(name, why):
    """Fails under CI=true, skips otherwise."""
    msg = "%s is missing: %s (scripts/test-python.sh installs it)" % (name, why)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def rocksdict():
    try:
        import rocksdict as r
        from importlib.metadata import version
    except ImportError as e:
        tool_missing("rocksdict", str(e))
    found = version("rocksdict")
    if found != ROCKSDICT_VERSION:
        tool_missing("rocksdict %s (RocksDB 10.4.2)" % ROCKSDICT_VERSION, "found %s" % found)
    return r


@pytest.fixture(scope="session")
def sst_dump():
    path = shutil.which("sst_dump")
    if path is None:
        tool_missing("sst_dump (Debian rocksdb-tools, RocksDB 7.8.3)", "not on PATH")

    def verify(file):
        run = subprocess.run([path, "--file=%s" % file, "--command=verify", "--verify_checksum"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and run.stderr.strip() == "", (run.stdout, run.stderr)
        assert "The file is ok" in run.stdout.splitlines(), run.stdout
    return verify


@pytest.fixture
def ingest(rocksdict, tmp_path):
    """Ingests SST files into a fresh RocksDB 10.4.2 DB in one call; returns every (key, value) in order."""
    def run(files, name="db"):
        root = str(tmp_path / name)
        opts = rocksdict.Options(raw_mode=True)
        db = rocksdict.Rdict(root, opts)
        try:
            db.ingest_external_file([str(f) for f in files])
            it = db.iter()
            it.seek_to_first()
            out = []
            while it.valid():
                out.append((it.key(), it.value()))
                it.next()
            del it
            return out
        finally:
            db.close()
            shutil.rmtree(root, ignore_errors=True)
    return run


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    """A moto_server on loopback, with one bucket."""

    def __init__(self, proc, port, log, python):
        self.proc, self.port, self.log, self.python = proc, port, log, python
        self.endpoint = "http://127.0.0.1:%d" % port
        self.bucket = MOTO_BUCKET

    def url(self, key):
        return "s3://%s/%s" % (self.bucket, key)

    def _get(self, query):
        with urllib.request.urlopen("%s/%s?%s" % (self.endpoint, self.bucket, query), timeout=30) as r:
            return ET.fromstring(r.read())

    def objects(self, prefix=""):
        """The keys under `prefix`."""
        root = self._get("list-type=2&prefix=%s" % prefix)
        return sorted(e.text for e in root.iter() if e.tag.endswith("}Key") or e.tag == "Key")

    def multipart_uploads(self):
        """The keys of multipart uploads still open."""
        root = self._get("uploads")
        return sorted(e.text for e in root.iter() if e.tag.endswith("}Key") or e.tag == "Key")

    def download(self, key, dest):
        """Fetches an object with boto3 from the moto venv (moto refuses unsigned GETs of objects), so what
        is checked is the object as S3 stores it, not as sstkit reads it."""
        script = ("import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', "
                  "aws_access_key_id='test', aws_secret_access_key='test')"
                  ".download_file(sys.argv[2], sys.argv[3], sys.argv[4])")
        run = subprocess.run([self.python, "-c", script, self.endpoint, self.bucket, key, str(dest)],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        return dest

    def put(self, key, data):
        """Stores `data` (bytes) as an object with boto3 from the moto venv."""
        script = ("import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', "
                  "aws_access_key_id='test', aws_secret_access_key='test')"
                  ".put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=sys.stdin.buffer.read())")
        run = subprocess.run([self.python, "-c", script, self.endpoint, self.bucket, key], input=data,
                             capture_output=True, timeout=120)
        assert run.returncode == 0, run.stderr


@pytest.fixture(scope="session")
def moto():
    venv = os.environ.get("MOTO_VENV", "/tmp/sstkit-moto-venv")
    binary = os.path.join(venv, "bin", "moto_server")
    if not os.path.exists(binary):
        tool_missing("moto_server", "%s not found" % binary)
    port = _free_port()
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), "sstkit-py-moto-%d.log" % port), "w+")
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    server = Moto(proc, port, log, os.path.join(venv, "bin", "python"))
    deadline = time.time() + 30
    while True:
        try:
            req = urllib.request.Request("%s/%s" % (server.endpoint, MOTO_BUCKET), method="PUT")
            urllib.request.urlopen(req, timeout=5).read()
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                log.seek(0)
                pytest.fail("moto_server did not come up on port %d: %s" % (port, log.read()))
            time.sleep(0.1)
    env = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT": server.endpoint,
        "AWS_ALLOW_HTTP": "true",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        proc.kill()
        proc.wait()
        log.close()


@pytest.fixture
def python():
    return sys.executable
