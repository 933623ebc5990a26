"""Image assets in the sandbox: recorded in its ECR so the CDK CLI deploys without Docker."""

from __future__ import annotations

import json

import boto3
import pytest

from dualalb_kit.deploy import deploy
from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth
from dualalb_kit.target import as_target


@pytest.mark.sandbox
def test_sample_images_deploy_without_docker(sandbox, tmp_path):
    spec = load_spec("params/sample.yaml").model_copy(update={"stack_name": "assets-sample"})
    result = synth(spec, tmp_path / "assembly", nag=False)
    (manifest,) = tmp_path.joinpath("assembly").glob("*.assets.json")
    tags = {
        destination["imageTag"]
        for image in json.loads(manifest.read_text())["dockerImages"].values()
        for destination in image["destinations"].values()
    }
    assert len(tags) == 3  # one image asset per sample role

    outputs = deploy(result, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))

    assert outputs["ExternalEndpointPrivate"] == "http://external.svc.local"
    session = boto3.Session(**{k: v for k, v in _credentials(sandbox).items()})
    ecr = session.client("ecr", endpoint_url=sandbox.endpoint_url)
    repository = "cdk-hnb659fds-container-assets-123456789012-us-east-1"
    stored = {image["imageTag"] for image in ecr.list_images(repositoryName=repository)["imageIds"]}
    assert tags <= stored
    cloudformation = session.client("cloudformation", endpoint_url=sandbox.endpoint_url)
    (stack,) = cloudformation.describe_stacks(StackName="assets-sample")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    images = {
        definition["containerDefinitions"][0]["image"]
        for definition in (
            session.client("ecs", endpoint_url=sandbox.endpoint_url).describe_task_definition(
                taskDefinition=arn
            )["taskDefinition"]
            for arn in session.client("ecs", endpoint_url=sandbox.endpoint_url).list_task_definitions()[
                "taskDefinitionArns"
            ]
            if "assets-sample" in arn
        )
    }
    assert {image.rsplit(":", 1)[1] for image in images} == tags


def _credentials(sandbox) -> dict[str, str]:
    environment = sandbox.environment
    return {
        "aws_access_key_id": environment["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": environment["AWS_SECRET_ACCESS_KEY"],
        "region_name": environment["AWS_REGION"],
    }
