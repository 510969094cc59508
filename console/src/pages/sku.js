// One SKU: where every unit is (on hand, reserved, blocked, available, by
// batch, set aside by reason), the holds by order, the history of its
// changes, and for the EXTERNAL seller how our count derives from the WMS's
// stale snapshot. INTERNAL SKUs take receipts, set-asides, returns to sale
// and price changes, each guarded by the SKU's version (If-Match).
import { html, useState } from '../vendor/preact-htm.js';
import { call, query, headSeq } from '../api.js';
import { count, money, when, href, ErrorBox, ConfirmButton, useLoad } from '../ui.js';

const reasons = ['DAMAGED', 'QUARANTINED', 'SAFETY_STOCK'];

function Counters({ v }) {
  const cells = [
    ['On hand', v.onHand, 'on-hand'], ['Reserved', v.reserved, 'reserved'],
    ['Blocked', v.blocked, 'blocked'], ['Available', v.available, 'available'],
  ];
  if (v.seller === 'INTERNAL') cells.splice(3, 0, ['Set aside', v.unallocatable, 'aside']);
  return html`<dl class="stats">
    ${cells.map(([label, value, id]) => html`<div class="stat"><dt>${label}</dt><dd data-stat=${id}>${count(value)}</dd></div>`)}
    <div class="stat"><dt>Unit price</dt><dd data-stat="price">${money(v.unitPrice)}</dd></div>
  </dl>`;
}

function Batches({ v }) {
  if (!v.batches || !v.batches.length) return html`<p>No batches on hand.</p>`;
  return html`<table class="grid">
    <caption>Batches, first to expire first</caption>
    <thead><tr><th scope="col">Lot</th><th scope="col">Expires</th><th scope="col" class="num">On hand</th>
      <th scope="col" class="num">Held</th><th scope="col" class="num">Available</th>
      ${Object.keys(v.unallocatableByReason).map((r) => html`<th scope="col" class="num">${r}</th>`)}</tr></thead>
    <tbody>${v.batches.map((b) => html`<tr class=${b.expired ? 'expired' : ''}>
      <td>${b.lot || html`<em>(none)</em>`}</td><td>${b.expiresAt ? when(b.expiresAt) : 'never'}${b.expired ? ' (expired)' : ''}</td>
      <td class="num">${count(b.onHand)}</td><td class="num">${count(b.held)}</td><td class="num">${count(b.available)}</td>
      ${Object.keys(v.unallocatableByReason).map((r) => html`<td class="num">${count(b.unallocatable[r])}</td>`)}
    </tr>`)}</tbody>
  </table>`;
}

// The EXTERNAL derivation: snapshot + feed − our unreflected holds − buffer.
function Derivation({ v }) {
  const x = v.external;
  const rows = [
    ['The WMS snapshot said orderable', x.snapshotOrderable, `as of ${when(x.snapshotAsOf)}, reflecting WMS change ${x.snapshotReflects}`, 'snapshot'],
    ['+ receipts and adjustments from the feed since', x.feedDelta, 'changes the snapshot does not reflect yet', 'feed'],
    ['− our holds the snapshot does not reflect', -x.pendingHolds || 0, 'orders placed here since the snapshot', 'holds'],
    ['− safety buffer', -x.safetyBuffer || 0, 'kept back against the snapshot being stale', 'buffer'],
  ];
  const max = Math.max(1, ...rows.map((r) => Math.abs(r[1])), v.available);
  return html`<figure class="derivation" aria-labelledby="deriv-h">
    <figcaption id="deriv-h">Why ${count(v.available)} are available</figcaption>
    <table class="grid">
      <tbody>
        ${rows.map(([label, value, note, id]) => html`<tr>
          <th scope="row">${label}</th><td class="num" data-stat=${`derive-${id}`}>${count(value)}</td>
          <td class="bar-cell"><span class=${`bar ${value < 0 ? 'neg' : 'pos'}`} style=${{ width: `${(100 * Math.abs(value)) / max}%` }}></span></td>
          <td class="note">${note}</td></tr>`)}
        <tr class="sum"><th scope="row">= available to sell</th><td class="num" data-stat="derived">${count(v.available)}</td>
          <td class="bar-cell"><span class="bar sum" style=${{ width: `${(100 * Math.max(0, v.available)) / max}%` }}></span></td>
          <td class="note">${x.snapshotKnown ? '' : 'no snapshot read yet: nothing is sold'}</td></tr>
      </tbody>
    </table>
    <p class="hint">WMS calls not yet acknowledged: ${count(x.wmsPending)}. Last read ${when(x.readAt)}.</p>
  </figure>`;
}

