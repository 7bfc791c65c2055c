// End to end in a real browser: headless Chromium (Debian's) driven by playwright-core opens the
// dependent service started by `linksim serve`, logs in with a demo account on the identity
// provider's pages, sees the confirmation page, links, renames the account on the provider and
// sees the mirror follow. Bounded: every wait has a deadline; the whole run stops within 60 s.
//
//   node tests/e2e/signup.mjs path/to/linksim      (CHROMIUM=/path/to/chromium to override)
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { adminCall, start } from './serve.mjs';

const binary = process.argv[2] || process.env.LINKSIM_BINARY;
if (!binary) {
  console.error('usage: node signup.mjs PATH_TO_LINKSIM');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const run = start(binary, ['--reconcile-interval', '2']);

let browser;
run.onStop(async () => {
  if (browser) await browser.close();
});

async function main() {
  const { idp, threads } = await run.urls;
  console.log(`idp ${idp}, threads ${threads}`);
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  const page = await browser.newPage();
  page.setDefaultTimeout(10_000);

  // 1. The service's start page: the only way in is the provider.
  await page.goto(threads);
  await page.click('text=Log in with Instagram');

  // 2. The provider's login page, then its consent page.
  await page.waitForURL(`${idp}/oauth/login**`);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'linksim-demo');
  await page.click('button[type=submit]');
  await page.waitForURL(`${idp}/oauth/consent**`);
  await page.click('button[value=allow]');

  // 3. Back on the service: the confirmation page lists what will be shared.
  await page.waitForURL(`${threads}/callback**`);
  const confirm = await page.textContent('body');
  assert.match(confirm, /public profile information/);
  assert.match(confirm, /@alice/);
  assert.match(confirm, /followers/);
  await page.click('button:has-text("Link Account")');
  await page.waitForURL(`${threads}/settings?welcome=1`);
  assert.equal(await page.getAttribute('input[name=username]', 'readonly'), '');
  console.log('linked: the settings page shows @alice with a read-only username');

  // 4. Rename on the provider; the mirror follows (webhook, or the 2-second poll).
  const account = await adminCall(idp, 'GET', '/admin/accounts?username=alice');
  await adminCall(idp, 'PATCH', `/admin/accounts/${account.id}`, { username: 'alice.renamed' });
  const until = Date.now() + 15_000;
  let status = 0;
  while (Date.now() < until) {
    const res = await page.goto(`${threads}/@alice.renamed`);
    status = res.status();
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(status, 200, 'the renamed profile never appeared');
  assert.match(await page.textContent('h1'), /@alice\.renamed/);
  assert.equal((await page.goto(`${threads}/@alice`)).status(), 404);
  console.log('mirrored: /@alice.renamed shows the profile, /@alice is gone');

  await run.stop();
  console.log('PASS');
}

main().catch(run.fail);
