"""The library functions the notebooks call instead of computing in cells.

spec_from_parameters, use_target, Synthesis.outputs_table, the template tables, write_artifacts and
write_summary, stack_status / ensure_deployed, and discovery's tables of a deployed stack.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import nbformat
import pandas as pd
import pytest

import dualalb_kit  # noqa: F401  (points jsii at the kit's Node before aws_cdk loads)
from dualalb_kit import ValidationError
from dualalb_kit.report import Step, write_artifacts, write_report, write_summary
from dualalb_kit.sandbox import Sandbox, sandbox_environment, use_target
from dualalb_kit.spec import SAMPLE_PARAMS, load_spec, spec_from_parameters
from dualalb_kit.synth import synth
from dualalb_kit.target import SandboxNotRunning, as_target
from dualalb_kit.template import (
    container_variables,
    database_table,
    deletion_policies,
    efs_volumes,
    ingress_rules,
    secret_readers,
)

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
WORDPRESS_PARAMS = ROOT / "params" / "wordpress.yaml"
RUN_OPTIONS = {
    "target": "sandbox",
    "endpoint_url": "http://localhost:1",
    "start": "2025-01-01T00:00:00",
    "end": None,
    "results_path": "/tmp/x.json",
    "outdir": None,
}


def sandbox_session():
    """A boto3 session on the sandbox's dummy credentials (the process environment has none)."""
    import boto3

    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


def parameters_cell(notebook: str) -> dict:
    """The variables a notebook's ``parameters`` cell defines, as papermill would start from."""
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    [cell] = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    namespace: dict = {}
    exec(cell.source, namespace)
    return namespace


# -- spec_from_parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notebook", "params"),
    [
        ("01_design_and_synth.ipynb", SAMPLE_PARAMS),
        ("02_deploy.ipynb", SAMPLE_PARAMS),
        ("03_scaling_analysis.ipynb", SAMPLE_PARAMS),
        ("04_wordpress.ipynb", WORDPRESS_PARAMS),
    ],
)
def test_each_notebooks_default_parameters_make_the_params_files_spec(notebook, params):
    assert spec_from_parameters(parameters_cell(notebook)) == load_spec(params)


def test_run_options_and_other_names_are_ignored_and_none_takes_the_default():
    namespace = {
        **RUN_OPTIONS,
        "stack_name": "mine",
        "spot": None,
        "account": None,
        "tasks": [{"name": "web", "image": "nginx", "external": {"port": 80}}],
        "pd": pd,
        "In": ["..."],
    }
    spec = spec_from_parameters(namespace)
    assert (spec.stack_name, spec.spot, spec.account, spec.region) == ("mine", False, None, "us-east-1")
    assert [(task.name, task.external.port) for task in spec.tasks] == [("web", 80)]


def test_tasks_none_means_the_sample_services_for_dualalb_and_none_for_wordpress():
    sample = spec_from_parameters({"stack_name": "a", "tasks": None})
    assert [task.name for task in sample.tasks] == ["order", "customer", "product"]
    assert sample.tasks == load_spec(SAMPLE_PARAMS).tasks
    wordpress = spec_from_parameters({"stack_name": "b", "pattern": "wordpress", "tasks": None})
    assert wordpress.tasks == [] and wordpress.pattern == "wordpress"


def test_a_bad_parameter_names_its_field():
    with pytest.raises(ValidationError) as raised:
        spec_from_parameters({"stack_name": "a", "subnets": "somewhere", "target": "aws"})
    assert raised.value.field == "subnets"


# -- use_target --------------------------------------------------------------------------------------


