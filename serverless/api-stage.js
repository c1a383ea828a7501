'use strict';

// osls plugin: let CloudFormation own the REST API stage.
//
// osls creates the stage through its Deployment's `StageName` and patches
// tracing, metrics and logs onto it with API calls after the deploy; stage
// throttling it cannot express at all. serverless.yml instead declares the
// whole stage as `ApiGatewayStage` (AWS::ApiGateway::Stage: throttling,
// metrics, tracing, access logs). osls names its Deployment anew on every
// deploy, so serverless.yml cannot refer to it: this plugin moves the stage
// off the Deployment and points ApiGatewayStage at it. It also makes the
// Deployment wait for the GatewayResponses: a deployment is a snapshot of
// the API, and one taken before they exist would serve API Gateway's
// default errors until the next deploy.
// Keep provider.apiGateway.metrics, provider.tracing.apiGateway and
// provider.logs.restApi unset, or osls would patch the stage behind
// CloudFormation's back.

const STAGE = 'ApiGatewayStage';

class ApiStage {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.wire(),
    };
  }

  wire() {
    const fail = (message) => {
      throw new this.serverless.classes.Error(`api-stage: ${message}`);
    };
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const stage = resources[STAGE];
    if (!stage || stage.Type !== 'AWS::ApiGateway::Stage') {
      fail(`serverless.yml must declare ${STAGE} (AWS::ApiGateway::Stage)`);
    }
    const deployments = Object.keys(resources).filter(
      (id) => resources[id].Type === 'AWS::ApiGateway::Deployment'
    );
    if (deployments.length !== 1) {
      fail(`expected one AWS::ApiGateway::Deployment, found ${deployments.length}`);
    }
    const deployment = resources[deployments[0]].Properties;
    if (deployment.StageName !== stage.Properties.StageName) {
      fail(`${STAGE} StageName ${stage.Properties.StageName} is not the API stage ${deployment.StageName}`);
    }
    delete deployment.StageName;
    stage.Properties.DeploymentId = { Ref: deployments[0] };
    const responses = Object.keys(resources).filter(
      (id) => resources[id].Type === 'AWS::ApiGateway::GatewayResponse'
    );
    resources[deployments[0]].DependsOn = [
      ...(resources[deployments[0]].DependsOn || []),
      ...responses,
    ];
  }
}

module.exports = ApiStage;
