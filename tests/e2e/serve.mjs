// What the end-to-end tests share: `linksim serve` started on free ports in a scratch
// directory, its admin API, and a deadline that stops a test that hangs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';

export const admin = 'e2e-admin-token';

// Starts `linksim serve` and resolves to the base URLs it prints. `stop()` ends it and removes
// its directory; `fail(err)` reports, stops and exits non-zero.
export function start(binary, extraArgs = [], seconds = 60) {
  const dir = mkdtempSync(join(tmpdir(), 'linksim-e2e-'));
  const hooks = [];
  let server;
  const stop = async () => {
    clearTimeout(deadline);
    for (const h of hooks) await h().catch(() => {});
    if (server && server.exitCode === null) server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  const fail = async (err) => {
    console.error(`FAIL: ${err.stack || err}`);
    await stop();
    process.exit(1);
  };
  const deadline = setTimeout(() => fail(new Error(`timed out after ${seconds} s`)), seconds * 1000);
  const urls = new Promise((resolve, reject) => {
    server = spawn(binary, ['serve', '--data-dir', dir, '--admin-token', admin, ...extraArgs],
                   { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const idp = /^idp: (\S+)/m.exec(out);
      const threads = /^threads: (\S+)/m.exec(out);
      if (idp && threads && out.includes('Press Ctrl-C')) resolve({ idp: idp[1], threads: threads[1] });
    });
    server.on('exit', (code) => reject(new Error(`linksim serve exited with ${code}:\n${out}`)));
  });
  return { urls, stop, fail, onStop: (h) => hooks.push(h) };
}

// A call on a service's admin API; a non-2xx answer fails the test.
export async function adminCall(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}
