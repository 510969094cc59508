// The admin order search (GET /v1/orders): by status, SKU, customer, seller
// and date, newest first, page by page. The first page follows the change
// feed: an order created or changed anywhere shows without a reload.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.js';
import { call, query, followFromNow } from '../api.js';
import { money, when, href, ErrorBox, Pager, StatusBadge, useLoad } from '../ui.js';

const statuses = ['', 'CREATED', 'CONFIRMED', 'PAID', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'CANCELLED'];

export function Orders() {
  const [form, setForm] = useState({ status: '', sku: '', customerId: '', seller: '', createdFrom: '', createdTo: '' });
  const [filters, setFilters] = useState(form);
  const [cursors, setCursors] = useState(['']);
  const [live, setLive] = useState('connecting');
  const cursor = cursors[cursors.length - 1];
  const params = () => ({
    ...filters,
    createdFrom: filters.createdFrom ? new Date(filters.createdFrom).toISOString() : '',
    createdTo: filters.createdTo ? new Date(filters.createdTo).toISOString() : '',
    limit: 25, cursor,
  });
  const page = useLoad(() => call(`/v1/orders${query(params())}`).then((r) => r.body), [filters, cursor]);
  const reload = useRef(page.reload);
  reload.current = page.reload;
  const onFirst = cursors.length === 1;
  useEffect(() => {
    if (!onFirst) return undefined;
    let timer = null;
    // At most one search every 250 ms, however busy the feed is.
    const stop = followFromNow({ type: 'oms.order.*' }, () => {
      if (timer) return;
      timer = setTimeout(() => { timer = null; reload.current(); }, 250);
    }, setLive);
    return () => { stop(); clearTimeout(timer); };
  }, [onFirst]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = (e) => { e.preventDefault(); setFilters(form); setCursors(['']); };
  const orders = page.data ? page.data.orders : [];
  return html`
    <h1>Orders</h1>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Search orders">
      <div class="field"><label for="f-status">Status</label>
        <select id="f-status" value=${form.status} onChange=${set('status')}>
          ${statuses.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></div>
      <div class="field"><label for="f-sku">SKU</label><input id="f-sku" value=${form.sku} onInput=${set('sku')} /></div>
      <div class="field"><label for="f-cust">Customer id</label><input id="f-cust" value=${form.customerId} onInput=${set('customerId')} /></div>
      <div class="field"><label for="f-seller">Seller</label>
        <select id="f-seller" value=${form.seller} onChange=${set('seller')}>
          <option value="">any</option><option value="INTERNAL">INTERNAL</option><option value="EXTERNAL">EXTERNAL</option></select></div>
      <div class="field"><label for="f-from">Created from</label><input id="f-from" type="datetime-local" value=${form.createdFrom} onInput=${set('createdFrom')} /></div>
      <div class="field"><label for="f-to">Created before</label><input id="f-to" type="datetime-local" value=${form.createdTo} onInput=${set('createdTo')} /></div>
      <button type="submit" class="primary">Search</button>
    </form>
    <p class="live" aria-live="polite">${onFirst ? `Live: ${live}` : 'Not live on later pages'}</p>
    <${ErrorBox} error=${page.error} />
    <table class="grid" data-table="orders">
      <caption class="sr-only">Orders, newest first</caption>
      <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Customer</th>
        <th scope="col">Seller</th><th scope="col" class="num">Total</th><th scope="col">Created</th></tr></thead>
      <tbody>
        ${orders.map((o) => html`<tr data-order=${o.id}>
          <td><a href=${href('orders', o.id)}>${o.id}</a></td><td><${StatusBadge} status=${o.status} /></td>
          <td>${o.customerId}</td><td>${o.seller}</td><td class="num">${money(o.totalAmount)}</td><td>${when(o.createdAt)}</td></tr>`)}
        ${!page.loading && !orders.length ? html`<tr><td colspan="6">No orders match.</td></tr>` : null}
      </tbody>
    </table>
    <${Pager} cursors=${cursors} setCursors=${setCursors} next=${page.data && page.data.nextCursor} />`;
}