@pytest.fixture
def clean_environment(monkeypatch):
    """The sandbox variables unset for the test and restored afterwards."""
    for name in sandbox_environment("http://localhost:1"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_use_target_for_aws_starts_nothing_and_changes_nothing(clean_environment):
    import os

    before = dict(os.environ)
    target, own = use_target("aws", "http://localhost:1", region="eu-west-1")
    assert (target.kind, target.region, target.endpoint_url, own) == ("aws", "eu-west-1", None, None)
    assert dict(os.environ) == before


def test_use_target_reuses_the_running_sandbox_and_leaves_the_environment_alone(clean_environment, sandbox):
    import os

    clean_environment.setenv("DUALALB_SANDBOX_URL", sandbox.endpoint_url)
    before = dict(os.environ)
    target, own = use_target("sandbox", region="eu-west-1")
    assert (target.kind, target.endpoint_url, target.region, own) == (
        "sandbox",
        sandbox.endpoint_url,
        "eu-west-1",
        None,
    )
    assert dict(os.environ) == before
    with pytest.raises(SandboxNotRunning):  # a URL given is checked, not replaced by the running one
        use_target("sandbox", "http://127.0.0.1:9")
    assert use_target(target) == (target, None)


def test_use_target_starts_a_sandbox_when_none_answers(clean_environment):
    from dualalb_kit.sandbox.server import sandbox_answers

    target, own = use_target("sandbox")
    try:
        assert isinstance(own, Sandbox) and target.endpoint_url == own.endpoint_url
        assert sandbox_answers(target.endpoint_url)
    finally:
        own.stop()
    assert not sandbox_answers(target.endpoint_url)


def test_use_target_names_a_wrong_target():
    with pytest.raises(ValidationError) as raised:
        use_target("somewhere")
    assert raised.value.field == "target"


# -- the synthesized template ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_synthesis(tmp_path_factory):
    return synth(load_spec(SAMPLE_PARAMS), tmp_path_factory.mktemp("sample"), nag=False)


@pytest.fixture(scope="module")
def wordpress_templates(tmp_path_factory):
    """params/wordpress.yaml (removal_policy destroy) and the same without a removal policy."""
    destroy = load_spec(WORDPRESS_PARAMS)
    kept = destroy.model_copy(
        update={"wordpress": destroy.wordpress.model_copy(update={"removal_policy": None})}
    )
    return {
        name: synth(spec, tmp_path_factory.mktemp(name), nag=False).template
        for name, spec in (("destroy", destroy), ("kept", kept))
    }


def test_outputs_table_marks_deploy_time_values(sample_synthesis):
    table = sample_synthesis.outputs_table()
    assert table.to_dict(orient="records") == [
        {"output": "ExternalEndpoint", "value": "(known after deploy)"},
        {"output": "ExternalEndpointPrivate", "value": "http://external.svc.local"},
        {"output": "InternalEndpoint", "value": "(known after deploy)"},
        {"output": "InternalEndpointPrivate", "value": "http://internal.svc.local"},
    ]


def test_database_table_reads_the_serverless_v2_cluster_and_its_writer(wordpress_templates):
    table = database_table(wordpress_templates["destroy"]).set_index("type")
    cluster, writer = table.loc["AWS::RDS::DBCluster"], table.loc["AWS::RDS::DBInstance"]
    assert (cluster["engine"], cluster["database"], cluster["min_acu"], cluster["max_acu"]) == (
        "aurora-mysql",
        "wordpress",
        0.5,
        4,
    )
    assert cluster["version"].startswith("8.0.mysql_aurora.3") and cluster["encrypted"] is True
    assert cluster["backup_days"] == 7
    assert (writer["instance_class"], writer["version"], writer["engine"]) == (
        "db.serverless",
        "(the cluster's)",
        "aurora-mysql",
    )


def test_credentials_are_secret_references_read_only_by_the_execution_role(wordpress_templates):
    template = wordpress_templates["destroy"]
    variables = container_variables(template)
    secrets = variables[variables["kind"] == "secret"]
    assert sorted(secrets["variable"]) == ["WORDPRESS_DB_HOST", "WORDPRESS_DB_PASSWORD", "WORDPRESS_DB_USER"]
    [attachment] = [
        lid
        for lid, r in template["Resources"].items()
        if r["Type"] == "AWS::SecretsManager::SecretTargetAttachment"
    ]
    assert sorted(secrets["value"]) == [
        f"{{{attachment}}}:{key}::" for key in ("host", "password", "username")
    ]
    environment = variables[variables["kind"] == "environment"]
    assert dict(zip(environment["variable"], environment["value"], strict=True)) == {
        "WORDPRESS_DB_NAME": "wordpress"
    }
    [task_definition] = [
        lid for lid, r in template["Resources"].items() if r["Type"] == "AWS::ECS::TaskDefinition"
    ]
    readers = secret_readers(template)
    execution_role = template["Resources"][task_definition]["Properties"]["ExecutionRoleArn"]["Fn::GetAtt"][0]
    assert readers[["role", "role_of", "secret"]].to_dict(orient="records") == [
        {
            "role": execution_role,
            "role_of": f"execution role of {task_definition}",
            "secret": f"{{{attachment}}}",
        }
    ]
    assert "secretsmanager:GetSecretValue" in readers["actions"].iloc[0]


def test_efs_volume_is_encrypted_both_ways_and_mounted_at_var_www_html(wordpress_templates):
    [row] = efs_volumes(wordpress_templates["destroy"]).to_dict(orient="records")
    assert {key: row[key] for key in row if key not in ("task_definition", "file_system")} == {
        "container": "wordpress",
        "container_path": "/var/www/html",
        "read_only": False,
        "encrypted_at_rest": True,
        "transit_encryption": "ENABLED",
        "iam_authorization": "ENABLED",
    }
    assert row["file_system"].startswith("WordPressFileSystem")


def test_ingress_rules_by_source(wordpress_templates):
    rules = ingress_rules(wordpress_templates["destroy"])
    service_group = "dualalb-wordpress/WordPress/Service/wordpressService/SecurityGroup"
    by_target = {row.into: row for row in rules.itertuples()}
    database = by_target["MySQL of dualalb-wordpress/WordPress/Database"]
    assert (database.source, database.protocol) == (service_group, "tcp")
    assert database.port.startswith("{WordPressDatabaseCluster") and database.port.endswith(".Endpoint.Port}")
    nfs = by_target["NFS of dualalb-wordpress/WordPress"]
    assert (nfs.port, nfs.source) == (2049, service_group)
    alb = "external ALB of dualalb-wordpress/WordPress/Service"
    assert (by_target[service_group].port, by_target[service_group].source) == (80, alb)
    assert (by_target[alb].port, by_target[alb].source) == (80, "0.0.0.0/0")
    assert len(rules) == 4


def test_ingress_port_ranges_all_traffic_and_unknown_groups():
    template = {
        "Resources": {
            "Group": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "web",
                    "SecurityGroupIngress": [
                        {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8080, "CidrIp": "10.0.0.0/8"},
                        {"IpProtocol": "-1", "CidrIpv6": "::/0"},
                    ],
                },
            },
            "Rule": {
                "Type": "AWS::EC2::SecurityGroupIngress",
                "Properties": {
                    "GroupId": {"Fn::GetAtt": ["Group", "GroupId"]},
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "SourceSecurityGroupId": "sg-0123",
                },
            },
        }
    }
    assert ingress_rules(template)[["into", "port", "protocol", "source"]].values.tolist() == [
        ["web", 443, "tcp", "sg-0123"],
        ["web", "8000-8080", "tcp", "10.0.0.0/8"],
        ["web", "all", "-1", "::/0"],
    ]


