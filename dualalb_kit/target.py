"""Where things run: one ``Target`` (the local sandbox or AWS, region, endpoint, profile).

Modelled on ``boto3.Session``: a front door (the CLI, the designer, a notebook) makes one
``Target`` and passes it down; clients come from it (:meth:`Target.client`), child processes
(the CDK CLI, notebook kernels) get its :attr:`Target.environment`, and nobody works out the
sandbox URL or the region again. Functions that still take the strings ``"sandbox"`` /
``"aws"`` turn them into a ``Target`` with :func:`as_target`, which also makes one from an
endpoint URL and a ``boto3.Session``; no function outside the front doors takes those itself.

Problems with credentials or connections surface as :class:`TargetError`, one line that says
what to do, within a few seconds (short timeouts, no retries).
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Literal
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from .errors import SandboxNotRunning, TargetError, ValidationError
from .loopback import is_loopback_host

TargetKind = Literal["sandbox", "aws"]
KINDS: tuple[TargetKind, ...] = ("sandbox", "aws")
DEFAULT_REGION = "us-east-1"
"""The region when neither the caller, the profile nor the environment names one."""

SANDBOX_URL_ENV = "DUALALB_SANDBOX_URL"
"""When set, notebooks and the CLI reuse the sandbox at this URL instead of starting one."""
SANDBOX_ACCOUNT = "123456789012"
"""The account moto answers for."""
SANDBOX_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}
"""moto's dummy credentials: they open nothing outside a sandbox."""

CHECK_CONFIG = Config(connect_timeout=2, read_timeout=2, retries={"total_max_attempts": 1})
"""For the calls that check a target before any work: an answer within about 2 s, no retries."""

_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_TARGET_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "CDK_DEFAULT_ACCOUNT",
    "CDK_DEFAULT_REGION",
    SANDBOX_URL_ENV,
)
"""Variables a target sets; inherited values are dropped so a child sees only the target's."""
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "AuthFailure",
}
_START_SANDBOX = (
    "Start one with `dualalb-kit sandbox` (it prints its URL) and pass that URL "
    f"(--endpoint-url / endpoint_url=) or export {SANDBOX_URL_ENV}=URL; in Python, "
    "`with Sandbox() as sandbox: deploy(spec, sandbox.target)`."
)


def _start_sandbox_advice() -> str:
    """How to get a sandbox: start one, after installing the [sandbox] extra where it is missing."""
    from .extras import available

    if available("moto"):
        return _START_SANDBOX
    return (
        f"The sandbox needs the [sandbox] extra (pip install 'dualalb-kit[sandbox]'). {_START_SANDBOX} "
        "Or deploy to AWS with --target aws."
    )


