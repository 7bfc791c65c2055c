// OpenID Connect against `linksim serve`, judged by the client libraries people use rather than
// by linksim's own code: openid-client finds the provider by its default discovery
// (/.well-known/openid-configuration), runs the code flow with PKCE, state and nonce, and
// verifies the ID token (EdDSA signature against the JWKS, iss, aud, exp, iat, nonce, at_hash)
// and the userinfo answer's sub; jose verifies the same ID token on its own, refuses it when
// altered, and follows a key rotation. A second client, registered and configured with nobody
// naming an algorithm, gets RS256 ID tokens that both libraries verify. A rename keeps `sub` and changes `preferred_username`, and
// reaches a Shared Signals poll stream as an identifier-changed SET that jose verifies too.
// The person's part (login and consent pages) is played with plain HTTP requests. Bounded: the
// whole run stops within 60 s.
//
//   node tests/e2e/oidc.mjs path/to/linksim
import { Issuer, generators } from 'openid-client';
import * as jose from 'jose';
import assert from 'node:assert/strict';
import { adminCall, start } from './serve.mjs';

const binary = process.argv[2] || process.env.LINKSIM_BINARY;
if (!binary) {
  console.error('usage: node oidc.mjs PATH_TO_LINKSIM');
  process.exit(2);
}
const run = start(binary);
const redirect = 'http://127.0.0.1:9/callback';  // never called: the person's part stops at it

// A browser's cookies, and requests that do not follow redirects.
const jar = new Map();
async function go(url, form) {
  const headers = { Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  const init = { headers, redirect: 'manual' };
  if (form) {
    init.method = 'POST';
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    init.body = new URLSearchParams(form).toString();
  }
  const res = await fetch(url, init);
  for (const c of res.headers.getSetCookie()) {
    const kv = c.split(';')[0];
    jar.set(kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1));
  }
  return res;
}

// The person at the provider: the login page, then consent. Returns where the provider sends
// the browser back to the client.
async function person(idp, url, username, password) {
  let res = await go(url);
  assert.equal(res.status, 302, await res.text());
  let next = new URL(res.headers.get('location'), idp);
  assert.equal(next.pathname, '/oauth/login');
  const request = next.searchParams.get('request');
  assert.equal((await go(next)).status, 200);
  res = await go(`${idp}/oauth/login`, { request, csrf: jar.get('idp_csrf'), username, password });
  assert.equal(res.status, 303, await res.text());
  next = new URL(res.headers.get('location'), idp);
  assert.equal(next.pathname, '/oauth/consent');
  assert.equal((await go(next)).status, 200);
  res = await go(`${idp}/oauth/consent`, {
    request,
    csrf: jar.get('idp_csrf'),
    account_id: next.searchParams.get('account'),
    decision: 'allow',
  });
  assert.equal(res.status, 302, await res.text());
  return res.headers.get('location');
}

