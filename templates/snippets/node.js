// {{ note }}
// Needs LivePerson's Node client (Node 18+): npm install liveperson-functions-client
const {Client} = require('liveperson-functions-client');

const accountId = {{ account|tojson }};
{% if sandbox -%}
const clientId = process.env.LP_CLIENT_ID || {{ client_id|tojson }};
const clientSecret = process.env.LP_CLIENT_SECRET || {{ client_secret|tojson }};
{% else -%}
const clientId = process.env.LP_CLIENT_ID;
const clientSecret = process.env.LP_CLIENT_SECRET;
{% endif %}
{%- if local %}
// A local LivePerson (plain http on a port): LivePerson's client asks Sentinel over https and
// cannot put a port in a URL, so its hosts, app token and HTTP calls are provided here.
const csds = {{ csds|tojson }};
async function getCsdsEntry(account, service) {
  const url = `${csds}/api/account/${account}/service/${service}/baseURI.json?version=1.0`;
  return (await (await fetch(url)).json()).baseURI;
}
async function appToken() {
  const sentinel = await getCsdsEntry(accountId, 'sentinel');
  const url = `http://${sentinel}/sentinel/api/account/${accountId}/app/token?v=2.0`;
  const form = {grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret};
  const answer = await fetch(url, {method: 'POST', body: new URLSearchParams(form)});
  return `Bearer ${(await answer.json()).access_token}`;
}
async function send({url, body, headers, method}) {
  const answer = await fetch(url.replace(/^(https?:\/\/)\[([^\]]+)\]/, '$1$2'), {
    method: method.toUpperCase(),
    headers,
    body: method === 'post' ? JSON.stringify(body) : undefined,
  });
  const text = await answer.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  const {ok, status, statusText} = answer;
  return {url, headers: Object.fromEntries(answer.headers), body: parsed, ok, status, statusText};
}

const client = new Client(
  {accountId, authStrategy: appToken, failOnErrorStatusCode: true, protocol: 'http'},
  {getCsdsEntry, fetch: send}
);
{%- else %}

const client = new Client({
  accountId,
  authStrategy: {clientId, clientSecret},
  failOnErrorStatusCode: true,
});
{%- endif %}
const invocation = {{ invocation }};

client.invoke(invocation).then(
  answer => console.log(JSON.stringify(answer.body, null, 2)),
  error => {
    // What the platform answered: the status and its body (error code, message, the logs).
    let cause = error;
    while (cause && !(cause.jse_info && cause.jse_info.response)) cause = cause.jse_cause;
    const answer = cause ? cause.jse_info.response : {};
    console.error(`${error.name}: ${answer.status || ''} ${JSON.stringify(answer.body)}`);
    process.exitCode = 1;
  }
);
