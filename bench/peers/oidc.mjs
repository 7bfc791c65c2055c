// oidc-provider on loopback with opaque access tokens, PKCE S256 required, and interactions
// that finish at once (login as the requested account, consent to what was asked) so that a
// load driver can run whole flows. Prints its base URL, then serves until killed.
import http from 'node:http';
import Provider from 'oidc-provider';

// oidc-provider's development adapter is an LRU cache that evicts codes a load test has issued
// but not yet redeemed; a deployment keeps them in a real store. This one keeps everything until
// it expires, like a database would.
const records = new Map();
const byGrant = new Map();
const sessionsByUid = new Map();
class MemoryAdapter {
  constructor(name) { this.name = name; }
  key(id) { return `${this.name}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    records.set(key, { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      if (!byGrant.has(payload.grantId)) byGrant.set(payload.grantId, new Set());
      byGrant.get(payload.grantId).add(key);
    }
    if (this.name === 'Session' && payload.uid) sessionsByUid.set(payload.uid, id);
  }
  async find(id) {
    const r = records.get(this.key(id));
    if (!r) return undefined;
    if (r.expiresAt < Date.now()) { records.delete(this.key(id)); return undefined; }
    return r.payload;
  }
  async findByUid(uid) { const id = sessionsByUid.get(uid); return id ? this.find(id) : undefined; }
  async findByUserCode() { return undefined; }
  async consume(id) {
    const r = records.get(this.key(id));
    if (r) r.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) { records.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of byGrant.get(grantId) || []) records.delete(key);
    byGrant.delete(grantId);
  }
}

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    redirect_uris: ['http://127.0.0.1:9/cb'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  adapter: MemoryAdapter,
  pkce: { required: () => true, methods: ['S256'] },
  cookies: { keys: ['linksim-bench-cookie-key-0123456789'] },
  features: { devInteractions: { enabled: false } },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (ctx, err) => console.error(err));

const callback = provider.callback();
server.on('request', async (req, res) => {
  if (!req.url.startsWith('/interaction/')) return callback(req, res);
  try {
    const { prompt, params, session, grantId } = await provider.interactionDetails(req, res);
    if (prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: 'alice' } },
                                         { mergeWithLastSubmission: false });
      return;
    }
    const grant = grantId ? await provider.Grant.find(grantId)
                          : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    grant.addOIDCScope(params.scope);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } },
                                       { mergeWithLastSubmission: true });
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
console.log(issuer);
