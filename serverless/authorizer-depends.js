'use strict';

// osls plugin: drop the redundant DependsOn osls puts on every method that
// has an authorizer. Such a method already refers to the authorizer
// (`AuthorizerId: {Ref: ...}`), which orders the two for CloudFormation;
// the extra DependsOn only makes cfn-lint warn (W3005) once per protected
// method. Nothing else changes: the DependsOn entries that are not implied
// by a Ref stay.

class AuthorizerDepends {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.prune(),
    };
  }

  prune() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::ApiGateway::Method') continue;
      const ref = resource.Properties.AuthorizerId && resource.Properties.AuthorizerId.Ref;
      if (!ref || resource.DependsOn === undefined) continue;
      const rest = [].concat(resource.DependsOn).filter((id) => id !== ref);
      if (rest.length) {
        resource.DependsOn = rest;
      } else {
        delete resource.DependsOn;
      }
    }
  }
}

module.exports = AuthorizerDepends;
