"""Full browser sign-ins on the local stack (make up's pieces), in Chromium: prints figures,
never fails on time.

Each sign-in runs in a fresh browser context (no cookies): open the environment's login URL →
the dev IdP's page → choose the user → ALB front (code exchange, session cookies) → authX
(grants, STS, MWAA web token) → the web server stand-in (token posted from the fragment and
redeemed) → the Airflow page. Printed: median, p90, min and max of N sign-ins (default 20),
from the click on the IdP page to the Airflow page, and the whole journey from the first URL.

Run: `.venv/bin/python bench/browser_signin.py [N]` from the project root (needs Chromium;
CHROMIUM=/path overrides the one on PATH).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(name, None)
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")

from playwright.sync_api import sync_playwright  # noqa: E402

from devstack.browser import BrowserStack  # noqa: E402


def figures(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return (
        f"{label}: median {statistics.median(ordered) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
        f"min {ordered[0] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
    )


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium"
    with contextlib.ExitStack() as stack:
        local = BrowserStack(stack)
        local.start()
        record = local.onboard_private(["analytics"])["analytics"]
        local.script(
            "grant", "--user", "alice@example.com", "--environment", "analytics", "--role", "Admin"
        )
        url = local.login_url(record)
        print(f"local stack up; signing in {runs} times at {url}", flush=True)
        from_idp, whole = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            for run in range(runs + 1):  # one warm-up
                context = browser.new_context()
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector("text=Dev identity provider")
                clicked = time.perf_counter()
                page.click("button[name=preset] >> text=alice@example.com")
                page.wait_for_selector("#role")
                done = time.perf_counter()
                if page.inner_text("#role") != "Admin":
                    raise SystemExit("signed in with the wrong role")
                context.close()
                if run:
                    from_idp.append(done - clicked)
                    whole.append(done - started)
            browser.close()
        print(figures("IdP page → Airflow page", from_idp))
        print(figures("login URL → Airflow page (whole journey)", whole))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
