"""AWS credentials for lib.sh, found as the AWS CLI finds them (the standard provider chain).

Used only when AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set: AWS_PROFILE, the
config and credentials files, SSO, credential_process, container and instance roles. Through
botocore when this python3 has it, else through the AWS CLI (`aws configure
export-credentials`, CLI v2). Prints four lines on stdout — access key id, secret access key,
session token (may be empty), the profile's region (may be empty) — for lib.sh to read into
variables; they never reach a command line. Exit 2 with the reason on stderr when no
credentials can be found (lib.sh stops before any request).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

EXIT_NO_CREDENTIALS = 2


class NoCredentials(Exception):
    """No credentials could be found; the message says where they were looked for."""


def _one_line(value: str | None) -> str:
    text = value or ""
    if "\n" in text or "\r" in text:
        raise NoCredentials("the credentials found hold a line break")
    return text


def from_botocore() -> tuple[str, str, str, str] | None:
    """The chain through botocore; None when this python3 has no botocore."""
    try:
        import botocore.exceptions
        import botocore.session
    except ImportError:
        return None
    try:
        session = botocore.session.Session()
        credentials = session.get_credentials()
        region = session.get_config_variable("region") or ""
        if credentials is None:
            raise NoCredentials(_nothing_found())
        frozen = credentials.get_frozen_credentials()
    except botocore.exceptions.BotoCoreError as error:  # unknown profile, expired SSO token…
        raise NoCredentials(f"AWS credentials: {error}") from error
    if not frozen.access_key or not frozen.secret_key:
        raise NoCredentials(_nothing_found())
    return frozen.access_key, frozen.secret_key, frozen.token or "", region


def from_aws_cli() -> tuple[str, str, str, str] | None:
    """The chain through the AWS CLI v2; None when there is no `aws` command."""
    aws = shutil.which("aws")
    if aws is None:
        return None
    exported = subprocess.run(  # noqa: S603 - the AWS CLI, arguments fixed
        [aws, "configure", "export-credentials", "--format", "process"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if exported.returncode != 0:
        reason = exported.stderr.strip().splitlines()[-1:] or ["no credentials"]
        raise NoCredentials(f"AWS credentials (aws configure export-credentials): {reason[0]}")
    try:
        document = json.loads(exported.stdout)
        key, secret = document["AccessKeyId"], document["SecretAccessKey"]
    except (ValueError, KeyError, TypeError) as error:
        raise NoCredentials("aws configure export-credentials answered no credentials") from error
    region = subprocess.run(  # noqa: S603
        [aws, "configure", "get", "region"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return key, secret, document.get("SessionToken") or "", region


def _nothing_found() -> str:
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
    where = f"profile {profile!r}" if profile else "the default profile"
    return (
        f"AWS credentials are needed to sign requests and none were found ({where}): set "
        "AWS_PROFILE (run `aws sso login` for an SSO profile), or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY"
    )


def find() -> tuple[str, str, str, str]:
    for source in (from_botocore, from_aws_cli):
        found = source()
        if found is not None:
            return tuple(_one_line(value) for value in found)  # type: ignore[return-value]
    raise NoCredentials(
        "AWS credentials are needed to sign requests: set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or use an AWS profile with python3's botocore or the AWS CLI v2"
    )


def main(argv: list[str]) -> int:
    program = argv[0] if argv else "credentials.py"  # lib.sh passes the script's name
    try:
        key, secret, token, region = find()
    except NoCredentials as error:
        print(f"{program}: {error}", file=sys.stderr)
        return EXIT_NO_CREDENTIALS
    sys.stdout.write(f"{key}\n{secret}\n{token}\n{region}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