async function main() {
  const { idp } = await run.urls;
  const app = await adminCall(idp, 'POST', '/admin/clients', {
    name: 'OpenID Connect relying party',
    system: 'rp',
    redirect_uris: [redirect],
    id_token_signed_response_alg: 'EdDSA',
  });

  // openid-client's default discovery.
  const issuer = await Issuer.discover(idp);
  assert.equal(issuer.issuer, idp);
  assert.ok(issuer.metadata.id_token_signing_alg_values_supported.includes('EdDSA'));
  const client = new issuer.Client({
    client_id: app.client_id,
    client_secret: app.client_secret,
    redirect_uris: [redirect],
    response_types: ['code'],
    id_token_signed_response_alg: 'EdDSA',
  });

  const signIn = async (username, extra = {}, rp = client) => {
    const code_verifier = generators.codeVerifier();
    const state = generators.state();
    const nonce = generators.nonce();
    const url = rp.authorizationUrl({
      scope: 'openid profile',
      code_challenge: generators.codeChallenge(code_verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...extra,
    });
    const back = await person(idp, url, username, 'linksim-demo');
    // Checks state and iss (RFC 9207), redeems the code, and verifies the ID token.
    const tokens = await rp.callback(redirect, rp.callbackParams(back),
                                         { code_verifier, state, nonce });
    return { tokens, nonce };
  };

  const { tokens, nonce } = await signIn('alice');
  const claims = tokens.claims();
  assert.equal(claims.iss, idp);
  assert.equal(claims.aud, app.client_id);
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.preferred_username, 'alice');
  assert.ok(claims.at_hash && claims.auth_time <= claims.iat);
  const info = await client.userinfo(tokens.access_token);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.preferred_username, 'alice');
  console.log(`openid-client: discovery, code flow and ID token verified; sub ${claims.sub}`);

  // jose, on its own, against the published key set.
  const jwks = jose.createRemoteJWKSet(new URL(issuer.metadata.jwks_uri));
  const verify = (token) =>
    jose.jwtVerify(token, jwks, { issuer: idp, audience: app.client_id, algorithms: ['EdDSA'] });
  const { payload, protectedHeader } = await verify(tokens.id_token);
  assert.equal(protectedHeader.alg, 'EdDSA');
  assert.ok(protectedHeader.kid);
  assert.equal(payload.sub, claims.sub);
  const [h, p, s] = tokens.id_token.split('.');
  const forged = jose.base64url.encode(JSON.stringify({ ...payload, sub: '1' }));
  await assert.rejects(verify(`${h}.${forged}.${s}`), jose.errors.JWSSignatureVerificationFailed);
  await assert.rejects(
    jose.jwtVerify(tokens.id_token, jwks, { issuer: idp, audience: 'another-client' }),
    jose.errors.JWTClaimValidationFailed);
  console.log('jose: the ID token verifies, an altered one does not');

  // A new signing key: the token signed before still verifies, new ones carry the new kid.
  const rotated = await adminCall(idp, 'POST', '/admin/keys/rotate');
  assert.notEqual(rotated.kid, protectedHeader.kid);
  await verify(tokens.id_token);

  // Shared Signals: a poll stream for identifier changes, found through the SSF configuration.
  const ssf = await (await fetch(`${idp}/.well-known/ssf-configuration`)).json();
  assert.equal(ssf.issuer, idp);
  const basic = `Basic ${Buffer.from(`${app.client_id}:${app.client_secret}`).toString('base64')}`;
  const ssfCall = async (url, body) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${url}: ${res.status} ${await res.clone().text()}`);
    return res.status === 204 ? {} : res.json();
  };
  const changed = 'https://schemas.openid.net/secevent/risc/event-type/identifier-changed';
  const stream = await ssfCall(ssf.configuration_endpoint, {
    delivery: { method: 'urn:ietf:rfc:8936' },
    events_requested: [changed],
  });

  // A rename: the same sub, a new preferred_username. prompt=login asks for the password again.
  const account = await adminCall(idp, 'GET', '/admin/accounts?username=alice');
  await adminCall(idp, 'PATCH', `/admin/accounts/${account.id}`, { username: 'alice.renamed' });

  // The rename as a SET, verified by jose against the same key set.
  const polled = await ssfCall(stream.delivery.endpoint_url, {});
  const [[jti, set]] = Object.entries(polled.sets);
  const event = await jose.jwtVerify(set, jwks, {
    issuer: idp,
    audience: app.client_id,
    typ: 'secevent+jwt',
    algorithms: ['EdDSA'],
  });
  assert.equal(event.payload.jti, jti);
  assert.deepEqual(event.payload.sub_id, { format: 'iss_sub', iss: idp, sub: claims.sub });
  assert.equal(event.payload.events[changed]['new-value'], 'alice.renamed');
  const acked = await ssfCall(stream.delivery.endpoint_url, { ack: [jti], returnImmediately: true });
  assert.deepEqual(acked.sets, {});
  console.log('jose: the identifier-changed SET verifies; acknowledged, it is not sent again');

  // The ad setting, on a stream that asks for linksim's opt-out event: jose verifies it too.
  const optOut = 'https://linksim.example/secevent/event-type/personalized-ads-opt-out';
  const adStream = await ssfCall(ssf.configuration_endpoint, {
    delivery: { method: 'urn:ietf:rfc:8936' },
    events_requested: [optOut],
  });
  await adminCall(idp, 'PUT', `/admin/accounts/${account.id}/ad-settings`, { personalized_ads: false });
  const adPolled = await ssfCall(adStream.delivery.endpoint_url, { returnImmediately: true });
  const [[, adSet]] = Object.entries(adPolled.sets);
  const adEvent = await jose.jwtVerify(adSet, jwks, {
    issuer: idp,
    audience: app.client_id,
    typ: 'secevent+jwt',
    algorithms: ['EdDSA'],
  });
  assert.equal(adEvent.payload.sub_id.sub, claims.sub);
  assert.equal(typeof adEvent.payload.events[optOut].event_timestamp, 'number');
  console.log('jose: the personalized-ads opt-out SET verifies');
  const again = await signIn('alice.renamed', { prompt: 'login' });
  const after = await verify(again.tokens.id_token);
  assert.equal(after.protectedHeader.kid, rotated.kid);
  assert.equal(after.payload.sub, claims.sub);
  assert.equal(after.payload.preferred_username, 'alice.renamed');
  console.log('rename: sub stays, preferred_username follows; the rotated key verifies');

  // RS256: OpenID Connect Registration's default and openid-client's, with no one naming it.
  const rsApp = await adminCall(idp, 'POST', '/admin/clients', {
    name: 'RS256 relying party',
    system: 'rp-rs256',
    redirect_uris: [redirect],
  });
  assert.equal(rsApp.id_token_signed_response_alg, 'RS256');
  const rsClient = new issuer.Client({
    client_id: rsApp.client_id,
    client_secret: rsApp.client_secret,
    redirect_uris: [redirect],
    response_types: ['code'],
  });
  const rs = await signIn('alice.renamed', { prompt: 'login' }, rsClient);
  assert.equal(rs.tokens.claims().sub, claims.sub);
  const rsVerified = await jose.jwtVerify(rs.tokens.id_token, jwks, {
    issuer: idp,
    audience: rsApp.client_id,
    algorithms: ['RS256'],
  });
  assert.equal(rsVerified.protectedHeader.alg, 'RS256');
  assert.equal(rsVerified.payload.nonce, rs.nonce);
  const [rh, , rsig] = rs.tokens.id_token.split('.');
  const rsForged = jose.base64url.encode(JSON.stringify({ ...rsVerified.payload, sub: '1' }));
  await assert.rejects(
    jose.jwtVerify(`${rh}.${rsForged}.${rsig}`, jwks, { algorithms: ['RS256'] }),
    jose.errors.JWSSignatureVerificationFailed);
  console.log('openid-client and jose: an RS256 ID token verifies, an altered one does not');

  await run.stop();
  console.log('PASS');
}

main().catch(run.fail);
