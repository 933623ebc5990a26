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
from contextlib import contextmanager
from pathlib import Path

import pytest

from dualalb_kit import batch
from dualalb_kit.sandbox.server import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

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
NOTEBOOK_RUN_MS = 900_000  # the whole notebook (synth, cfn-lint, cdk-nag) on a loaded 2-core machine
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
            "--LabApp.news_url=None",  # as `make lab`: no "Jupyter news?" prompt
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


@contextmanager
def _chromium_context():
    """Debian's Chromium, headless, with the tests' viewport and timeout; yields a browser context."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            browser.close()


def _resource_count(page) -> int:
    heading = page.locator(".widget-html-content h4", has_text="Resources (").first
    return int(RESOURCES_HEADING.search(heading.text_content()).group(1))  # also when scrolled away


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
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _chromium_context() as context:
        page = context.new_page()
        _open_and_run_notebook(page, lab)  # the last cell prints the run's summary
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
    assert after > before
    assert table_after != table_before
    services = re.search(r"AWS::ECS::Service\s+(\d+)", table_after)
    assert services and int(services.group(1)) == 4


DESIGNER_SCREENSHOTS = Path(__file__).resolve().parents[1] / "out" / "screenshots"


def _open_and_run_notebook(page, lab_url: str) -> None:
    """Open the notebook, wait for its kernel, Run All Cells, and wait for the last cell's output."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(lab_url)
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.wait_for_selector(".jp-StatusBar-Widget :text('| Idle')")  # the kernel is connected
    for _attempt in range(3):  # on a busy machine an early Run All can land before the session is ready
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        try:
            page.wait_for_selector(".jp-InputPrompt:text-matches('\\[(\\*|\\d+)\\]')", timeout=30_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_selector(
        ".jp-OutputArea-output :text('unacknowledged cdk-nag findings')", timeout=NOTEBOOK_RUN_MS
    )
    page.wait_for_selector(".dualalb-cost-preview :text('Monthly cost')")


def _wait_for_text(page, selector: str, text: str) -> None:
    page.wait_for_function(
        "([selector, text]) => document.querySelector(selector)?.textContent.includes(text)",
        arg=[selector, text],
        timeout=TIMEOUT_MS,
    )


def _monthly(spec_changes: dict) -> dict[str, float]:
    """The cost model's monthly figures for the sample with the first task changed."""
    from dualalb_kit.cost import monthly_cost
    from dualalb_kit.spec import SAMPLE_PARAMS, load_spec

    params = load_spec(SAMPLE_PARAMS).to_params()
    params["tasks"][0].update(spec_changes)
    costs = monthly_cost(load_spec(params))
    return {"order": costs.loc[0, "usd_month"], "total": costs["usd_month"].sum()}


def test_the_designer_previews_diagram_and_cost_as_you_edit_without_synth(lab):
    """Desired count and spot mix edits redraw the diagram and the monthly cost; opening an all-spot
    task's capacity panel keeps it 100% spot; Synth is never pressed (the resource count stays)."""
    DESIGNER_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with _chromium_context() as context:
        page = context.new_page()
        try:
            _open_and_run_notebook(page, lab)
            assert page.get_by_text("official Jupyter news").count() == 0
            resources_after_notebook = _resource_count(page)
            order = page.locator(".dualalb-task-row").first
            desired = order.locator(".dualalb-desired input")
            desired.click()  # focused, so JupyterLab keeps the row in view after Run All
            order.evaluate("row => row.scrollIntoView({block: 'center'})")
            page.wait_for_timeout(500)
            page.screenshot(path=str(DESIGNER_SCREENSHOTS / "designer-before-edit.png"))
            _assert_preview_in_view_beside(page, order)
            diagram = page.locator(".dualalb-diagram-preview").first
            cost = page.locator(".dualalb-cost-preview").first
            assert "2 x FARGATE_SPOT x1" in diagram.text_content()
            assert f"${_monthly({})['total']:,.2f}" in cost.text_content()

            desired.fill("5")
            desired.press("Enter")
            _wait_for_text(page, ".dualalb-diagram-preview", "5 x FARGATE_SPOT x1")
            five = _monthly({"desired_count": 5})
            _wait_for_text(page, ".dualalb-cost-preview", f"${five['total']:,.2f}")
            placement = page.locator(".dualalb-placement").first
            assert (
                placement.text_content().strip()
                == "5 tasks: 0 FARGATE + 5 FARGATE_SPOT (100% spot, stack default)"
            )

            order.locator(".dualalb-expand").click()
            page.locator(".dualalb-own-mix input").first.check()
            _wait_for_text(page, ".dualalb-placement", "5 tasks: 0 FARGATE + 5 FARGATE_SPOT (100% spot)")
            assert f"${five['total']:,.2f}" in cost.text_content()  # opening the mix changed nothing

            handle = page.locator(".dualalb-fargate-weight .noUi-handle").first
            handle.focus()
            handle.press("ArrowRight")
            _wait_for_text(page, ".dualalb-placement", "5 tasks: 3 FARGATE + 2 FARGATE_SPOT (40% spot)")
            _wait_for_text(page, ".dualalb-diagram-preview", "5 x FARGATE x1, FARGATE_SPOT x1")
            mixed = _monthly(
                {
                    "desired_count": 5,
                    "capacity": [
                        {"provider": "FARGATE", "weight": 1},
                        {"provider": "FARGATE_SPOT", "weight": 1},
                    ],
                }
            )
            _wait_for_text(page, ".dualalb-cost-preview", f"${mixed['total']:,.2f}")
            assert "3 + 2" in cost.text_content() and f"${mixed['order']:,.2f}" in cost.text_content()
            order.evaluate("row => row.scrollIntoView({block: 'center'})")
            _assert_preview_in_view_beside(page, order)
            page.screenshot(path=str(DESIGNER_SCREENSHOTS / "designer-after-edit.png"))
            assert _resource_count(page) == resources_after_notebook

            _stop_a_synth_then_synth_again(page, resources_after_notebook)
        except Exception:
            page.screenshot(path=str(DESIGNER_SCREENSHOTS / "designer-failed.png"), full_page=True)
            raise


def _assert_preview_in_view_beside(page, row) -> None:
    """The preview column (diagram and cost) lies wholly inside the viewport, right of ``row``."""
    viewport = page.viewport_size
    preview = page.locator(".dualalb-preview-column").first.bounding_box()
    edited = row.bounding_box()
    assert 0 <= preview["y"] and preview["y"] + preview["height"] <= viewport["height"], preview
    assert edited["x"] + 400 <= preview["x"] and preview["x"] + preview["width"] <= viewport["width"]
    assert preview["width"] >= 400, preview  # the diagram at a readable size, not squeezed


STOPPED = "■ Synth stopped"


def _stop_a_synth_then_synth_again(page, resources: int) -> None:
    """Press Synth, then JupyterLab's stop button while it runs (about a second: the kernel is
    warm): the status says stopped; Synth again gives "Synth done" and the same resources."""
    synth = page.locator("button.jupyter-button", has_text=re.compile(r"^Synth$")).first
    synth.click()
    page.wait_for_selector(".widget-html-content:has-text('Synth running')")
    page.locator("jp-button[data-command='notebook:interrupt-kernel']").first.click()
    stopped = page.locator(f".widget-html-content:has-text('{STOPPED}')").first
    stopped.wait_for()
    page.wait_for_selector(".jp-StatusBar-Widget :text('| Idle')")
    stopped.evaluate("line => line.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(DESIGNER_SCREENSHOTS / "designer-synth-stopped.png"))
    synth.click()
    page.wait_for_selector(".widget-html-content:has-text('✓ Synth done')")
    assert _resource_count(page) == resources
    assert page.locator(f".widget-html-content:has-text('{STOPPED}')").count() == 0
    assert page.locator(".progress-bar-success").count() == 1
    heading = page.locator(".widget-html-content h4", has_text="ALBs → listeners → services").last
    heading.evaluate("title => title.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(DESIGNER_SCREENSHOTS / "designer-synth-after-stop.png"))


def test_the_executed_notebook_html_shows_the_widgets_with_the_network_blocked(tmp_path):
    """Notebook 01 run as a batch run is (its designer's last state, its Synth bar full) in an HTML
    page that draws them with every request beyond the file itself refused."""
    from dualalb_kit.cost import monthly_cost
    from dualalb_kit.spec import SAMPLE_PARAMS, load_spec

    if not CHROMIUM.exists():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    row = batch.run_one(SAMPLE_PARAMS, NOTEBOOK, tmp_path, {"lint": False})
    assert row["status"] == "passed", row
    (html,) = tmp_path.rglob("*.html")
    refused: list[str] = []

    def offline(route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with _chromium_context() as context:
        context.route("**/*", offline)
        page = context.new_page()
        page.goto(html.as_uri())
        page.wait_for_selector(".dualalb-cost-preview :text('Monthly cost')")
        total = monthly_cost(load_spec(SAMPLE_PARAMS))["usd_month"].sum()
        assert f"${total:,.2f}" in page.locator(".dualalb-cost-preview").inner_text()
        assert [box.input_value() for box in page.locator(".dualalb-desired input").all()] == [
            "2",
            "2",
            "2",
        ]
        assert "2 x FARGATE_SPOT x1" in page.locator(".dualalb-diagram-preview").inner_text()
        assert page.locator(".widget-html-content", has_text="✓ Synth done").count() == 1
        bar = page.locator(".progress-bar-success")
        assert bar.count() == 1 and bar.first.evaluate("bar => bar.style.width") == "100%"
        page.locator(".dualalb-task-row").first.scroll_into_view_if_needed()
        page.screenshot(path=str(DESIGNER_SCREENSHOTS / "offline-notebook-01.png"))
    assert all(not url.startswith("file://") for url in refused)
