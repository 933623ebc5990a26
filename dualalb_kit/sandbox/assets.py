"""Container image assets in the sandbox.

No container runs in the sandbox, so an image asset needs no build: the kit records each one
in the sandbox's ECR under the tag the CDK CLI looks for, and the CLI then finds it published
and skips ``docker build`` (no Docker engine needed). The manifest it records names the
asset's hash; it holds no layers.
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
                    imageManifest=_placeholder_manifest(asset_hash),
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


def _placeholder_manifest(asset_hash: str) -> str:
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
        }
    )
