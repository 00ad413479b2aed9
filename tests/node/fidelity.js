'use strict';
// Drives LivePerson's official Node client (liveperson-functions-client) against the sandbox
// and prints what it saw as one JSON object; tests/sandbox/test_node_client.py checks it.
// Environment: SANDBOX_CSDS (http base URL of the sandbox's CSDS), SANDBOX_ACCOUNT, CLIENT_ID,
// CLIENT_SECRET, USERNAME, PASSWORD, GREETING_UUID, FAILING_UUID, MISSING_UUID, and
// NODE_EXTRA_CA_CERTS (the sandbox's certificate: the client calls Sentinel over https).
const {Client} = require('liveperson-functions-client');

const env = process.env;
const accountId = env.SANDBOX_ACCOUNT;

let domains;
async function getCsdsEntry(account, service) {
  // The client's own CSDS lookup uses LivePerson's hosts; ask the sandbox's CSDS instead.
  if (domains === undefined) {
    const url = `${env.SANDBOX_CSDS}/api/account/${account}/service/baseURI.json?version=1.0`;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`CSDS answered ${response.status}`);
    domains = (await response.json()).baseURIs;
  }
  const entry = domains.find(d => d.service === service);
  if (entry === undefined) throw new Error(`CSDS has no ${service}`);
  return entry.baseURI;
}

function describe(error) {
  // FaaS errors wrap a FaaSRequestError, which wraps the HttpRequestError holding the response.
  let cause = error;
  while (cause && !(cause.jse_info && cause.jse_info.response)) cause = cause.jse_cause;
  const response = cause ? cause.jse_info.response : {};
  return {name: error.name, status: response.status, body: response.body};
}

async function attempt(call) {
  try {
    const value = await call();
    return {ok: true, value};
  } catch (error) {
    return {ok: false, error: describe(error)};
  }
}

function response(resp) {
  return {status: resp.status, body: resp.body, requestId: resp.headers['x-request-id']};
}

function claims(header) {
  const [scheme, token] = header.split(' ');
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  return {scheme, aud: payload.aud, azp: payload.azp, lifetime: payload.exp - payload.iat};
}

async function login() {
  const domain = await getCsdsEntry(accountId, 'agentVep');
  const resp = await fetch(`http://${domain}/api/account/${accountId}/login?v=1.3`, {
    method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: env.USERNAME, password: env.PASSWORD}),
  });
  if (!resp.ok) throw new Error(`agentVep login answered ${resp.status}`);
  return (await resp.json()).bearer;
}

async function main() {
  const config = {accountId, protocol: 'http', failOnErrorStatusCode: true, apiVersion: '1'};
  const tooling = {getCsdsEntry};
  const app = new Client(
    {...config, authStrategy: {clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET}},
    tooling
  );
  const out = {};
  // The header the client puts on every call: it fetches the client-credentials token here.
  out.token = claims(await app.getAuthorizationHeader({url: '', method: 'post'}));
  out.invoke = await attempt(async () =>
    response(
      await app.invoke({
        lambdaUuid: env.GREETING_UUID,
        externalSystem: 'fidelity',
        requestId: 'fidelity-invoke-1',
        body: {headers: [{key: 'X-Trace', value: 'node'}], payload: {name: 'Node'}},
      })
    )
  );
  out.invokeEvent = await attempt(async () =>
    response(
      await app.invoke({
        eventId: 'conversational_command',
        skillId: '1001',
        lpEventSource: 'fidelity',
        body: {headers: [], payload: {command: '/balance', messages: []}},
      })
    )
  );
  out.implemented = await attempt(() =>
    app.isImplemented({eventId: 'conversational_command', externalSystem: 'fidelity'})
  );
  out.notImplemented = await attempt(() =>
    app.isImplemented({eventId: 'controllerbot_messaging_conversation_end'})
  );
  out.lambdaError = await attempt(() =>
    app.invoke({lambdaUuid: env.FAILING_UUID, body: {headers: [], payload: {orderId: '7'}}})
  );
  out.missing = await attempt(() =>
    app.invoke({lambdaUuid: env.MISSING_UUID, body: {headers: [], payload: {}}})
  );
  out.appGetLambdas = await attempt(() => app.getLambdas({}));

  const bearer = await login();
  const user = new Client({...config, authStrategy: async () => `Bearer ${bearer}`}, tooling);
  const names = resp => resp.body.map(item => item.name);
  out.getLambdas = await attempt(async () => names(await user.getLambdas({userId: '4000001'})));
  out.getLambdasFiltered = await attempt(async () =>
    names(
      await user.getLambdas({
        userId: '4000001',
        eventId: 'conversational_command',
        state: ['Modified'],
      })
    )
  );
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
