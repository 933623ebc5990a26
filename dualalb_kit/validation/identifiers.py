"""AWS's own formats (CloudFormation, EC2, ACM, Route 53, regions); each check names its field."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping

from ..errors import ValidationError

_DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_dns_name(field: str, name: str, *, single_label: bool = False) -> None:
    """A DNS name (``svc.local``) or, with ``single_label``, one label (``internal``)."""
    labels = name.lower().rstrip(".").split(".")
    if single_label and len(labels) != 1:
        raise ValidationError(field, f"{name!r} must be one DNS label (letters, digits, hyphens)")
    if not name or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise ValidationError(field, f"{name!r} is not a DNS name")


STACK_NAME_MAX = 128
"""CloudFormation's limit on a stack name, in characters."""

_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]*")

_ACCOUNT = re.compile(r"\d{12}")

_CLUSTER_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")

_RESOURCE_ID = {
    "vpc": re.compile(r"vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
    "subnet": re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
}

_ACM_CERTIFICATE_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:acm:[a-z]{2}(?:-[a-z]+)+-\d:\d{12}:certificate/[A-Za-z0-9-]+"
)


def check_stack_name(field: str, name: str) -> None:
    """CloudFormation's rule: a letter, then ASCII letters, digits and hyphens, at most 128 characters."""
    if len(name) > STACK_NAME_MAX:
        raise ValidationError(
            field, f"is {len(name)} characters long; a stack name has at most {STACK_NAME_MAX}"
        )
    if not _STACK_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not a stack name (an ASCII letter, then ASCII letters, digits, hyphens)"
        )


def check_cluster_name(field: str, name: str) -> None:
    """ECS's rule for a cluster name: 1-255 ASCII letters, digits, hyphens and underscores."""
    if not _CLUSTER_NAME.fullmatch(name):
        raise ValidationError(
            field, f"{name!r} is not an ECS cluster name (1-255 letters, digits, hyphens, underscores)"
        )


def check_account(field: str, account: str) -> None:
    """An AWS account id: exactly 12 digits."""
    if not _ACCOUNT.fullmatch(account):
        raise ValidationError(field, f"{account!r} is not an AWS account id (12 digits)")


def check_resource_id(field: str, kind: str, resource_id: str) -> None:
    """An EC2 id of ``kind`` (``vpc``, ``subnet``): the prefix, then 8 or 17 lowercase hex digits."""
    if not _RESOURCE_ID[kind].fullmatch(resource_id):
        raise ValidationError(field, f"{resource_id!r} is not a {kind} id ({kind}- and 8 or 17 hex digits)")


def check_certificate_arn(field: str, arn: str) -> None:
    """An ACM certificate ARN: ``arn:aws:acm:REGION:ACCOUNT:certificate/ID``."""
    if not _ACM_CERTIFICATE_ARN.fullmatch(arn):
        raise ValidationError(
            field, f"{arn!r} is not an ACM certificate ARN (arn:aws:acm:REGION:ACCOUNT:certificate/ID)"
        )


@functools.cache
def region_partitions() -> Mapping[str, str]:
    """Every region of every partition in the endpoint data botocore ships, to its partition
    (``aws``, ``aws-cn``, ...); read on first use, as JSON (botocore's loader would import its
    HTTP stack too)."""
    from importlib.resources import files

    endpoints = json.loads(files("botocore").joinpath("data", "endpoints.json").read_text())
    return {
        region: partition["partition"]
        for partition in endpoints["partitions"]
        for region in partition["regions"]
    }


def known_regions() -> frozenset[str]:
    """Every region botocore knows."""
    return frozenset(region_partitions())


def check_certificate_region(field: str, arn: str, region: str) -> None:
    """An ACM certificate ARN in the stack's ``region`` and its partition: ELB takes only
    certificates of its own region."""
    partition, _, arn_region = arn.split(":")[1:4]
    expected = region_partitions().get(region, "aws")
    if (partition, arn_region) != (expected, region):
        raise ValidationError(
            field,
            f"the certificate is in {partition}:{arn_region}, the stack in {expected}:{region}; "
            "ELB uses only ACM certificates of its own region (request or import one there)",
        )


def check_region(field: str, region: str) -> None:
    """A region botocore knows (``us-east-1``, ``eu-west-1``, ...)."""
    if region not in known_regions():
        raise ValidationError(field, f"{region!r} is not an AWS region botocore knows (e.g. us-east-1)")
