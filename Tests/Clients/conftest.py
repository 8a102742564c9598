"""Fixtures of the client tests: a fresh `parley serve` for each test module, started from the binary
in PARLEY_BINARY on a free port with a throwaway data folder, and stopped by its PID at the end.

Run through `scripts/client-test PARLEY_BINARY`, which installs what is missing first.
"""

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    return int(subprocess.check_output([str(ROOT / "scripts" / "free-port")], text=True).strip())


def load_script(name):
    """One of scripts/ (Python files without the .py) as a module, to test its parts."""
    path = ROOT / "scripts" / name
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


class Server:
    """One `parley serve` process on a free port with a throwaway data folder and no web page.
    Its output (where mail goes without SMTP) is kept in a file of that folder."""

    def __init__(self, binary):
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="parley-clients-data-")
        self.log_path = Path(self.data_dir) / "server.log"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [binary, "serve", "--port", str(self.port), "--data-dir", self.data_dir,
                 "--public-dir", str(Path(self.data_dir) / "no-page"),
                 "--password-cost", "4", "--registrations-per-hour", "100000",
                 # Lets a push subscription name a loopback endpoint (the walk-through subscribes and
                 # unsubscribes at once, so nothing is ever pushed).
                 "--allow-loopback-push"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"parley exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        self.cleanup()
        raise RuntimeError("parley did not become ready within 20 s")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def log(self):
        return self.log_path.read_text(errors="replace")

    def cleanup(self):
        """Stops the process (SIGTERM, then SIGKILL after 10 s) and deletes its data."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("PARLEY_BINARY", "/tmp/parley-web/parley")
    assert os.access(path, os.X_OK), f"no parley binary at {path} (set PARLEY_BINARY)"
    return path


@pytest.fixture(scope="module")
def server(binary):
    """A fresh server for each test module: the collection's walk-through needs one."""
    started = Server(binary)
    yield started
    started.cleanup()
