// linksim's benchmark driver: runs linksim's identity provider and two npm peers doing the same
// work, interleaved and repeated in one run, and reports medians. See docs/benchmarks.md.
//
//   node bench/driver.mjs --linksim build/release/src/cli/linksim \
//        --ceiling build/release/bench/ceiling_server --flowgen build/release/bench/flowgen \
//        [--reps 3] [--ops 2000] [--seconds 5] [--concurrency 32] [--threads 2]
//
// Full flows and token exchanges are driven by bench/flowgen (C++): Node.js with undici needed
// about 330 µs of CPU per flow, which on a 2-core machine capped every server near 3 000 flows/s.
// This script starts the servers, prepares them, runs wrk for /me, and reports.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const here = path.dirname(fileURLToPath(import.meta.url));
const opt = { reps: 3, ops: 2000, seconds: 5, concurrency: 32, threads: 2, linksim: '', ceiling: '', flowgen: '' };
for (let i = 2; i < process.argv.length; i += 2) {
  const k = process.argv[i].replace(/^--/, '');
  if (!(k in opt)) { console.error(`driver: unknown option --${k}`); process.exit(2); }
  opt[k] = typeof opt[k] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
if (!opt.linksim || !opt.ceiling || !opt.flowgen) {
  console.error('driver: --linksim, --ceiling and --flowgen are required');
  process.exit(2);
}

const REDIRECT = 'http://127.0.0.1:9/cb';
// Idle sockets are dropped after 1 s, well before any server's idle timeout, so that no POST is
// ever sent into a connection the server is closing (a single-use code cannot be retried).
const poolOptions = { connections: opt.concurrency, keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 };
const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

// Starts a process and resolves with its base URL, read from the first stdout line that has one.
function start(cmd, args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(proc);
    let buf = '';
    proc.stdout.on('data', (d) => {
      buf += d;
      // oauth2-mock-server names itself "localhost"; it listens on 127.0.0.1 here.
      const m = buf.match(/http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/);
      if (m) resolve({ proc, base: `http://127.0.0.1:${m[1]}`, out: () => buf });
    });
    proc.on('exit', (code) => reject(new Error(`${cmd} exited with ${code}: ${buf}`)));
  });
}

// CPU time the server has used, in nanoseconds: the sum over its threads.
function cpuNs(pid) {
  let total = 0;
  for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
    try { total += Number(fs.readFileSync(`/proc/${pid}/task/${t}/schedstat`, 'utf8').split(' ')[0]); } catch {}
  }
  return total;
}

// The process's user and system CPU so far, in clock ticks (all its threads; /proc/<pid>/stat
// fields 14 and 15). Only their ratio is used: what share of a server's work is the kernel's
// (sockets, wake-ups), the part of the cost that changes most from one virtual machine to another.
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');  // field 3 onwards
  return { user: Number(rest[11]), sys: Number(rest[12]) };
}
function sysShare(before, after) {
  const user = after.user - before.user, sys = after.sys - before.sys;
  return user + sys > 0 ? sys / (user + sys) : NaN;
}

function memory(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(s.match(new RegExp(`${k}:\\s+(\\d+)`))[1]);
  return { rss_mib: kib('VmRSS') / 1024, peak_mib: kib('VmHWM') / 1024 };
}

// A browser: its own cookie jar, requests through a shared keep-alive pool.
class browser {
  constructor(pool) { this.pool = pool; this.jar = new Map(); }
  async req(method, target, body) {
    const headers = {};
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const r = await this.pool.request({ method, path: target, headers, body });
    const text = await r.body.text();
    let set = r.headers['set-cookie'] || [];
    if (!Array.isArray(set)) set = [set];
    for (const c of set) {
      const [pair] = c.split(';');
      const eq = pair.indexOf('=');
      this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1));
    }
    return { status: r.statusCode, location: r.headers.location, body: text };
  }
}

const form = (o) => new URLSearchParams(o).toString();
const pkce = () => {
  const verifier = crypto.randomBytes(48).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
};
const codeOf = (location) => new URL(location.replace('#_', '')).searchParams.get('code');

async function expectStatus(r, status, what) {
  if (r.status !== status) throw new Error(`${what}: expected ${status}, got ${r.status}: ${r.body.slice(0, 300)}`);
  return r;
}

// --- The three servers. flowgen drives their flows; linksim keeps a Node.js sign-in for the /me token. ---

