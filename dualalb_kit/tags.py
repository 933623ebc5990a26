"""The tags the kit's constructs put on deployed resources, and that its readers look for.

``discovery`` (metrics, traffic) and ``diagram`` find services by these tags instead of by
construct paths, on the sandbox and on AWS alike. No CDK import.
"""

SERVICE_TAG = "dualalb:service"
"""On each ECS service and target group: the task's (default container's) name."""
ALB_TAG = "dualalb:alb"
"""On each target group: ``external`` or ``internal``."""
SYNTHETIC_TAG = "dualalb:synthetic-traffic"
"""Set by ``generate_traffic`` on a stack's target groups and services: ``<start>/<end>``."""
