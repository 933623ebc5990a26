// params/sample.yaml written directly on aws-cdk-lib: the baseline that bench_synth.py times
// against `dualalb-kit synth`. Same resources: a new VPC with flow logs, a cluster with the
// Fargate providers, two ALBs, three spot services, target tracking, a private zone, outputs and
// the Spot termination handler (a rule on the cluster's interruptions and a function packaging
// dualalb_kit/handlers).
// BENCH_PHASES=1 prints where the run goes (JSON on stderr): bench_synth.py compares it with the kit's.
const phases = { start: performance.now() }; // milliseconds since Node began
const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const elbv2 = require('aws-cdk-lib/aws-elasticloadbalancingv2');
const events = require('aws-cdk-lib/aws-events');
const eventsTargets = require('aws-cdk-lib/aws-events-targets');
const iam = require('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda');
const path = require('path');
const logs = require('aws-cdk-lib/aws-logs');
const route53 = require('aws-cdk-lib/aws-route53');
const targets = require('aws-cdk-lib/aws-route53-targets');

phases.loaded = performance.now();
const outdir = process.argv[2] || 'cdk.out';
const app = new cdk.App({ outdir });
const stack = new cdk.Stack(app, 'dualalb-sample');
const scope = stack;

const vpc = new ec2.Vpc(scope, 'Vpc', { ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'), maxAzs: 3, natGateways: 1 });
vpc.addFlowLog('FlowLog');
const cluster = new ecs.Cluster(scope, 'Cluster', {
  vpc, enableFargateCapacityProviders: true, containerInsightsV2: ecs.ContainerInsights.ENABLED,
});
function alb(side) {
  const securityGroup = new ec2.SecurityGroup(scope, `${side}AlbSecurityGroup`, { vpc, allowAllOutbound: false });
  return new elbv2.ApplicationLoadBalancer(scope, `${side}Alb`, {
    vpc, internetFacing: side === 'External', securityGroup, dropInvalidHeaderFields: true,
  });
}
const external = alb('External');
const internal = alb('Internal');
const tasks = [
  { name: 'order', external: 80, internal: 80, max: 20 },
  { name: 'customer', internal: 8080, max: 10 },
  { name: 'product', internal: 9090, max: 10 },
];
const services = [];
const targetGroups = [];
for (const t of tasks) {
  const task = new ecs.FargateTaskDefinition(stack, `${t.name}Task`, { cpu: 256, memoryLimitMiB: 512 });
  const logGroup = new logs.LogGroup(stack, `${t.name}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
  task.addContainer(t.name, {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    portMappings: [{ containerPort: 80 }],
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: t.name, logGroup }),
  });
  const service = new ecs.FargateService(scope, `${t.name}Service`, {
    cluster, taskDefinition: task, desiredCount: 2,
    capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
    circuitBreaker: { enable: true, rollback: true }, minHealthyPercent: 100, maxHealthyPercent: 200,
  });
  services.push(service);
  const scaling = service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: t.max });
  scaling.scaleOnCpuUtilization('CpuScaling', { targetUtilizationPercent: 50 });
  for (const [side, lb, port] of [['external', external, t.external], ['internal', internal, t.internal]]) {
    if (!port) continue;
    const listener = lb.addListener(`Listener${port}`, { port, protocol: elbv2.ApplicationProtocol.HTTP, open: side === 'external' });
    if (side === 'internal') lb.connections.allowFrom(ec2.Peer.ipv4('10.0.0.0/16'), ec2.Port.tcp(port));
    const group = listener.addTargets(`${t.name}Target`, {
      port: 80, protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [service.loadBalancerTarget({ containerName: t.name, containerPort: 80 })],
      healthCheck: { path: '/' }, deregistrationDelay: cdk.Duration.seconds(30),
    });
    targetGroups.push(group);
    scaling.scaleOnRequestCount(`RequestScaling${side}`, { requestsPerTarget: 1000, targetGroup: group });
  }
}
const handlerLogs = new logs.LogGroup(scope, 'SpotHandlerLogs', { retention: logs.RetentionDays.ONE_MONTH });
const handlerRole = new iam.Role(scope, 'SpotHandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
handlerLogs.grantWrite(handlerRole);
handlerRole.addToPolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeServices'], resources: services.map((s) => s.serviceArn) }));
handlerRole.addToPolicy(new iam.PolicyStatement({
  actions: ['elasticloadbalancing:DeregisterTargets'], resources: targetGroups.map((g) => g.targetGroupArn),
}));
const handler = new lambda.Function(scope, 'SpotHandler', {
  runtime: lambda.Runtime.PYTHON_3_14, handler: 'spot_termination.handler', role: handlerRole, logGroup: handlerLogs,
  code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'dualalb_kit', 'handlers'), { exclude: ['__pycache__', '*.pyc'] }),
  timeout: cdk.Duration.seconds(30),
});
new events.Rule(scope, 'SpotInterruptions', {
  eventPattern: { source: ['aws.ecs'], detailType: ['ECS Task State Change'], detail: { clusterArn: [cluster.clusterArn], stopCode: ['SpotInterruption'] } },
  targets: [new eventsTargets.LambdaFunction(handler)],
});
const zone = new route53.PrivateHostedZone(scope, 'HostedZone', { zoneName: 'svc.local', vpc });
for (const [name, lb] of [['external', external], ['internal', internal]]) {
  new route53.ARecord(scope, `${name}AlbAlias`, {
    zone, recordName: name, target: route53.RecordTarget.fromAlias(new targets.LoadBalancerTarget(lb)),
  });
  new cdk.CfnOutput(scope, `${name}Endpoint`, { value: `http://${lb.loadBalancerDnsName}` });
  new cdk.CfnOutput(scope, `${name}EndpointPrivate`, { value: `http://${name}.svc.local` });
}
phases.built = performance.now();
app.synth();
phases.synthesized = performance.now();
if (process.env.BENCH_PHASES) {
  const cpu = process.cpuUsage();
  console.error(JSON.stringify({
    'Node start': phases.start / 1000,
    'require aws-cdk-lib and its modules': (phases.loaded - phases.start) / 1000,
    'building the constructs': (phases.built - phases.loaded) / 1000,
    'app.synth()': (phases.synthesized - phases.built) / 1000,
    'CPU (user + system)': (cpu.user + cpu.system) / 1e6,
  }));
}