@dataclass(frozen=True)
class Target:
    """Where AWS calls go: ``kind`` ``"sandbox"`` (a local endpoint) or ``"aws"``, in ``region``.

    ``endpoint_url`` is the sandbox's URL (``None`` for AWS itself); ``profile`` names an AWS
    profile (``None``: the environment's credentials). Make one with :meth:`sandbox` or
    :meth:`aws`. ``session`` (optional) is a caller's ``boto3.Session`` that makes every client,
    so the caller sees (and can count) every call. ``explicit_region`` records that the caller
    chose the region, which a spec's region may then not override (:meth:`in_region`).
    """

    kind: TargetKind
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    profile: str | None = None
    session: boto3.Session | None = field(default=None, repr=False, compare=False)
    explicit_region: bool = field(default=False, repr=False, compare=False)
    checked: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    """What the stages found true of this very target (``"bootstrapped"``), so each check runs
    once; a target made from it (:meth:`in_region`) starts with none."""

    @classmethod
    def sandbox(cls, url: str | None = None, region: str | None = None) -> Target:
        """The sandbox at ``url`` (default ``$DUALALB_SANDBOX_URL``) in ``region`` (default: the
        environment's, ``AWS_REGION`` or ``AWS_DEFAULT_REGION``, else us-east-1).

        Raises ``SandboxNotRunning`` (saying how to start one) when no URL is known or nothing
        answers there within 2 s.
        """
        url = url or os.environ.get(SANDBOX_URL_ENV)
        if not url:
            reason = f"no sandbox is running (no endpoint_url given and {SANDBOX_URL_ENV} is not set)"
            raise SandboxNotRunning(
                f"no sandbox URL: no endpoint_url given and {SANDBOX_URL_ENV} is not set. "
                + _start_sandbox_advice(),
                reason=reason,
            )
        # moto finds an uploaded template by the URL's host, which must read ``localhost``.
        url = url.rstrip("/").replace("://127.0.0.1:", "://localhost:")
        if not sandbox_answers(url):
            raise SandboxNotRunning(
                f"no sandbox answers at {url}. {_start_sandbox_advice()}",
                reason=f"no sandbox answers at {url}",
            )
        default = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
        return cls("sandbox", region or default, url, explicit_region=region is not None)

    @classmethod
    def aws(cls, profile: str | None = None, region: str | None = None) -> Target:
        """AWS with ``profile``'s credentials (default: the environment's) in ``region``.

        ``region`` defaults to the profile's, else the environment's (``AWS_REGION``), else
        us-east-1. Raises ``TargetError`` for a profile that is not configured. Makes no call.
        """
        try:
            session = _profile_session(profile) if profile else None
        except ProfileNotFound:
            raise TargetError(
                f"AWS profile {profile!r} is not configured: add it with `aws configure --profile {profile}` "
                "(or `aws configure sso`), or list them with `aws configure list-profiles`"
            ) from None
        default = (session or boto3.Session()).region_name or DEFAULT_REGION  # read now, not cached
        return cls("aws", region or default, profile=profile, explicit_region=region is not None)

    def in_region(self, region: str) -> Target:
        """This target in ``region`` (a spec's), unless the caller chose another region.

        Raises ``ValidationError("region", ...)`` naming both when an explicitly chosen region
        disagrees: the kit never picks one of two regions silently.
        """
        if region == self.region:
            return self
        if self.explicit_region:
            raise ValidationError(
                "region",
                f"the params file says {region} but --region (region=) says {self.region}; "
                "use one region: drop --region or change the params file",
            )
        return replace(self, region=region)

    @property
    def address(self) -> str:
        """Where the calls go, for messages: the endpoint's URL, or ``AWS`` (AWS's own endpoints)."""
        return self.endpoint_url or "AWS"

    @property
    def on_this_machine(self) -> bool:
        """Whether the endpoint is on this machine (localhost or a loopback address): a sandbox."""
        return is_sandbox_endpoint(self.endpoint_url)

    def require_on_this_machine(self, unless: str) -> None:
        """``ValidationError("endpoint_url", ...)`` unless :attr:`on_this_machine`; ``unless`` says
        how a caller may still go on (e.g. ``"synthetic metrics go to a real account only with
        allow_non_sandbox=True"``)."""
        if not self.on_this_machine:
            raise ValidationError("endpoint_url", f"{self.endpoint_url!r} is not a local sandbox; {unless}")

    def has_credentials(self) -> bool:
        """Whether credentials are at hand, without a call (the sandbox's dummy ones always are)."""
        if self.kind == "sandbox":
            return True
        session = self.session or (_profile_session(self.profile) if self.profile else _default_session())
        return session.get_credentials() is not None

    def check_credentials(self) -> None:
        """Raise ``TargetError`` ("no AWS credentials for ...") unless :meth:`has_credentials`; no call."""
        if not self.has_credentials():
            raise self.problem(NoCredentialsError())

    def client(self, service: str, **options: Any) -> Any:
        """A boto3 client for ``service`` on this target; ``options`` go to ``Session.client``
        unchanged (e.g. ``config=botocore.config.Config(...)``)."""
        if self.session is not None:
            session = self.session
        elif self.kind == "sandbox":
            session = _default_session()
            options = {**SANDBOX_CREDENTIALS, **options}
        else:
            session = _profile_session(self.profile) if self.profile else _default_session()
        return session.client(service, region_name=self.region, endpoint_url=self.endpoint_url, **options)

    @property
    def environment(self) -> dict[str, str]:
        """This process's environment as a child process on this target needs it (CDK CLI, kernels).

        A sandbox: its URL, region and dummy credentials (:func:`sandbox_environment`), no
        profile. AWS: the region (``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``CDK_DEFAULT_REGION``)
        and ``AWS_PROFILE`` when a profile is given (the environment's keys are then dropped, as
        they would win over it); no sandbox variable (``AWS_ENDPOINT_URL*``,
        ``DUALALB_SANDBOX_URL``, the dummy credentials) ever reaches an AWS child.
        """
        inherited = {
            name: value
            for name, value in os.environ.items()
            if name not in _TARGET_VARIABLES and not name.startswith("AWS_ENDPOINT_URL")
        }
        if self.kind == "sandbox":
            return {**inherited, **sandbox_environment(self.endpoint_url or "", self.region)}
        sandbox_keys = inherited.get("AWS_ACCESS_KEY_ID") == SANDBOX_CREDENTIALS["aws_access_key_id"]
        if self.profile or sandbox_keys:
            inherited = {
                name: value for name, value in inherited.items() if name not in _CREDENTIAL_VARIABLES
            }
        variables = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "CDK_DEFAULT_REGION": self.region,
        }
        if self.profile:
            variables["AWS_PROFILE"] = self.profile
        if self.endpoint_url:
            variables["AWS_ENDPOINT_URL"] = self.endpoint_url
        return {**inherited, **variables}

    @cached_property
    def account(self) -> str:
        """The account the credentials belong to (STS; the sandbox's is fixed).

        Checks the credentials: raises ``TargetError`` within about 2 s, in one line saying what
        to do, when there are none, the token expired, access is denied or nothing answers.
        """
        if self.kind == "sandbox":
            return SANDBOX_ACCOUNT
        try:
            return self.client("sts", config=CHECK_CONFIG).get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as error:
            raise self.problem(error) from None

    def problem(self, error: BotoCoreError | ClientError) -> TargetError:
        """A failed call on this target as one ``TargetError`` line with what to do."""
        where = f"{self.describe()}"
        profile = f" --profile {self.profile}" if self.profile else ""
        if isinstance(error, NoCredentialsError):
            return TargetError(
                f"no AWS credentials for {where}: run `aws configure` or `aws sso login`, "
                "or pass --profile NAME, then retry",
                reason=f"no AWS credentials for {where}",
            )
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code in _EXPIRED:
                return TargetError(
                    f"the AWS credentials for {where} have expired ({code}): refresh them "
                    f"(`aws sso login{profile}` or new keys) and retry"
                )
            if code in _DENIED:
                return TargetError(
                    f"AWS denied the credentials for {where} ({code}: {message}): use credentials "
                    "or a --profile allowed in this account"
                )
            return TargetError(f"{where} refused the call ({code}: {message})")
        if "Token" in type(error).__name__:  # an SSO token that is missing or expired
            return TargetError(f"the AWS SSO session for {where} has expired: run `aws sso login{profile}`")
        return TargetError(
            f"cannot reach {where} ({type(error).__name__}): check the network or the endpoint",
            reason=f"{where} does not answer" if self.kind == "sandbox" else None,
        )

    def describe(self) -> str:
        """A name for messages: ``the sandbox at URL (eu-west-1)``, ``AWS (profile p, eu-west-1)``."""
        if self.kind == "sandbox":
            return f"the sandbox at {self.endpoint_url} ({self.region})"
        parts = [f"profile {self.profile}"] if self.profile else []
        parts += [self.endpoint_url] if self.endpoint_url else []
        return f"AWS ({', '.join([*parts, self.region])})"


