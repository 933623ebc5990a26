"""``dualalb-kit sandbox``: serve a local AWS endpoint, list a live sandbox's URLs, or interrupt a
Fargate Spot task in it (:mod:`dualalb_kit.sandbox`)."""

from __future__ import annotations

import argparse

from .. import arguments as kinds
from ..errors import ValidationError
from .common import command, target_errors
from .where import sandbox_target


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add to ``commands``: ``sandbox`` (serve, ``urls``, ``interrupt``)."""
    sandbox = command(commands, "sandbox", _sandbox, "serve a local AWS endpoint on 127.0.0.1 until Ctrl-C")
    sandbox.add_argument(
        "action",
        nargs="?",
        choices=("urls", "interrupt"),
        help="urls: list the local URL of every load balancer listener a live sandbox serves; "
        "interrupt SERVICE: a Fargate Spot interruption of one of the service's tasks "
        "(default: serve a sandbox)",
    )
    sandbox.add_argument(
        "service",
        nargs="?",
        metavar="SERVICE",
        help="with interrupt: the ECS service's name, or the params file's task name",
    )
    sandbox.add_argument(
        "--task", help="with interrupt: the task ID or ARN (default: the service's oldest Spot task)"
    )
    sandbox.add_argument("--port", type=kinds.port, help="port to listen on (default: a free one)")
    sandbox.add_argument(
        "--endpoint-url", help="with urls or interrupt: the sandbox's URL (default: $DUALALB_SANDBOX_URL)"
    )
    sandbox.add_argument(
        "--live",
        action="store_true",
        help="run what is deployed: tasks as local processes, HAProxy as every ALB/NLB (needs haproxy)",
    )


def _sandbox(args: argparse.Namespace) -> int:
    from ..sandbox.server import serve

    if args.action != "interrupt" and (args.service is not None or args.task is not None):
        raise ValidationError("SERVICE" if args.service is not None else "--task", "only with interrupt")
    if args.action == "urls":
        return _urls(args)
    if args.action == "interrupt":
        return _interrupt(args)
    if args.port is not None:
        _check_port_free("--port", args.port)
    serve(args.port, live=args.live)
    return 0


@target_errors
def _urls(args: argparse.Namespace) -> int:
    from ..sandbox.live.urls import is_live, local_urls, sandbox_ca_file

    target = sandbox_target(args)
    if not is_live(target.client("ssm")):
        print(
            f"the sandbox at {target.endpoint_url} runs no data plane: "
            "start one with `dualalb-kit sandbox --live`"
        )
        return 1
    urls = local_urls(target.client("elbv2"))
    for url in urls:
        print(f"{url.load_balancer} :{url.port}  {url.url}")
    if any(url.url.startswith("https://") for url in urls):
        print(f"HTTPS certificate authority (verify with it): {sandbox_ca_file(target)}")
    return 0


@target_errors
def _interrupt(args: argparse.Namespace) -> int:
    from ..sandbox.live.interruptions import request_interruption

    if not args.service:
        raise ValidationError(
            "SERVICE", "name the service to interrupt: `dualalb-kit sandbox interrupt SERVICE`"
        )
    task_arn = request_interruption(sandbox_target(args), args.service, args.task)
    print(
        f"interrupting task {task_arn.rsplit('/', 1)[-1]} of {args.service} (Fargate Spot): the live "
        "sandbox sends its event and SIGTERM within 2 s, and starts a replacement; "
        "`aws ecs describe-tasks` shows it STOPPED with stopCode SpotInterruption once it exits"
    )
    return 0


def _check_port_free(field: str, port: int) -> None:
    """A port the sandbox can listen on: 1-65535 and free on 127.0.0.1 (else a ValidationError)."""
    import socket

    from ..validation import check_port

    check_port(field, port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ValidationError(field, f"{port} is not free on 127.0.0.1 ({exc.strerror})") from None
