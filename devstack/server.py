"""`python -m devstack.server --port N`: the embedded AWS as a server (used by devstack.server)."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from devstack.lambdas import PROJECT_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run moto's server with devstack's plugins.")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--project", default=str(PROJECT_ROOT))
    parser.add_argument("--stage", default="local")
    parser.add_argument(
        "--settings-file", help="JSON of stage settings the in-process Lambdas get (re-read)"
    )
    args = parser.parse_args(argv)

    url = f"http://{args.host}:{args.port}"
    # For this process only: Step Functions tasks and in-process Lambdas call back into us.
    own = {
        "MOTO_PORT": str(args.port),
        "AWS_ENDPOINT_URL": url,
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }
    os.environ.update(own)
    # Calls made from inside the server (Lambdas, tasks) use fake credentials, never a user's.
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "devstack"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "devstack"  # noqa: S105 - not a secret
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    from moto.core.config import default_user_config
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from devstack import mock_config, plugins
    from devstack.lambdas import ChaliceProject, dispatcher, layered_environ

    plugins.install()
    layered_environ()  # in-process Lambdas see their settings on their own thread
    for section, values in mock_config().items():
        default_user_config.setdefault(section, {}).update(values)  # type: ignore[misc]
    dispatcher.add(
        ChaliceProject(args.project, args.stage, extra_env=own, settings_file=args.settings_file)
    )

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    moto_server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    moto_server.start()
    print(f"devstack ready on {url}", flush=True)
    stop.wait()
    moto_server.stop()
    print("devstack stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