def test_deletion_policies_keep_the_data_unless_removal_policy_is_destroy(wordpress_templates):
    def policies(name: str) -> dict[str, str]:
        table = deletion_policies(wordpress_templates[name])
        # The VPC's flow log and the Spot termination handler's log are operations logs, not the site's data.
        wordpress = table[~table["resource"].str.contains("FlowLog|SpotTerminationHandler")]
        return dict(zip(wordpress["type"], wordpress["on_delete"], strict=False))

    assert policies("kept") == {
        "AWS::SecretsManager::Secret": "Retain",
        "AWS::RDS::DBCluster": "Snapshot",
        "AWS::RDS::DBInstance": "Delete",  # a cluster member: the cluster's snapshot holds the data
        "AWS::EFS::FileSystem": "Retain",
        "AWS::Logs::LogGroup": "Retain",
    }
    assert set(policies("destroy").values()) == {"Delete"}
    everything = deletion_policies(wordpress_templates["kept"], None)
    assert len(everything) == len(wordpress_templates["kept"]["Resources"])


def html_cells(path: Path) -> tuple[list[str], list[str]]:
    """An HTML table's header cells and body cells, in order."""
    text = path.read_text()
    return re.findall(r"<th>(.*?)</th>", text), re.findall(r"<td>(.*?)</td>", text)


