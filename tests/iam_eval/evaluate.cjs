#!/usr/bin/env node
// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate, offline.
//
// stdin: {"requests": [{
//   "mode": "validated" | "unsafe",
//   "principal": "<ARN, service principal or federated provider ARN>",
//   "action": "service:Action",
//   "resource": "<ARN>", "accountId": "<resource's account>",
//   "context": {"<key>": "<value>" | ["<values>"]},
//   "identityPolicies": [<policy document>, ...],
//   "resourcePolicy": <policy document> | null,
//   "resourcePolicyKind": "trust" | "resource"
// }, ...]}
// stdout: {"results": [{"decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied" |
//   "Error", "error": "...", "ignoredContextKeys": [...]}, ...]} in request order.
//
// "validated" is runSimulation: it validates every policy, the action and the resource type,
// and drops context keys its action data does not list for the action (reported as
// ignoredContextKeys, which the caller treats as an error). "unsafe" is runUnsafeSimulation:
// no validation and no filtering, needed for the OIDC keys of IRSA trust policies and for
// ABAC tag keys; its resource policy must be a named, validated policy.
'use strict'

const { runSimulation, runUnsafeSimulation } = require('@cloud-copilot/iam-simulate')
const {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy,
  validateTrustPolicy
} = require('@cloud-copilot/iam-policy')

function simulation(request) {
  return {
    request: {
      principal: request.principal,
      action: request.action,
      resource: { resource: request.resource, accountId: request.accountId },
      contextVariables: request.context || {}
    },
    identityPolicies: (request.identityPolicies || []).map((policy, i) => ({
      name: `identity-${i}`,
      policy
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: request.resourcePolicy || undefined
  }
}

function validationErrors(request) {
  const errors = []
  const validateResource =
    request.resourcePolicyKind === 'trust' ? validateTrustPolicy : validateResourcePolicy
  ;(request.identityPolicies || []).forEach((policy, i) => {
    for (const e of validateIdentityPolicy(policy)) errors.push(`identity-${i}: ${e.message}`)
  })
  if (request.resourcePolicy) {
    for (const e of validateResource(request.resourcePolicy)) {
      errors.push(`resource policy: ${e.message}`)
    }
  }
  return errors
}

async function evaluate(request) {
  if (request.mode === 'unsafe') {
    const errors = validationErrors(request)
    if (errors.length) return { decision: 'Error', error: errors.join('; ') }
    const sim = simulation(request)
    if (sim.resourcePolicy) {
      const validate =
        request.resourcePolicyKind === 'trust' ? validateTrustPolicy : validateResourcePolicy
      sim.resourcePolicy = createValidatedPolicy(sim.resourcePolicy, validate, {
        name: 'resource-policy'
      })
    }
    return { decision: runUnsafeSimulation(sim, {}) }
  }
  const result = await runSimulation(simulation(request), {})
  if (result.resultType === 'error') {
    return { decision: 'Error', error: JSON.stringify(result.errors) }
  }
  if (result.resultType !== 'single') {
    return { decision: 'Error', error: `resource ${request.resource} is a wildcard` }
  }
  return {
    decision: result.overallResult,
    ignoredContextKeys: result.result.ignoredContextKeys || []
  }
}

async function main() {
  const chunks = []
  for await (const chunk of process.stdin) chunks.push(chunk)
  const { requests } = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  const results = []
  for (const request of requests) {
    try {
      results.push(await evaluate(request))
    } catch (error) {
      results.push({ decision: 'Error', error: String((error && error.stack) || error) })
    }
  }
  process.stdout.write(JSON.stringify({ results }))
}

main().catch((error) => {
  process.stderr.write(String((error && error.stack) || error))
  process.exit(1)
})