def as_target(
    target: Target | str | None = None,
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    session: boto3.Session | None = None,
) -> Target:
    """A ``Target`` from the older loose arguments, or ``target`` itself.

    ``"sandbox"`` is :meth:`Target.sandbox` (``endpoint_url`` or ``$DUALALB_SANDBOX_URL``,
    checked to answer); ``"aws"`` is :meth:`Target.aws` (``endpoint_url`` kept, for AWS-compatible
    endpoints). ``None`` (the default of the analysis functions) is a sandbox at ``endpoint_url``
    when one is given (not probed), else AWS with the environment's credentials (boto3 still
    honours ``AWS_ENDPOINT_URL``). ``region`` and ``session`` apply when given.
    """
    if isinstance(target, Target):
        chosen = target
    elif target == "sandbox":
        chosen = Target.sandbox(endpoint_url, region)
    elif target == "aws":
        chosen = replace(Target.aws(region=region), endpoint_url=endpoint_url)
    elif target is None:
        kind: TargetKind = "sandbox" if endpoint_url else "aws"
        default = (session or _default_session()).region_name or DEFAULT_REGION
        chosen = Target(kind, region or default, endpoint_url)
    else:
        raise not_a_target(target)
    if region is not None and region != chosen.region:
        chosen = replace(chosen, region=region)
    return replace(chosen, session=session) if session is not None else chosen


def is_sandbox_endpoint(endpoint_url: str | None) -> bool:
    """Whether ``endpoint_url`` points at this machine (localhost or a loopback address)."""
    return is_loopback_host(urlparse(endpoint_url or "").hostname)


def not_a_target(target: object) -> ValidationError:
    """The error for a ``target`` that is neither a ``Target`` nor one of :data:`KINDS`."""
    return ValidationError("target", f"{target!r} is not a target; use one of {', '.join(KINDS)}")


def sandbox_environment(endpoint_url: str, region: str = DEFAULT_REGION) -> dict[str, str]:
    """The variables a child process (the CDK CLI, a papermill kernel) needs to use a sandbox.

    The credentials are moto's dummy pair; they open nothing outside the sandbox.
    """
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": SANDBOX_CREDENTIALS["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": SANDBOX_CREDENTIALS["aws_secret_access_key"],
        "AWS_SESSION_TOKEN": SANDBOX_CREDENTIALS["aws_session_token"],
        "CDK_DEFAULT_ACCOUNT": SANDBOX_ACCOUNT,
        "CDK_DEFAULT_REGION": region,
        SANDBOX_URL_ENV: endpoint_url,
    }


def sandbox_answers(endpoint_url: str) -> bool:
    """Whether an AWS endpoint answers at ``endpoint_url`` (an STS call, 2 s timeout)."""
    probe = Target("sandbox", DEFAULT_REGION, endpoint_url).client("sts", config=CHECK_CONFIG)
    try:
        probe.get_caller_identity()
    except (BotoCoreError, ClientError):
        return False
    return True


def running_sandbox_url() -> str | None:
    """The URL in ``DUALALB_SANDBOX_URL`` if a sandbox answers there, else ``None``."""
    url = os.environ.get(SANDBOX_URL_ENV)
    return url if url and sandbox_answers(url) else None


def _default_session() -> boto3.Session:
    """boto3's module-level session (what ``boto3.client`` uses), created on first use."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    return boto3.DEFAULT_SESSION


@functools.cache
def _profile_session(profile: str) -> boto3.Session:
    """One session per named profile (clients from one session share its loaded models)."""
    return boto3.Session(profile_name=profile)