# -- the report's files -----------------------------------------------------------------------------


def test_write_artifacts_and_summary_are_what_the_report_reads(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    figure.subplots().plot([0, 1], [1, 2])
    per_service = pd.DataFrame({"cost_usd": [1.234, 2.0]}, index=pd.Index(["api", "web"], name="service"))
    simulation = pd.DataFrame({"request_per_target": [500, 1000], "max_capacity": [4, 10]})
    names = write_artifacts(
        tmp_path / "assets", {"load": figure}, {"current_policy": per_service, "simulation": simulation}
    )
    assert names == {"figures": ["load.png"], "tables": ["current_policy.html", "simulation.html"]}
    assert (tmp_path / "assets" / "load.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html_cells(tmp_path / "assets" / "current_policy.html") == (
        ["service", "cost_usd"],
        ["api", "1.234", "web", "2.000"],
    )
    assert html_cells(tmp_path / "assets" / "simulation.html")[0] == ["request_per_target", "max_capacity"]

    results = tmp_path / "run" / "03.json"
    write_summary(None, {"ignored": True})
    write_summary(
        results, {"window": [pd.Timestamp("2025-01-01", tz="UTC"), "end"], "synthetic": True, **names}
    )
    summary = json.loads(results.read_text())
    assert summary["window"] == ["2025-01-01 00:00:00+00:00", "end"]
    report = write_report(
        tmp_path / "report.html",
        [Step("3", {"executed": str(results.with_suffix(".ipynb")), "status": "passed"})],
        tmp_path / "assets",
    ).read_text()
    assert report.count("src='data:image/png;base64,") == 1
    assert "What-if simulation" in report and "<th>service</th>" in report


# -- a deployed stack ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed_sample(sandbox, tmp_path_factory):
    """params/sample.yaml as ``helpers-sample``, order on a FARGATE base of 1 plus 1:3 spot, deployed
    by ``ensure_deployed`` (which reports whether it deployed)."""
    from dualalb_kit.deploy import destroy, ensure_deployed

    spec = load_spec(SAMPLE_PARAMS).model_copy(update={"stack_name": "helpers-sample"}, deep=True)
    spec.tasks[0].capacity = [
        {"provider": "FARGATE", "base": 1, "weight": 1},
        {"provider": "FARGATE_SPOT", "weight": 3},
    ]
    outdir = tmp_path_factory.mktemp("helpers-sample")
    first = ensure_deployed(
        spec, outdir=outdir, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
    )
    second = ensure_deployed(
        spec, outdir=outdir, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
    )
    yield spec, (first, second)
    destroy(spec, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))


@pytest.mark.sandbox
def test_ensure_deployed_deploys_only_a_missing_stack(deployed_sample, sandbox):
    from dualalb_kit.deploy import stack_status

    spec, (first, second) = deployed_sample
    assert (first, second) == (True, False)
    assert (
        stack_status(spec.stack_name, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
        == "CREATE_COMPLETE"
    )
    assert (
        stack_status("helpers-never-deployed", target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))
        is None
    )


@pytest.mark.sandbox
def test_services_table_shows_desired_counts_and_capacity_mixes(deployed_sample, sandbox):
    from dualalb_kit.discovery import services_table

    spec, _ = deployed_sample
    table = services_table(
        spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
    )
    assert table.drop(columns="cluster").to_dict(orient="records") == [
        {"service": "customer", "desired_count": 2, "capacity": "FARGATE_SPOT x1", "load_balancers": 1},
        {
            "service": "order",
            "desired_count": 2,
            "capacity": "FARGATE x1 (base 1), FARGATE_SPOT x3",
            "load_balancers": 2,
        },
        {"service": "product", "desired_count": 2, "capacity": "FARGATE_SPOT x1", "load_balancers": 1},
    ]
    assert table["cluster"].nunique() == 1