function Holds({ sku, seller }) {
  const holds = useLoad(() => call(`/v1/inventory/${encodeURIComponent(sku)}/holds${query({ seller })}`).then((r) => r.body), [sku, seller]);
  if (holds.error) return html`<${ErrorBox} error=${holds.error} />`;
  const list = holds.data ? holds.data.holds : [];
  if (!list.length) return html`<p>No order holds units of this SKU.</p>`;
  return html`<table class="grid">
    <caption>Holds by order</caption>
    <thead><tr><th scope="col">Order</th><th scope="col">Kind</th><th scope="col" class="num">Units</th><th scope="col">Lots</th></tr></thead>
    <tbody>${list.map((h) => html`<tr>
      <td><a href=${href('orders', h.orderId)}>${h.orderId}</a></td><td>${h.kind}</td><td class="num">${count(h.quantity)}</td>
      <td>${(h.lots || []).map((l) => `${l.lot || '(none)'}: ${l.quantity}`).join(', ')}</td></tr>`)}</tbody>
  </table>`;
}

// The SKU's changes, oldest kept first: pages of the feed filtered by the
// SKU (each page scans a bounded stretch of the log) until 50 more are
// found or the newest event is reached.
function History({ sku }) {
  const [shown, setShown] = useState(50);
  const loaded = useLoad(async () => {
    const head = Number((await headSeq()) || 0);
    const events = [];
    let after = '0';
    while (events.length < shown && Number(after) < head) {
      const { body } = await call(`/v1/events${query({ subject: sku, after, limit: 50 })}`);
      events.push(...body.events);
      if (body.next === after) break;
      after = body.next;
    }
    return { events: events.slice(0, shown), more: events.length > shown || Number(after) < head };
  }, [sku, shown]);
  if (loaded.error) return html`<${ErrorBox} error=${loaded.error} />`;
  const events = loaded.data ? loaded.data.events : [];
  return html`<ol class="timeline">
      ${events.map((e) => html`<li><time datetime=${e.time}>${when(e.time)}</time>
        <span class="type">${e.type.replace(/^oms\./, '')}</span>
        <span>${describe(e.data)}</span></li>`)}
      ${!events.length && !loaded.loading ? html`<li>No changes kept.</li>` : null}
    </ol>
    ${loaded.data && loaded.data.more
      ? html`<button type="button" onClick=${() => setShown(shown + 50)}>Load more</button>` : null}`;
}

function describe(d) {
  const parts = [];
  if (d.quantity !== undefined) parts.push(`${d.quantity} units`);
  if (d.orderId) parts.push(`order ${d.orderId}`);
  if (d.lot) parts.push(`lot ${d.lot}`);
  if (d.reason) parts.push(d.reason);
  if (d.unitPrice !== undefined) parts.push(money(d.unitPrice));
  return parts.join(' · ');
}

function Field({ id, label, children }) {
  return html`<div class="field"><label for=${id}>${label}</label>${children}</div>`;
}

