// One order: lines with their lots, amounts (paid, refunded, due), payments,
// shipments, returns, the history as a timeline, and the actions its state
// allows now (the order's `actions`, shipping some units, the steps of its
// returns), each confirmed and guarded by the order's version.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.js';
import { call, followFromNow } from '../api.js';
import { count, money, when, href, ErrorBox, ConfirmButton, StatusBadge, useLoad } from '../ui.js';
import { Returns, ShipLines } from './order_after_sale.js';

// The console offers these; paying is the customer's.
const offered = [
  ['confirm', 'Confirm', 'reserved units become blocked'],
  ['ship', 'Ship', 'the blocked units leave the warehouse'],
  ['deliver', 'Deliver', 'the order is marked delivered'],
  ['cancel', 'Cancel', 'held units go back on sale; what was paid is refunded'],
];

function CancelLines({ order, etag, onDone }) {
  const open = order.lines.filter((l) => l.quantity - l.cancelledQuantity - l.shippedQuantity > 0);
  const [units, setUnits] = useState({});
  const chosen = open.filter((l) => Number(units[l.sku]) > 0).map((l) => ({ sku: l.sku, quantity: Number(units[l.sku]) }));
  const action = () => call(`/v1/orders/${encodeURIComponent(order.id)}/cancel`,
    { method: 'POST', body: { lines: chosen }, ifMatch: etag });
  return html`<fieldset><legend>Cancel some units</legend>
    ${open.map((l) => html`<div class="field"><label for=${`c-${l.sku}`}>${l.sku} (up to ${l.quantity - l.cancelledQuantity - l.shippedQuantity})</label>
      <input id=${`c-${l.sku}`} type="number" min="0" max=${l.quantity - l.cancelledQuantity - l.shippedQuantity}
        value=${units[l.sku] || ''} onInput=${(e) => setUnits({ ...units, [l.sku]: e.target.value })} /></div>`)}
    <${ConfirmButton} label="Cancel units" danger=${true}
      question=${chosen.length ? `Cancel ${chosen.map((c) => `${c.quantity} × ${c.sku}`).join(', ')}?` : 'Choose some units first.'}
      action=${action} onDone=${onDone} />
  </fieldset>`;
}

