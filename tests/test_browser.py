"""JupyterLab in headless Chromium: run notebook 01, add a task in the designer, Synth, see the table change.

Needs Debian's ``chromium`` (``/usr/bin/chromium``) and fails, saying what to install, without it;
Playwright never downloads a browser here.
JupyterLab listens on 127.0.0.1 with a token; the notebook runs on a copy in a temporary folder.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dualalb_kit import batch
from dualalb_kit.sandbox.server import free_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
MISSING_CHROMIUM = (
    "the browser test needs Chromium at /usr/bin/chromium: install Debian's package `chromium` "
    "(as root: apt-get install chromium, or `make setup` as root)"
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "01_design_and_synth.ipynb"
SCREENSHOTS = Path(__file__).resolve().parents[1] / "out" / "browser"
TIMEOUT_MS = 240_000
RESOURCES_HEADING = re.compile(r"Resources \((\d+)\)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free loopback port with a token; yields the notebook's URL."""
    if not CHROMIUM.exists():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    batch.ensure_kernel()
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **{key: value for key, value in os.environ.items() if key != "DUALALB_SANDBOX_URL"},
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--allow-root",
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=",
        ],
        env=env,
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=open(root / "lab.log", "w"),  # noqa: SIM115  (closed with the process)
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start:\n{(root / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield f"{base}/lab/tree/{NOTEBOOK.name}?token={token}"
    server.terminate()
    server.wait(timeout=30)


def _resource_count(page) -> int:
    heading = page.locator(".widget-html-content h4", has_text="Resources (").first
    return int(RESOURCES_HEADING.search(heading.inner_text()).group(1))


def _synth(page, previous: int | None) -> int:
    page.locator("button.jupyter-button", has_text=re.compile(r"^Synth$")).first.click()
    page.wait_for_function(
        """previous => {
            const heading = [...document.querySelectorAll('.widget-html-content h4')]
                .find(h => h.textContent.startsWith('Resources ('));
            return heading && (previous === null || !heading.textContent.includes('(' + previous + ')'));
        }""",
        arg=previous,
        timeout=TIMEOUT_MS,
    )
    return _resource_count(page)


def test_run_the_notebook_add_a_task_and_synth_again(lab):
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(lab)
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", state="attached")
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            # The last cell prints the run's summary; the designer is rendered above it.
            page.wait_for_selector(".jp-OutputArea-output :text('lint_findings')")
            page.wait_for_selector("button.jupyter-button:has-text('Add task')")
            assert (
                page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
                == 0
            )

            before = _synth(page, None)
            table_before = page.locator("table.dualalb-resources").first.inner_text()
            page.locator("button.jupyter-button", has_text="Add task").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "designer.png"))
            page.locator("button.jupyter-button", has_text="Add task").first.click()
            after = _synth(page, before)
            table_after = page.locator("table.dualalb-resources").first.inner_text()
            page.locator("table.dualalb-resources").first.scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / "designer-after-add-task.png"))
        finally:
            browser.close()
    assert after > before
    assert table_after != table_before
    services = re.search(r"AWS::ECS::Service\s+(\d+)", table_after)
    assert services and int(services.group(1)) == 4
