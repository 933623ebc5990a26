"""The sandbox follows CloudFormation's update semantics for lists of nested properties: a
``ScheduledActions`` list that an update shortens or drops leaves no action behind."""

from __future__ import annotations

import json

from dualalb_kit.target import as_target

STACK = "scheduled-updates"
RESOURCE_ID = "service/cluster/web"


def _template(*crons: str) -> str:
    properties = {
        "ServiceNamespace": "ecs",
        "ResourceId": RESOURCE_ID,
        "ScalableDimension": "ecs:service:DesiredCount",
        "MinCapacity": 1,
        "MaxCapacity": 4,
    }
    if crons:
        properties["ScheduledActions"] = [
            {
                "ScheduledActionName": f"action-{index}",
                "Schedule": f"cron({cron})",
                "ScalableTargetAction": {"MinCapacity": 2, "MaxCapacity": 4},
            }
            for index, cron in enumerate(crons)
        ]
    target = {"Type": "AWS::ApplicationAutoScaling::ScalableTarget", "Properties": properties}
    return json.dumps({"Resources": {"Target": target}})


def test_scheduled_actions_an_update_removes_are_deleted(sandbox):
    cloudformation = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("cloudformation")
    autoscaling = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client(
        "application-autoscaling"
    )

    def actions() -> list[tuple[str, str]]:
        found = autoscaling.describe_scheduled_actions(ServiceNamespace="ecs", ResourceId=RESOURCE_ID)
        return sorted((a["ScheduledActionName"], a["Schedule"]) for a in found["ScheduledActions"])

    def apply(verb, *crons: str) -> None:
        verb(StackName=STACK, TemplateBody=_template(*crons))
        waiter = "stack_create_complete" if verb == cloudformation.create_stack else "stack_update_complete"
        cloudformation.get_waiter(waiter).wait(StackName=STACK, WaiterConfig={"Delay": 1})

    ecs = as_target(endpoint_url=sandbox.endpoint_url, region="us-east-1").client("ecs")
    ecs.create_cluster(clusterName="cluster")
    family = ecs.register_task_definition(
        family="web", containerDefinitions=[{"name": "web", "image": "x", "memory": 512}]
    )
    ecs.create_service(
        cluster="cluster",
        serviceName="web",
        taskDefinition=family["taskDefinition"]["taskDefinitionArn"],
        desiredCount=1,
    )
    apply(cloudformation.create_stack, "0 8 ? * MON-FRI *", "0 20 ? * MON-FRI *")
    try:
        assert actions() == [
            ("action-0", "cron(0 8 ? * MON-FRI *)"),
            ("action-1", "cron(0 20 ? * MON-FRI *)"),
        ]
        apply(cloudformation.update_stack, "0 9 ? * MON-FRI *")
        assert actions() == [("action-0", "cron(0 9 ? * MON-FRI *)")]
        apply(cloudformation.update_stack)
        assert actions() == []
    finally:
        cloudformation.delete_stack(StackName=STACK)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=STACK, WaiterConfig={"Delay": 1})
        ecs.delete_service(cluster="cluster", service="web", force=True)
        ecs.delete_cluster(cluster="cluster")
