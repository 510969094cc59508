// The operations console in a real Chromium against a real omsd: sign-in,
// stock, live orders, the actions an order allows, the EXTERNAL derivation,
// the audit, the security policy and an accessibility check of every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startShop, client, launch, screenshotPath, address } from './harness.mjs';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let shop;
let api;
let browser;
let context;
let page;
const policyViolations = [];
const pageErrors = [];

const wait = { timeout: 20000 };

before(async () => {
  shop = await startShop();
  api = client(shop.url, shop.token);
  browser = await launch();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) policyViolations.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (browser) await browser.close();
  if (shop) await shop.stop();
});

async function signIn(token) {
  await page.goto(`${shop.url}/console/`);
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

async function axeCheck(name) {
  // Through the DevTools protocol, which the page's policy does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    resultTypes: ['violations'],
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`), []);
}

async function newCustomer() {
  const r = await api('POST', '/v1/customers', { name: 'Asha' });
  assert.equal(r.status, 201);
  return r.body;
}

async function order(customerId, sku, quantity, seller) {
  const item = { sku, quantity };
  if (seller) item.seller = seller;
  const r = await api('POST', '/v1/orders', { customerId, items: [item], address });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

test('a wrong token and a customer token are refused; the admin token signs in and stays out of URLs and cookies', async () => {
  await signIn('not-the-token');
  await page.getByRole('alert').filter({ hasText: 'UNAUTHORIZED' }).waitFor(wait);
  assert.equal(await page.getByRole('navigation', { name: 'Pages' }).count(), 0);
  const customer = await newCustomer();
  await page.getByLabel('Admin token').fill(customer.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not the admin token' }).waitFor(wait);
  await axeCheck('sign-in');
  await page.screenshot({ path: screenshotPath('sign-in') });
  await page.getByLabel('Admin token').fill(shop.token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor(wait);
  assert.ok(!page.url().includes(shop.token));
  assert.deepEqual(await context.cookies(), []);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('oms.adminToken')), shop.token);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
});

test('stock received in the console shows on the SKU page, by batch', async () => {
  assert.equal((await api('POST', '/v1/inventory/TEA-250/receipts', { quantity: 10, unitPrice: 24900 })).status, 200);
  await page.goto(`${shop.url}/console/#/inventory`);
  await page.getByRole('link', { name: 'TEA-250' }).waitFor(wait);
  await axeCheck('inventory');
  await page.screenshot({ path: screenshotPath('inventory') });
  await page.getByRole('link', { name: 'TEA-250' }).click();
  await page.getByRole('heading', { name: /TEA-250/ }).waitFor(wait);
  const receipt = page.getByRole('group', { name: 'Receive stock' });
  await receipt.getByLabel('Units').fill('5');
  await receipt.getByLabel('Lot (optional)').fill('L-0312');
  await page.getByRole('button', { name: 'Receive', exact: true }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByText('Receive 5 units of TEA-250 into lot L-0312?').waitFor(wait);
  await dialog.getByRole('button', { name: 'Yes, receive' }).click();
  await page.locator('[data-stat="on-hand"]', { hasText: '15' }).waitFor(wait);
  await page.getByRole('cell', { name: 'L-0312' }).waitFor(wait);
  const view = await api('GET', '/v1/inventory/TEA-250');
  assert.equal(view.body.onHand, 15);
  // A stale version is refused with the API's message, and nothing changes.
  await api('PATCH', '/v1/inventory/TEA-250', { unitPrice: 25900 });
  await page.getByLabel('New unit price, ₹').fill('199');
  await page.getByRole('button', { name: 'Set price' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, set price' }).click();
  await page.getByRole('dialog').getByRole('alert').filter({ hasText: 'PRECONDITION_FAILED' }).waitFor(wait);
  await page.getByRole('dialog').getByRole('button', { name: 'Back' }).click();
  assert.equal((await api('GET', '/v1/inventory/TEA-250')).body.unitPrice, 25900);
  // Read again, the change goes through: rupees become paise.
  await page.reload();
  await page.locator('[data-stat="price"]', { hasText: '259.00' }).waitFor(wait);
  await page.getByLabel('New unit price, ₹').fill('199.5');
  await page.getByRole('button', { name: 'Set price' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, set price' }).click();
  await page.locator('[data-stat="price"]', { hasText: '199.50' }).waitFor(wait);
  assert.equal((await api('GET', '/v1/inventory/TEA-250')).body.unitPrice, 19950);
  await axeCheck('sku');
  await page.screenshot({ path: screenshotPath('sku'), fullPage: true });
});

test('an order created through the API appears in the orders list and the overview without a reload', async () => {
  await page.goto(`${shop.url}/console/#/overview`);
  await page.locator('[data-stat="open-CREATED"]', { hasText: /^\d+$/ }).waitFor(wait);
  const before = Number(await page.locator('[data-stat="open-CREATED"]').innerText());
  const reservedBefore = Number(await page.locator('[data-stat="units-reserved"]').innerText());
  await page.goto(`${shop.url}/console/#/orders`);
  await page.getByText('Live: live').waitFor(wait);
  const customer = await newCustomer();
  const created = await order(customer.customerId, 'TEA-250', 4);
  await page.locator(`[data-order="${created.id}"]`).waitFor(wait);
  await axeCheck('orders');
  await page.screenshot({ path: screenshotPath('orders') });
  await page.getByRole('link', { name: 'Overview' }).click();
  await page.locator('[data-stat="open-CREATED"]', { hasText: String(before + 1) }).waitFor(wait);
  await page.locator('[data-stat="units-reserved"]', { hasText: String(reservedBefore + 4) }).waitFor(wait);
  const other = await order(customer.customerId, 'TEA-250', 1);
  await page.locator('[data-stat="open-CREATED"]', { hasText: String(before + 2) }).waitFor(wait);
  await api('POST', `/v1/orders/${other.id}/cancel`, {});
  await page.locator('[data-stat="open-CREATED"]', { hasText: String(before + 1) }).waitFor(wait);
  await axeCheck('overview');
  await page.screenshot({ path: screenshotPath('overview') });
});

test('an order offers only what its state allows; cancelling it puts the stock back', async () => {
  const customer = await newCustomer();
  const created = await order(customer.customerId, 'TEA-250', 3);
  const availableBefore = (await api('GET', '/v1/inventory/TEA-250')).body.available;
  await page.goto(`${shop.url}/console/#/orders/${created.id}`);
  await page.getByRole('heading', { name: `Order ${created.id}` }).waitFor(wait);
  await page.getByRole('button', { name: 'Confirm' }).waitFor(wait);
  // CREATED: confirm and cancel, never ship or deliver.
  assert.equal(await page.getByRole('button', { name: 'Ship' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Deliver' }).count(), 0);
  await axeCheck('order');
  await page.screenshot({ path: screenshotPath('order'), fullPage: true });
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, cancel' }).click();
  await page.getByText('CANCELLED', { exact: true }).first().waitFor(wait);
  await page.getByText('Nothing can be done to this order now.').waitFor(wait);
  assert.equal(await page.getByRole('button', { name: 'Confirm' }).count(), 0);
  const after = (await api('GET', '/v1/inventory/TEA-250')).body.available;
  assert.equal(after, availableBefore + 3);
  await page.getByRole('link', { name: 'TEA-250' }).click();
  await page.locator('[data-stat="available"]', { hasText: String(after) }).waitFor(wait);
});

test('an order ships line by line and a return is received and inspected in the console', async () => {
  assert.equal((await api('POST', '/v1/inventory/MUG/receipts', { quantity: 10, unitPrice: 500 })).status, 200);
  const customer = await newCustomer();
  const created = await order(customer.customerId, 'MUG', 3);
  assert.equal((await api('POST', `/v1/orders/${created.id}/pay`, { amount: 1500 })).status, 200);
  await page.goto(`${shop.url}/console/#/orders/${created.id}`);
  await page.getByRole('heading', { name: `Order ${created.id}` }).waitFor(wait);
  const ship = page.getByRole('group', { name: 'Ship some units' });
  await ship.getByLabel('MUG (up to 3)').fill('2');
  await ship.getByLabel('Carrier').fill('BlueDart');
  await ship.getByLabel('Tracking number').fill('BD123');
  await page.getByRole('button', { name: 'Ship units' }).click();
  await page.getByRole('dialog').getByText('Ship 2 × MUG?').waitFor(wait);
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, ship units' }).click();
  await page.getByText('PARTIALLY_SHIPPED', { exact: true }).first().waitFor(wait);
  await page.getByRole('cell', { name: 'BD123' }).waitFor(wait);
  let rec = (await api('GET', `/v1/orders/${created.id}`)).body;
  assert.equal(rec.status, 'PARTIALLY_SHIPPED');
  assert.equal(rec.shipments[0].carrier, 'BlueDart');
  assert.equal(rec.lines[0].shippedQuantity, 2);
  // The last unit ships with the order's Ship.
  await page.getByRole('button', { name: 'Ship', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Yes, ship' }).click();
  await page.getByText('SHIPPED', { exact: true }).first().waitFor(wait);
  assert.equal((await api('POST', `/v1/orders/${created.id}/deliver`, {})).status, 200);
  const asked = await api('POST', `/v1/orders/${created.id}/returns`, { lines: [{ sku: 'MUG', quantity: 2, reason: 'chipped' }] });
  assert.equal(asked.status, 201, JSON.stringify(asked.body));
  await page.reload();
  const ret = page.locator('[data-return="ret_1"]');
  await page.locator('[data-return="ret_1"][data-status="REQUESTED"]').waitFor(wait);
  await ret.getByRole('button', { name: 'Receive', exact: true }).click();
  await page.getByRole('dialog', { name: 'Receive' }).getByRole('button', { name: 'Yes, receive' }).click();
  await page.locator('[data-return="ret_1"][data-status="RECEIVED"]').waitFor(wait);
  const inspect = page.getByRole('group', { name: 'Inspect ret_1' });
  await inspect.getByLabel(/MUG: units back on sale/).fill('1');
  await inspect.getByRole('button', { name: 'Inspect', exact: true }).click();
  await page.getByRole('dialog', { name: 'Inspect' }).getByText(/Restock 1 × MUG, set aside damaged 1 × MUG/).waitFor(wait);
  await page.getByRole('dialog', { name: 'Inspect' }).getByRole('button', { name: 'Yes, inspect' }).click();
  await page.locator('[data-return="ret_1"][data-status="REFUNDED"]').waitFor(wait);
  rec = (await api('GET', `/v1/orders/${created.id}`)).body;
  assert.equal(rec.refundedAmount, 1000);
  assert.equal(rec.returns[0].lines[0].damaged, 1);
  const mug = (await api('GET', '/v1/inventory/MUG')).body;
  assert.equal(mug.available, 8);
  assert.equal(mug.onHand, 9);
  await axeCheck('order-returns');
  await page.screenshot({ path: screenshotPath('order-returns'), fullPage: true });
});

test('an EXTERNAL SKU shows how its count derives from the WMS snapshot', async () => {
  // The first read of an EXTERNAL SKU asks the WMS.
  let view;
  for (let i = 0; i < 100; i++) {
    view = await api('GET', '/v1/inventory/EXT-TV?seller=EXTERNAL');
    if (view.status === 200 && view.body.external.snapshotKnown) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(view.status, 200, JSON.stringify(view.body));
  await page.goto(`${shop.url}/console/#/inventory/EXT-TV/external`);
  await page.getByText(/Why \d+ are available/).waitFor(wait);
  await page.getByText('The WMS snapshot said orderable').waitFor(wait);
  const number = async (id) => Number((await page.locator(`[data-stat="${id}"]`).innerText()).replace(/,/g, ''));
  const derived = await number('derived');
  const parts = await Promise.all(['snapshot', 'feed', 'holds', 'buffer'].map((id) => number(`derive-${id}`)));
  // The rows shown add up to what is shown as available (never below 0).
  assert.equal(Math.max(0, parts.reduce((a, b) => a + b, 0)), derived);
  assert.equal(parts[0], view.body.external.snapshotOrderable);
  // An order placed here is one of our holds the snapshot does not reflect.
  const customer = await newCustomer();
  await order(customer.customerId, 'EXT-TV', 2, 'EXTERNAL');
  await page.reload();
  await page.locator('[data-stat="derive-holds"]', { hasText: '-2' }).waitFor(wait);
  const now = (await api('GET', '/v1/inventory/EXT-TV?seller=EXTERNAL')).body;
  assert.equal(await number('derived'), now.available);
  assert.equal(now.available, parts[0] + parts[1] - 2 + parts[3]);
  await axeCheck('external');
  await page.screenshot({ path: screenshotPath('external'), fullPage: true });
});

test('the events page tails the change feed live', async () => {
  await page.goto(`${shop.url}/console/#/events`);
  await page.getByText('Stream: live').waitFor(wait);
  const head = (await (await fetch(`${shop.url}/readyz`)).json()).lastSeq;
  await api('PATCH', '/v1/inventory/TEA-250', { unitPrice: 26900 });
  // The change made after the page went live, not one it read at the start.
  await page.locator(`tr[data-id="${head + 1}"]`, { hasText: 'oms.sku.price_changed' }).waitFor(wait);
  await axeCheck('events');
  await page.screenshot({ path: screenshotPath('events') });
});

test('the audit runs and finds no violations', async () => {
  await page.goto(`${shop.url}/console/#/audit`);
  await page.getByRole('button', { name: 'Run the audit' }).click();
  await page.locator('[data-stat="audit-result"]', { hasText: '0 violations' }).waitFor(wait);
  await axeCheck('audit');
  await page.screenshot({ path: screenshotPath('audit') });
});

test('a phone-width screen gets every page in one column, keyboard first', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
  const p = await phone.newPage();
  await p.goto(`${shop.url}/console/`);
  await p.getByLabel('Admin token').fill(shop.token);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Overview' }).waitFor(wait);
  // Signed in for the tab: a reload stays signed in. The first Tab reaches
  // the skip link, the next ones the navigation.
  await p.reload();
  await p.getByRole('heading', { name: 'Overview' }).waitFor(wait);
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Skip to content');
  await p.keyboard.press('Tab');
  assert.equal(await p.evaluate(() => document.activeElement.textContent), 'Overview');
  // The skip link takes the focus to the content and stays on the page.
  await p.keyboard.press('Shift+Tab');
  await p.keyboard.press('Enter');
  assert.equal(await p.evaluate(() => document.activeElement.id), 'main');
  await p.getByRole('heading', { name: 'Overview' }).waitFor(wait);
  const wide = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390 + 1, `the page is ${wide} px wide on a 390 px screen`);
  await p.goto(`${shop.url}/console/#/orders`);
  await p.getByRole('heading', { name: 'Orders' }).waitFor(wait);
  await p.screenshot({ path: screenshotPath('phone-orders'), fullPage: true });
  await phone.close();
});

test('no page broke the security policy or threw', () => {
  assert.deepEqual(policyViolations, []);
  assert.deepEqual(pageErrors, []);
});