function Actions({ v, etag, sku, onChanged }) {
  const [f, setF] = useState({ qty: '', lot: '', expires: '', price: '', asideQty: '', asideLot: '', reason: 'DAMAGED', newPrice: '' });
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const path = `/v1/inventory/${encodeURIComponent(sku)}`;
  const receive = () => {
    const body = { quantity: Number(f.qty) };
    if (f.lot) body.lot = f.lot;
    if (f.expires) body.expiresAt = new Date(f.expires).toISOString();
    if (f.price) body.unitPrice = Math.round(Number(f.price) * 100);
    return call(`${path}/receipts`, { method: 'POST', body, ifMatch: etag });
  };
  const move = (kind) => () => {
    const body = { kind, quantity: Number(f.asideQty), reason: f.reason };
    if (f.asideLot) body.lot = f.asideLot;
    return call(`${path}/changes`, { method: 'POST', body, ifMatch: etag });
  };
  const price = () => call(path, { method: 'PATCH', body: { unitPrice: Math.round(Number(f.newPrice) * 100) }, ifMatch: etag });
  const lots = (v.batches || []).map((b) => b.lot);
  return html`<div class="forms">
    <fieldset><legend>Receive stock</legend>
      <${Field} id="r-qty" label="Units"><input id="r-qty" type="number" min="1" value=${f.qty} onInput=${set('qty')} /></${Field}>
      <${Field} id="r-lot" label="Lot (optional)"><input id="r-lot" value=${f.lot} onInput=${set('lot')} /></${Field}>
      <${Field} id="r-exp" label="Expires (optional)"><input id="r-exp" type="datetime-local" value=${f.expires} onInput=${set('expires')} /></${Field}>
      <${Field} id="r-price" label="Unit price, ₹ (optional)"><input id="r-price" type="number" min="0.01" step="0.01" value=${f.price} onInput=${set('price')} /></${Field}>
      <${ConfirmButton} label="Receive" question=${`Receive ${f.qty || '?'} units of ${sku}${f.lot ? ` into lot ${f.lot}` : ''}?`}
        action=${receive} onDone=${onChanged} />
    </fieldset>
    <fieldset><legend>Set aside or return to sale</legend>
      <${Field} id="a-qty" label="Units"><input id="a-qty" type="number" min="1" value=${f.asideQty} onInput=${set('asideQty')} /></${Field}>
      <${Field} id="a-lot" label="Lot"><select id="a-lot" value=${f.asideLot} onChange=${set('asideLot')}>
        <option value="">(the only one)</option>${lots.map((l) => html`<option value=${l}>${l || '(none)'}</option>`)}</select></${Field}>
      <${Field} id="a-reason" label="Reason"><select id="a-reason" value=${f.reason} onChange=${set('reason')}>
        ${reasons.map((r) => html`<option value=${r}>${r}</option>`)}</select></${Field}>
      <${ConfirmButton} label="Set aside" question=${`Take ${f.asideQty || '?'} units of ${sku} out of sale as ${f.reason}?`}
        action=${move('SET_ASIDE')} onDone=${onChanged} />
      <${ConfirmButton} label="Return to sale" question=${`Put ${f.asideQty || '?'} ${f.reason} units of ${sku} back on sale?`}
        action=${move('RETURN_ASIDE')} onDone=${onChanged} />
    </fieldset>
    <fieldset><legend>Price</legend>
      <${Field} id="p-price" label="New unit price, ₹"><input id="p-price" type="number" min="0.01" step="0.01" value=${f.newPrice} onInput=${set('newPrice')} /></${Field}>
      <${ConfirmButton} label="Set price" question=${`Sell ${sku} at ${f.newPrice ? money(Math.round(Number(f.newPrice) * 100)) : '?'} from now on? Orders placed keep their price.`}
        action=${price} onDone=${onChanged} />
    </fieldset>
  </div>`;
}

export function Sku({ sku, seller }) {
  const view = useLoad(() => call(`/v1/inventory/${encodeURIComponent(sku)}${query({ seller })}`), [sku, seller]);
  const [tick, setTick] = useState(0);
  const changed = () => { view.reload(); setTick((t) => t + 1); };
  const v = view.data && view.data.body;
  return html`
    <p class="crumbs"><a href="#/inventory">Inventory</a> › ${sku}</p>
    <h1>${sku} <small>${seller}${v && v.version ? ` · version ${v.version}` : ''}</small></h1>
    <${ErrorBox} error=${view.error} />
    ${v ? html`
      <section aria-labelledby="units-h"><h2 id="units-h">Units</h2><${Counters} v=${v} /></section>
      ${v.seller === 'EXTERNAL' ? html`<section><h2>Derivation</h2><${Derivation} v=${v} /></section>` : html`
        <section aria-labelledby="batches-h"><h2 id="batches-h">Batches</h2><${Batches} v=${v} />
          <p>Set aside by reason: ${Object.entries(v.unallocatableByReason).map(([r, n]) => `${r} ${n}`).join(', ')}.</p></section>
        <section aria-labelledby="act-h"><h2 id="act-h">Change the stock</h2>
          <${Actions} v=${v} etag=${view.data.etag} sku=${sku} onChanged=${changed} /></section>`}
      <section aria-labelledby="holds-h"><h2 id="holds-h">Holds</h2><${Holds} key=${`h${tick}`} sku=${sku} seller=${seller} /></section>
      <section aria-labelledby="hist-h"><h2 id="hist-h">History</h2><${History} key=${`e${tick}`} sku=${sku} /></section>`
    : null}`;
}