async function linksim_target(dataDir) {
  const s = await start(opt.linksim, ['serve', '--no-demo', '--admin-token', 'bench', '--data-dir', dataDir,
                                      '--idp-threads', String(opt.threads)]);
  const pool = new Pool(s.base, poolOptions);
  const admin = (method, p, body) => pool.request({
    method, path: p, body: JSON.stringify(body),
    headers: { authorization: 'Bearer bench', 'content-type': 'application/json' } })
    .then(async (r) => ({ status: r.statusCode, body: JSON.parse(await r.body.text()) }));
  const idle = memory(s.proc.pid);
  await admin('POST', '/admin/accounts', { username: 'bench', password: 'bench-password', name: 'bench N' });
  const c = (await admin('POST', '/admin/clients', { name: 'bench', system: 'bench', redirect_uris: [REDIRECT] })).body;
  const authorize = (ch) => `/oauth/authorize?${form({ client_id: c.client_id, redirect_uri: REDIRECT,
    response_type: 'code', scope: 'user_profile', state: 'st', code_challenge: ch, code_challenge_method: 'S256' })}`;
  return {
    name: 'linksim', proc: s.proc, pool, base: s.base, idle,
    gen: ['--kind', 'linksim', '--client-id', c.client_id, '--client-secret', c.client_secret,
          '--username', 'bench', '--password', 'bench-password'],
    // One login per browser (untimed): a user who is already logged in at the provider.
    async login(b) {
      const { challenge } = pkce();
      let r = await expectStatus(await b.req('GET', authorize(challenge)), 302, 'authorize');
      const req = new URL(r.location, s.base).searchParams.get('request');
      await expectStatus(await b.req('GET', r.location), 200, 'login page');
      r = await expectStatus(await b.req('POST', '/oauth/login', form({ request: req, csrf: b.jar.get('idp_csrf'),
        username: 'bench', password: 'bench-password' })), 303, 'login');
      b.account = new URL(r.location, s.base).searchParams.get('account');
    },
    // authorize → consent page → allow: what a logged-in browser does.
    async code(b) {
      const { verifier, challenge } = pkce();
      const r = await expectStatus(await b.req('GET', authorize(challenge)), 302, 'authorize');
      const req = new URL(r.location, s.base).searchParams.get('request');
      await expectStatus(await b.req('GET', r.location), 200, 'consent page');
      const back = await expectStatus(await b.req('POST', '/oauth/consent', form({ request: req,
        csrf: b.jar.get('idp_csrf'), account_id: b.account, decision: 'allow' })), 302, 'consent');
      return { code: codeOf(back.location), verifier };
    },
    async redeem(b, { code, verifier }) {
      const r = await b.req('POST', '/oauth/token', form({ grant_type: 'authorization_code', code,
        code_verifier: verifier, redirect_uri: REDIRECT, client_id: c.client_id, client_secret: c.client_secret }));
      return JSON.parse((await expectStatus(r, 200, 'token')).body);
    },
  };
}

async function oauth2_mock_target() {
  const s = await start('node', [path.join(here, 'peers/oauth2_mock.mjs')]);
  return { name: 'oauth2-mock-server 8.2.3', proc: s.proc, base: s.base, idle: memory(s.proc.pid),
           gen: ['--kind', 'oauth2-mock'] };
}

// Its interactions finish at once (bench/peers/oidc.mjs): the first flow of each browser logs in
// and grants consent; later ones reuse the session and the grant.
async function oidc_target() {
  const s = await start('node', [path.join(here, 'peers/oidc.mjs')]);
  return { name: 'oidc-provider 8.8.1', proc: s.proc, base: s.base, idle: memory(s.proc.pid),
           gen: ['--kind', 'oidc', '--client-secret', 'bench-secret-bench-secret-bench-secret'] };
}

// --- Measurements ---

// Runs opt.ops full flows or token exchanges, opt.concurrency at once, with bench/flowgen: its
// browsers log in first (and for exchanges obtain every code) untimed. Returns successful
// operations per second of wall time, the server's CPU time per successful operation (the load
// generator shares this machine, so this is the server's capacity), and the generator's own.
// A failed operation (an error answer, a dropped connection) is counted and reported, never
// retried: a code is single-use.
function measure(t, mode) {
  const t0 = cpuTicks(t.proc.pid);
  const out = execFileSync(opt.flowgen, [...t.gen, '--base', t.base, '--mode', mode, '--ops', String(opt.ops),
    '--concurrency', String(opt.concurrency), '--pid', String(t.proc.pid)], { encoding: 'utf8' });
  const r = JSON.parse(out);
  if (r.failed) process.stderr.write(`${t.name}: ${r.failed} ${mode} failed, first: ${r.first_error}\n`);
  return { per_s: r.per_s, cpu_us: r.server_cpu_us, client_cpu_us: r.client_cpu_us, failed: r.failed,
           sys_share: sysShare(t0, cpuTicks(t.proc.pid)) };
}

const flows = (t) => measure(t, 'flows');
const exchanges = (t) => measure(t, 'exchanges');

