// An order after payment: shipping some units of some lines (one shipment,
// with carrier and tracking) and its returns with the admin's steps
// (receive, inspect each unit, reject), each confirmed and guarded by the
// order's version.
import { html, useState } from '../vendor/preact-htm.js';
import { call } from '../api.js';
import { count, money, when, ConfirmButton } from '../ui.js';

const orderPath = (order) => `/v1/orders/${encodeURIComponent(order.id)}`;

const leftToShip = (l) => l.quantity - l.cancelledQuantity - l.shippedQuantity;

/** Ships some units of some lines of a PAID or PARTIALLY_SHIPPED order. */
export function ShipLines({ order, etag, onDone }) {
  const open = order.lines.filter((l) => leftToShip(l) > 0);
  const [units, setUnits] = useState({});
  const [carrier, setCarrier] = useState('');
  const [tracking, setTracking] = useState('');
  const chosen = open.filter((l) => Number(units[l.sku]) > 0)
    .map((l) => ({ sku: l.sku, quantity: Number(units[l.sku]) }));
  const body = { lines: chosen };
  if (carrier) body.carrier = carrier;
  if (tracking) body.trackingNumber = tracking;
  const action = () => call(`${orderPath(order)}/shipments`, { method: 'POST', body, ifMatch: etag });
  return html`<fieldset><legend>Ship some units</legend>
    ${open.map((l) => html`<div class="field"><label for=${`s-${l.sku}`}>${l.sku} (up to ${leftToShip(l)})</label>
      <input id=${`s-${l.sku}`} type="number" min="0" max=${leftToShip(l)}
        value=${units[l.sku] || ''} onInput=${(e) => setUnits({ ...units, [l.sku]: e.target.value })} /></div>`)}
    <div class="field"><label for="s-carrier">Carrier</label>
      <input id="s-carrier" maxlength="64" value=${carrier} onInput=${(e) => setCarrier(e.target.value)} /></div>
    <div class="field"><label for="s-tracking">Tracking number</label>
      <input id="s-tracking" maxlength="100" value=${tracking} onInput=${(e) => setTracking(e.target.value)} /></div>
    <${ConfirmButton} label="Ship units"
      question=${chosen.length ? `Ship ${chosen.map((c) => `${c.quantity} × ${c.sku}`).join(', ')}?` : 'Choose some units first.'}
      action=${action} onDone=${onDone} />
  </fieldset>`;
}

// The inspection of a received return: restocked units per line, the rest
// damaged.
function Inspect({ order, ret, etag, onDone }) {
  const [restock, setRestock] = useState({});
  const lines = ret.lines.map((l) => {
    const r = Math.min(l.quantity, Math.max(0, Number(restock[l.sku] ?? l.quantity) || 0));
    return { sku: l.sku, restock: r, damaged: l.quantity - r };
  });
  const action = () => call(`${orderPath(order)}/returns/${encodeURIComponent(ret.id)}/inspect`,
    { method: 'POST', body: { lines }, ifMatch: etag });
  return html`<fieldset><legend>Inspect ${ret.id}</legend>
    ${ret.lines.map((l) => html`<div class="field"><label for=${`i-${ret.id}-${l.sku}`}>${l.sku}: units back on sale (of ${l.quantity}; the rest damaged)</label>
      <input id=${`i-${ret.id}-${l.sku}`} type="number" min="0" max=${l.quantity}
        value=${restock[l.sku] ?? l.quantity} onInput=${(e) => setRestock({ ...restock, [l.sku]: e.target.value })} /></div>`)}
    <${ConfirmButton} label="Inspect"
      question=${`Restock ${lines.map((x) => `${x.restock} × ${x.sku}`).join(', ')}, set aside damaged ${lines.map((x) => `${x.damaged} × ${x.sku}`).join(', ')}, and refund the units?`}
      action=${action} onDone=${onDone} />
  </fieldset>`;
}

function Reject({ order, ret, etag, onDone }) {
  const [reason, setReason] = useState('');
  const action = () => call(`${orderPath(order)}/returns/${encodeURIComponent(ret.id)}/reject`,
    { method: 'POST', body: { reason }, ifMatch: etag });
  return html`<div class="field"><label for=${`r-${ret.id}`}>Why reject ${ret.id}</label>
    <input id=${`r-${ret.id}`} maxlength="200" value=${reason} onInput=${(e) => setReason(e.target.value)} /></div>
    <${ConfirmButton} label="Reject" danger=${true}
      question=${reason ? `Reject return ${ret.id}: ${reason}?` : 'Give a reason first.'}
      action=${action} onDone=${onDone} />`;
}

// The steps a return allows now; a step half done (RECEIVING, INSPECTING)
// is asked again to complete it.
function ReturnSteps({ order, ret, etag, onDone }) {
  const receive = () => call(`${orderPath(order)}/returns/${encodeURIComponent(ret.id)}/receive`,
    { method: 'POST', body: {}, ifMatch: etag });
  const finish = () => call(`${orderPath(order)}/returns/${encodeURIComponent(ret.id)}/inspect`,
    { method: 'POST', body: { lines: ret.lines.map((l) => ({ sku: l.sku, restock: l.restocked, damaged: l.damaged })) }, ifMatch: etag });
  switch (ret.status) {
    case 'REQUESTED':
      return html`<div class="actions">
        <${ConfirmButton} label="Receive" question=${`The units of ${ret.id} arrived? They are counted on hand, set aside until inspected.`}
          action=${receive} onDone=${onDone} /></div>
        <${Reject} order=${order} ret=${ret} etag=${etag} onDone=${onDone} />`;
    case 'RECEIVING':
      return html`<div class="actions"><${ConfirmButton} label="Complete the receipt"
        question=${`Complete the receipt of ${ret.id}?`} action=${receive} onDone=${onDone} /></div>`;
    case 'RECEIVED':
      return html`<${Inspect} order=${order} ret=${ret} etag=${etag} onDone=${onDone} />`;
    case 'INSPECTING':
      return html`<div class="actions"><${ConfirmButton} label="Complete the inspection"
        question=${`Complete the inspection of ${ret.id} as decided?`} action=${finish} onDone=${onDone} /></div>`;
    default:
      return null;
  }
}

/** The order's returns, with the steps each allows. */
export function Returns({ order, etag, onDone }) {
  const returns = order.returns || [];
  if (!returns.length) return null;
  return html`<section aria-labelledby="returns-h"><h2 id="returns-h">Returns</h2>
    <p>Returned ${money(order.returnedAmount || 0)}</p>
    ${returns.map((r) => html`<div class="return" data-return=${r.id} data-status=${r.status}>
      <table class="grid"><caption>${r.id} · ${r.status} · ${when(r.updatedAt)}${r.rejectReason ? ` · ${r.rejectReason}` : ''}</caption>
        <thead><tr><th scope="col">SKU</th><th scope="col" class="num">Units</th><th scope="col">Reason</th>
          <th scope="col" class="num">Restocked</th><th scope="col" class="num">Damaged</th></tr></thead>
        <tbody>${r.lines.map((l) => html`<tr><td>${l.sku}</td><td class="num">${count(l.quantity)}</td><td>${l.reason || ''}</td>
          <td class="num">${l.restocked === undefined ? '' : count(l.restocked)}</td>
          <td class="num">${l.damaged === undefined ? '' : count(l.damaged)}</td></tr>`)}</tbody></table>
      <${ReturnSteps} order=${order} ret=${r} etag=${etag} onDone=${onDone} />
    </div>`)}
  </section>`;
}
