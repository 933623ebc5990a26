"""Container image assets in the sandbox.

An image asset needs no build in the sandbox: the kit records each one in the sandbox's ECR
under the tag the CDK CLI looks for, and the CLI then finds it published and skips ``docker
build`` (no Docker engine needed). The manifest it records names the asset's hash and holds no
layers; a sample image's manifest also names its role (annotation ``dualalb-kit.sample-role``),
so the live data plane can run it as a local process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PLACEHOLDERS = ("${AWS::AccountId}", "${AWS::Region}", "${AWS::Partition}")


def register_image_assets(assembly_dir: Path, ecr: Any, *, account: str, region: str) -> list[str]:
    """Record every Docker image asset of the assembly in the sandbox ECR; returns the tags added."""
    added = []
    for manifest_path in sorted(Path(assembly_dir).glob("*.assets.json")):
        images = json.loads(manifest_path.read_text()).get("dockerImages", {})
        for asset_hash, asset in images.items():
            for destination in asset["destinations"].values():
                repository = _resolve(destination["repositoryName"], account, region)
                if _has_tag(ecr, repository, destination["imageTag"]):
                    continue
                ecr.put_image(
                    repositoryName=repository,
                    imageTag=destination["imageTag"],
                    imageManifest=_placeholder_manifest(
                        asset_hash, _sample_role(manifest_path.parent, asset)
                    ),
                )
                added.append(destination["imageTag"])
    return added


def _resolve(name: str, account: str, region: str) -> str:
    for placeholder, value in zip(PLACEHOLDERS, (account, region, "aws"), strict=True):
        name = name.replace(placeholder, value)
    return name


def _has_tag(ecr: Any, repository: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def _sample_role(assembly_dir: Path, asset: dict) -> str | None:
    """The role of a sample image asset (its ``SERVICE_NAME`` build argument, on the sample's
    staged code), else None."""
    from ..samples import SAMPLE_ROLES

    source = asset.get("source", {})
    role = source.get("dockerBuildArgs", {}).get("SERVICE_NAME")
    staged = assembly_dir / source.get("directory", "")
    return role if role in SAMPLE_ROLES and (staged / "service.py").is_file() else None


def _placeholder_manifest(asset_hash: str, sample_role: str | None) -> str:
    annotations = {"dualalb-kit.sample-role": sample_role} if sample_role else {}
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "digest": f"sha256:{asset_hash}",
                "size": 0,
            },
            "layers": [],
            **({"annotations": annotations} if annotations else {}),
        }
    )
