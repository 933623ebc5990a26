"""The benchmark's Python peer (params/sample.yaml written on aws-cdk-lib, no kit) synthesizes the
same resources as ``dualalb-kit synth``, within its documented differences."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from dualalb_kit.spec import load_spec
from dualalb_kit.synth import synth

ROOT = Path(__file__).resolve().parent.parent
PEER = ROOT / "benchmarks" / "py_peer" / "sample_stack.py"


def differences_module():
    spec = importlib.util.spec_from_file_location("py_peer_differences", PEER.parent / "differences.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_python_peer_synthesizes_the_kits_resource_types_and_counts(tmp_path):
    differences = differences_module()
    subprocess.run([sys.executable, str(PEER), str(tmp_path / "peer")], check=True, capture_output=True)
    kit = synth(load_spec(ROOT / "params" / "sample.yaml"), tmp_path / "kit", nag=False)
    peer_template = json.loads((tmp_path / "peer" / kit.template_path.name).read_text())

    assert differences.resource_differences(peer_template, kit.template) == differences.KNOWN_DIFFERENCES
    assert (len(peer_template["Resources"]), len(kit.template["Resources"])) == (87, 87)
    assert sorted(peer_template["Outputs"]) == sorted(kit.template["Outputs"])


def test_resource_differences_counts_each_type_both_ways():
    differences = differences_module()

    def template(*kinds):
        return {"Resources": {f"R{i}": {"Type": kind} for i, kind in enumerate(kinds)}}

    found = differences.resource_differences(
        template("AWS::EC2::VPC", "AWS::IAM::Role", "AWS::IAM::Role"),
        template("AWS::EC2::VPC", "AWS::IAM::Role", "AWS::S3::Bucket"),
    )
    assert found == {"AWS::IAM::Role": 1, "AWS::S3::Bucket": -1}