function wrk(url, token, pid) {
  const c0 = cpuNs(pid);
  const t0 = cpuTicks(pid);
  const args = ['-t2', `-c${opt.concurrency}`, `-d${opt.seconds}s`, '--latency', url];
  if (token) args.splice(0, 0, '-H', `Authorization: Bearer ${token}`);
  const out = execFileSync('wrk', args, { encoding: 'utf8' });
  const ms = (label) => {
    const m = out.match(new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`));
    return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN;
  };
  const non2xx = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (non2xx) throw new Error(`wrk ${url}: ${non2xx[1]} error responses`);
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
  const requests = Number(out.match(/(\d+) requests in/)[1]);
  return { rps, p50_ms: ms('50'), p99_ms: ms('99'), cpu_us: (cpuNs(pid) - c0) / 1e3 / requests,
           sys_share: sysShare(t0, cpuTicks(pid)) };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'linksim-bench-'));
const targets = [await linksim_target(dataDir), await oauth2_mock_target(), await oidc_target()];
// The ceiling gets as many request threads as linksim's provider.
const ceiling = await start(opt.ceiling, ['--threads', String(opt.threads)]);
const results = Object.fromEntries(targets.map((t) => [t.name, { flows: [], exchanges: [] }]));
const me = { linksim: [], ceiling: [] };

// A token for /me: one browser signs in at linksim.
const meBrowser = new browser(targets[0].pool);
await targets[0].login(meBrowser);
const meToken = (await targets[0].redeem(meBrowser, await targets[0].code(meBrowser))).access_token;

for (let rep = 0; rep < opt.reps; ++rep) {
  // Rotate the order each round, so no server always runs first or last.
  const order = targets.map((_, i) => targets[(i + rep) % targets.length]);
  for (const t of order) results[t.name].flows.push(flows(t));
  for (const t of order) results[t.name].exchanges.push(exchanges(t));
  const pair = [['linksim', `${targets[0].base}/me?fields=id,username,name`, meToken, targets[0].proc.pid],
                ['ceiling', `${ceiling.base}/me?fields=id,username,name`, null, ceiling.proc.pid]];
  if (rep % 2) pair.reverse();
  for (const [name, url, token, pid] of pair) me[name].push(wrk(url, token, pid));
  process.stderr.write(`round ${rep + 1}/${opt.reps} done\n`);
}

const med = (runs, key) => median(runs.map((r) => r[key]));
const report = {
  machine: { cpus: os.cpus().length, model: os.cpus()[0].model, node: process.version },
  options: opt,
  servers: targets.map((t) => {
    const r = results[t.name];
    return {
      name: t.name,
      flows_per_s: med(r.flows, 'per_s'),
      flow_server_cpu_us: med(r.flows, 'cpu_us'),
      exchanges_per_s: med(r.exchanges, 'per_s'),
      exchange_server_cpu_us: med(r.exchanges, 'cpu_us'),
      flow_server_sys_share: med(r.flows, 'sys_share'),
      exchange_server_sys_share: med(r.exchanges, 'sys_share'),
      flow_client_cpu_us: med(r.flows, 'client_cpu_us'),
      exchange_client_cpu_us: med(r.exchanges, 'client_cpu_us'),
      failed_operations: [...r.flows, ...r.exchanges].reduce((n, x) => n + x.failed, 0),
      runs: { flows: r.flows, exchanges: r.exchanges },
      idle_rss_mib: t.idle.rss_mib,
      after_rss_mib: memory(t.proc.pid).rss_mib,
      peak_rss_mib: memory(t.proc.pid).peak_mib,
    };
  }),
  me: Object.fromEntries(Object.entries(me).map(([k, runs]) => [k, {
    rps: med(runs, 'rps'), p50_ms: med(runs, 'p50_ms'), p99_ms: med(runs, 'p99_ms'),
    server_cpu_us: med(runs, 'cpu_us'), server_sys_share: med(runs, 'sys_share'), runs }])),
};
const [ours, mock, oidc] = report.servers;
// Two views of each ratio: wall-clock throughput under this shared-machine load generator, and
// server capacity (operations per second of server CPU), which the load generator cannot skew.
report.ratios = {
  exchange_vs_oauth2_mock: { throughput: ours.exchanges_per_s / mock.exchanges_per_s,
                             capacity: mock.exchange_server_cpu_us / ours.exchange_server_cpu_us },
  exchange_vs_oidc_provider: { throughput: ours.exchanges_per_s / oidc.exchanges_per_s,
                               capacity: oidc.exchange_server_cpu_us / ours.exchange_server_cpu_us },
  flows_vs_oidc_provider: { throughput: ours.flows_per_s / oidc.flows_per_s,
                            capacity: oidc.flow_server_cpu_us / ours.flow_server_cpu_us },
  me_vs_ceiling: { throughput: report.me.linksim.rps / report.me.ceiling.rps,
                   capacity: report.me.ceiling.server_cpu_us / report.me.linksim.server_cpu_us },
};
console.log(JSON.stringify(report, null, 2));
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);