def test_only_a_missing_stack_counts_as_missing(monkeypatch, sandbox, tmp_path):
    """AccessDenied (an AWS-only answer, hence the Stubber) stops ensure_deployed before any deploy."""
    import boto3
    from botocore.stub import Stubber

    from dualalb_kit import deploy

    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    stubber.add_client_error("describe_stacks", "AccessDenied", "not authorized to DescribeStacks")
    stubber.activate()
    real_client = deploy.Target.client
    monkeypatch.setattr(
        deploy.Target,
        "client",
        lambda self, service, **options: (
            client if service == "cloudformation" else real_client(self, service, **options)
        ),
    )
    monkeypatch.setattr(deploy, "deploy", lambda *args, **kwargs: pytest.fail("deployed"))
    spec = load_spec(SAMPLE_PARAMS)
    with pytest.raises(deploy.TargetError, match="AccessDenied"):
        deploy.ensure_deployed(
            spec, outdir=tmp_path, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
        )
    stubber.assert_no_pending_responses()


def test_stack_status_needs_a_sandbox_that_answers():
    from dualalb_kit.deploy import SandboxNotRunning, stack_status
    from dualalb_kit.sandbox.server import free_port

    with pytest.raises(SandboxNotRunning, match="no sandbox answers"):
        stack_status("anything", target=as_target("sandbox", endpoint_url=f"http://localhost:{free_port()}"))


@pytest.fixture(scope="module")
def deployed_wordpress(sandbox, tmp_path_factory):
    """params/wordpress.yaml as ``helpers-wordpress``: its outputs."""
    from dualalb_kit.deploy import deploy, destroy

    spec = load_spec(WORDPRESS_PARAMS).model_copy(update={"stack_name": "helpers-wordpress"})
    synthesis = synth(spec, tmp_path_factory.mktemp("helpers-wordpress"), nag=False)
    outputs = deploy(
        synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url)
    )
    yield spec, outputs
    destroy(synthesis, progress=False, target=as_target("sandbox", endpoint_url=sandbox.endpoint_url))


@pytest.mark.sandbox
def test_database_tables_describe_the_deployed_cluster_and_writer(deployed_wordpress, sandbox):
    from dualalb_kit.discovery import database_clusters_table, database_instances_table

    spec, _ = deployed_wordpress
    [cluster] = database_clusters_table(
        spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
    ).to_dict(orient="records")
    assert {key: cluster[key] for key in ("engine", "database", "min_acu", "max_acu", "encrypted")} == {
        "engine": "aurora-mysql",
        "database": "wordpress",
        "min_acu": 0.5,
        "max_acu": 4.0,
        "encrypted": True,
    }
    assert cluster["backup_days"] == 7 and cluster["version"].startswith("8.0.mysql_aurora.3")
    [writer] = database_instances_table(
        spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
    ).to_dict(orient="records")
    assert (writer["cluster"], writer["instance_class"], writer["engine"]) == (
        cluster["cluster"],
        "db.serverless",
        "aurora-mysql",
    )


@pytest.mark.sandbox
def test_file_system_and_secret_tables_match_the_outputs(deployed_wordpress, sandbox):
    from dualalb_kit.discovery import file_systems_table, secrets_table

    spec, outputs = deployed_wordpress
    file_systems = file_systems_table(
        spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
    )
    assert file_systems[["file_system", "encrypted"]].values.tolist() == [[outputs["FileSystemId"], True]]
    secrets = secrets_table(
        spec.stack_name, target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
    )
    assert list(secrets.columns) == ["name", "arn", "rotation"]
    assert secrets[["arn", "rotation"]].values.tolist() == [[outputs["DatabaseSecretArn"], False]]


def test_discovery_tables_name_a_missing_stack(sandbox):
    from dualalb_kit.discovery import database_clusters_table

    with pytest.raises(ValidationError) as raised:
        database_clusters_table(
            "helpers-missing", target=as_target(endpoint_url=sandbox.endpoint_url, session=sandbox_session())
        )
    assert raised.value.field == "stack_name" and "helpers-missing" in str(raised.value)


@pytest.mark.parametrize("notebook", sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_stay_thin_and_are_committed_without_outputs(notebook):
    cells = nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
    code = [cell for cell in cells if cell.cell_type == "code"]
    assert [cell for cell in code if cell.outputs or cell.execution_count is not None] == []
    defining = [cell.source for cell in code if re.search(r"^\s*(def|class) ", cell.source, re.MULTILINE)]
    assert defining == []
    assert sum(cell.cell_type == "markdown" for cell in cells) >= len(code) // 2