export function Order({ id }) {
  const loaded = useLoad(() => call(`/v1/orders/${encodeURIComponent(id)}`), [id]);
  const reload = useRef(loaded.reload);
  reload.current = loaded.reload;
  // Changes made elsewhere (a customer's payment, the hold's expiry) show.
  useEffect(() => followFromNow({ subject: id }, () => reload.current()), [id]);
  const o = loaded.data && loaded.data.body;
  const etag = loaded.data && loaded.data.etag;
  const actions = o ? o.actions || [] : [];
  return html`
    <p class="crumbs"><a href="#/orders">Orders</a> › ${id}</p>
    <h1>Order ${id}</h1>
    <${ErrorBox} error=${loaded.error} />
    ${o ? html`
      <p><${StatusBadge} status=${o.status} /> ${o.seller} · customer ${o.customerId} · version ${o.version}
        ${o.holdExpiresAt ? html` · hold expires ${when(o.holdExpiresAt)}` : null}
        ${o.cancelReason ? html` · ${o.cancelReason}` : null}</p>
      <section aria-labelledby="act-h"><h2 id="act-h">Actions</h2>
        <div class="actions" data-actions=${actions.join(' ')}>
          ${offered.filter(([a]) => actions.includes(a)).map(([a, label, what]) =>
            html`<${ConfirmButton} label=${label} danger=${a === 'cancel'}
              question=${`${label} order ${o.id}? ${what}.`}
              action=${() => call(`/v1/orders/${encodeURIComponent(o.id)}/${a}`, { method: 'POST', body: {}, ifMatch: etag })}
              onDone=${() => loaded.reload()} />`)}
          ${!actions.some((a) => offered.some(([x]) => x === a)) ? html`<p>Nothing can be done to this order now.</p>` : null}
        </div>
        ${actions.includes('cancel') && o.lines.length > 1 ? html`<${CancelLines} order=${o} etag=${etag} onDone=${() => loaded.reload()} />` : null}
        ${actions.includes('ship') && o.seller === 'INTERNAL' ? html`<${ShipLines} order=${o} etag=${etag} onDone=${() => loaded.reload()} />` : null}
      </section>
      <section aria-labelledby="lines-h"><h2 id="lines-h">Lines</h2>
        <table class="grid"><thead><tr><th scope="col">SKU</th><th scope="col" class="num">Units</th><th scope="col" class="num">Cancelled</th>
          <th scope="col" class="num">Shipped</th><th scope="col" class="num">Unit price</th><th scope="col" class="num">Line total</th><th scope="col">Lots</th></tr></thead>
        <tbody>${o.lines.map((l) => html`<tr>
          <td><a href=${href('inventory', l.sku) + (o.seller === 'EXTERNAL' ? '/external' : '')}>${l.sku}</a></td>
          <td class="num">${count(l.quantity)}</td><td class="num">${count(l.cancelledQuantity)}</td><td class="num">${count(l.shippedQuantity)}</td>
          <td class="num">${money(l.unitPrice)}</td><td class="num">${money(l.lineTotal)}</td>
          <td>${(l.lots || []).map((x) => `${x.lot || '(none)'}: ${x.quantity}`).join(', ')}</td></tr>`)}</tbody></table>
      </section>
      <section aria-labelledby="amounts-h"><h2 id="amounts-h">Amounts</h2>
        <dl class="stats">
          <div class="stat"><dt>Total</dt><dd>${money(o.totalAmount)}</dd></div>
          <div class="stat"><dt>Paid</dt><dd data-stat="paid">${money(o.paidAmount)}</dd></div>
          <div class="stat"><dt>Refunded</dt><dd data-stat="refunded">${money(o.refundedAmount)}</dd></div>
          <div class="stat"><dt>Due</dt><dd data-stat="due">${money(o.amountDue)}</dd></div>
        </dl>
        ${o.payments.length ? html`<table class="grid"><caption>Payments</caption>
          <thead><tr><th scope="col">Kind</th><th scope="col" class="num">Amount</th><th scope="col">Status</th><th scope="col">At</th><th scope="col">Reference or reason</th></tr></thead>
          <tbody>${o.payments.map((p) => html`<tr><td>${p.kind}</td><td class="num">${money(p.amount)}</td><td>${p.status}</td>
            <td>${when(p.at)}</td><td>${p.reference || p.reason || ''}</td></tr>`)}</tbody></table>` : null}
        ${(o.shipments || []).length ? html`<table class="grid"><caption>Shipments</caption>
          <thead><tr><th scope="col">Shipment</th><th scope="col">At</th><th scope="col">Units</th><th scope="col">Carrier</th><th scope="col">Tracking</th></tr></thead>
          <tbody>${o.shipments.map((s) => html`<tr><td>${s.id}</td><td>${when(s.at)}</td>
            <td>${s.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ')}</td>
            <td>${s.carrier || ''}</td><td>${s.trackingNumber || ''}</td></tr>`)}</tbody></table>` : null}
      </section>
      <${Returns} order=${o} etag=${etag} onDone=${() => loaded.reload()} />
      <section aria-labelledby="hist-h"><h2 id="hist-h">History</h2>
        <ol class="timeline">${o.history.map((h) => html`<li><time datetime=${h.at}>${when(h.at)}</time>
          <span class="type">${h.from === h.to ? h.to : `${h.from} → ${h.to}`}</span>
          <span>${h.reason}${h.amount !== undefined ? ` · ${money(h.amount)}` : ''}</span></li>`)}</ol>
      </section>` : null}`;
}
