"""`make up`: the whole local stack by hand, until Ctrl-C; then nothing is left running.

devstack's server, the sample landscape and platform setup, `chalice local` (admin API), the
local ALB front, the dev OIDC IdP and the MWAA web server stand-ins; a sample private
environment onboarded and a grant made; the URLs printed. Sign in from your own browser.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.browser import BrowserStack  # noqa: E402
from devstack.stack import StackFailure  # noqa: E402


class Up(BrowserStack):
    def step(self, text: str) -> None:
        print(f"[up] {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="the local ALB front's port")
    parser.add_argument("--idp-port", type=int, default=8081, help="the dev IdP's port")
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    with contextlib.ExitStack() as stack:
        up = Up(stack, front_port=args.port, idp_port=args.idp_port)
        try:
            up.start()
            records = up.onboard_private(["analytics"])
            grant = up.script(
                "grant",
                "--user",
                "alice@example.com",
                "--environment",
                "analytics",
                "--role",
                "Admin",
            )
            up.step(f"granted {grant['rbac_role']} on analytics to {grant['user']}")
            assert up.idp is not None
            print(
                "\nmwaa-gate runs locally. Open in Chromium, Chrome, Firefox or Edge:\n"
                f"  sign in:    {up.login_url(records['analytics'])}\n"
                f"              (choose alice@example.com at the dev IdP)\n"
                f"  portal:     {up.portal_url()}  (the signed-in user's environments)\n"
                f"  admin API:  {up.api_url}  (scripts/admin/* with MWAA_GATE_URL={up.api_url} "
                "MWAA_GATE_AUTH=none)\n"
                f"  dev IdP:    {up.idp.issuer}/.well-known/openid-configuration\n"
                "Ctrl-C stops everything.",
                flush=True,
            )
            stop.wait()
        except KeyboardInterrupt:
            pass
        except StackFailure as failure:
            print(f"FAILED: {failure}", file=sys.stderr, flush=True)
            return 1
        finally:
            print(
                "[up] stopping the front, the IdP, chalice local and the embedded AWS", flush=True
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
