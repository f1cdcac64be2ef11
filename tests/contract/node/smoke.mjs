// The official Node SDK (npm `stripe`), unchanged, against stripe_emulator.
//
// Run by tests/contract/test_node_sdk.py with EMULATOR_URL, EMULATOR_KEY and EMULATOR_ACCOUNT
// (a connected account of the platform). Every check asserts values; the last line on stdout is a
// JSON summary that the Python test compares with what the Python SDK sees.
import assert from 'node:assert/strict';
import http from 'node:http';
import {once} from 'node:events';
import Stripe from 'stripe';

const base = new URL(process.env.EMULATOR_URL);
const stripe = new Stripe(process.env.EMULATOR_KEY, {
  host: base.hostname,
  port: Number(base.port),
  protocol: base.protocol.replace(':', ''),
  maxNetworkRetries: 0,
  telemetry: false,
});
const connected = {stripeAccount: process.env.EMULATOR_ACCOUNT};
const summary = {};

async function expectError(promise, type, check) {
  try {
    await promise;
  } catch (error) {
    assert.equal(error.type, type, `${error.type}: ${error.message}`);
    check(error);
    return error;
  }
  assert.fail(`expected ${type}`);
}

// The platform's own account.
const platform = await stripe.accounts.retrieve();
assert.match(platform.id, /^acct_/);
summary.platform = platform.id;

// Customers on the connected account: create, page with a filter kept, retrieve, update, delete.
const email = `node-${Date.now()}@example.com`;
const created = [];
for (let i = 0; i < 25; i += 1) {
  created.push(await stripe.customers.create({email, metadata: {n: String(i)}}, connected));
}
const paged = [];
for await (const customer of stripe.customers.list({email, limit: 10}, connected)) {
  paged.push(customer.id);
}
assert.deepEqual(paged, created.map((c) => c.id).reverse(), 'newest first across three pages');
const before = await stripe.customers.list(
  {email, limit: 5, ending_before: created[10].id},
  connected,
);
assert.deepEqual(
  before.data.map((c) => c.id),
  created.slice(11, 16).map((c) => c.id).reverse(),
);
const fetched = await stripe.customers.retrieve(created[0].id, {}, connected);
assert.equal(fetched.metadata.n, '0');
const updated = await stripe.customers.update(created[1].id, {name: 'Ada Node'}, connected);
assert.equal(updated.name, 'Ada Node');
const deleted = await stripe.customers.del(created[2].id, {}, connected);
assert.deepEqual(deleted, {...deleted, id: created[2].id, object: 'customer', deleted: true});
summary.customers = created.map((c) => c.id);
summary.deleted = created[2].id;
summary.renamed = created[1].id;

// A paid subscription from a test payment method, with an expansion.
const product = await stripe.products.create({name: 'Node plan'}, connected);
const price = await stripe.prices.create(
  {product: product.id, currency: 'usd', unit_amount: 1500, recurring: {interval: 'month'}},
  connected,
);
const payer = await stripe.customers.create(
  {payment_method: 'pm_card_visa', invoice_settings: {default_payment_method: 'pm_card_visa'}},
  connected,
);
const subscription = await stripe.subscriptions.create(
  {customer: payer.id, items: [{price: price.id, quantity: 3}], expand: ['latest_invoice']},
  connected,
);
assert.equal(subscription.status, 'active');
assert.equal(subscription.items.data[0].quantity, 3);
assert.equal(subscription.latest_invoice.status, 'paid');
assert.equal(subscription.latest_invoice.amount_paid, 4500);
summary.subscription = subscription.id;

// Errors map to the SDK's classes with Stripe's codes and a request id.
await expectError(stripe.customers.retrieve('cus_missing', {}, connected), 'StripeInvalidRequestError', (e) => {
  assert.equal(e.statusCode, 404);
  assert.equal(e.code, 'resource_missing');
  assert.equal(e.param, 'id');
  assert.match(e.requestId, /^req_/);
});
await expectError(
  stripe.customers.list({}, {stripeAccount: 'acct_notconnected0000'}),
  'StripePermissionError',
  (e) => {
    assert.equal(e.statusCode, 403);
    assert.equal(e.code, 'account_invalid');
  },
);
await expectError(stripe.customers.list({limit: 101}, connected), 'StripeInvalidRequestError', (e) => {
  assert.equal(e.statusCode, 400);
  assert.equal(e.param, 'limit');
});

// Idempotency: a replay returns the same object; another body under the same key is refused.
const key = `node-${Date.now()}`;
const first = await stripe.customers.create({email: 'once@example.com'}, {...connected, idempotencyKey: key});
const again = await stripe.customers.create({email: 'once@example.com'}, {...connected, idempotencyKey: key});
assert.equal(again.id, first.id);
assert.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
await expectError(
  stripe.customers.create({email: 'other@example.com'}, {...connected, idempotencyKey: key}),
  'StripeIdempotencyError',
  (e) => assert.equal(e.statusCode, 400),
);
summary.idempotent = first.id;

// A signed webhook delivery, verified by the SDK's own constructEvent.
const deliveries = [];
const receiver = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    deliveries.push({body: Buffer.concat(chunks), signature: request.headers['stripe-signature']});
    response.writeHead(200).end('{}');
  });
});
receiver.listen(0, '127.0.0.1');
await once(receiver, 'listening');
const endpoint = await stripe.webhookEndpoints.create({
  url: `http://127.0.0.1:${receiver.address().port}/hook`,
  enabled_events: ['product.created'],
});
const announced = await stripe.products.create({name: 'Announced by webhook'});
const deadline = Date.now() + 15000;
while (!deliveries.some((d) => d.body.includes(announced.id)) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 50));
}
const delivery = deliveries.find((d) => d.body.includes(announced.id));
assert.ok(delivery, 'the product.created event was delivered within 15 s');
const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, endpoint.secret);
assert.equal(event.type, 'product.created');
assert.equal(event.data.object.id, announced.id);
const tampered = Buffer.from(delivery.body.toString().replace('Announced', 'Tampered'));
assert.throws(
  () => stripe.webhooks.constructEvent(tampered, delivery.signature, endpoint.secret),
  (e) => e.type === 'StripeSignatureVerificationError',
);
receiver.close();
await stripe.webhookEndpoints.del(endpoint.id);
summary.event = event.id;

console.log(JSON.stringify(summary));
