// The SKUs of a seller, page by page, and a jump to one by name.
import { html, useState } from '../vendor/preact-htm.js';
import { call, query } from '../api.js';
import { count, money, href, ErrorBox, Pager, useLoad } from '../ui.js';

export function Inventory() {
  const [seller, setSeller] = useState('INTERNAL');
  const [cursors, setCursors] = useState(['']); // the cursor of each page seen
  const [jump, setJump] = useState('');
  const cursor = cursors[cursors.length - 1];
  const page = useLoad(() => call(`/v1/inventory${query({ seller, limit: 25, cursor })}`)
    .then((r) => r.body), [seller, cursor]);
  const go = (e) => {
    e.preventDefault();
    const sku = jump.trim();
    if (sku) location.hash = href('inventory', sku) + (seller === 'EXTERNAL' ? '/external' : '');
  };
  const items = page.data ? page.data.items : [];
  return html`
    <h1>Inventory</h1>
    <div class="toolbar">
      <form class="inline" onSubmit=${go} role="search">
        <label for="jump">SKU</label>
        <input id="jump" value=${jump} onInput=${(e) => setJump(e.target.value)} placeholder="e.g. TEA-250" />
        <button type="submit">Open</button>
      </form>
      <label for="seller">Seller</label>
      <select id="seller" value=${seller} onChange=${(e) => { setSeller(e.target.value); setCursors(['']); }}>
        <option value="INTERNAL">INTERNAL</option>
        <option value="EXTERNAL">EXTERNAL</option>
      </select>
    </div>
    <${ErrorBox} error=${page.error} />
    <table class="grid">
      <caption class="sr-only">SKUs of the ${seller} seller</caption>
      <thead><tr>
        <th scope="col">SKU</th><th scope="col" class="num">Price</th>
        <th scope="col" class="num">On hand</th><th scope="col" class="num">Reserved</th>
        <th scope="col" class="num">Blocked</th><th scope="col" class="num">Available</th>
      </tr></thead>
      <tbody>
        ${items.map((s) => html`<tr>
          <td><a href=${href('inventory', s.sku) + (seller === 'EXTERNAL' ? '/external' : '')}>${s.sku}</a></td>
          <td class="num">${money(s.unitPrice)}</td>
          <td class="num">${count(s.onHand)}</td>
          <td class="num">${count(s.reserved)}</td>
          <td class="num">${count(s.blocked)}</td>
          <td class="num">${count(s.available)}</td>
        </tr>`)}
        ${!page.loading && !items.length ? html`<tr><td colspan="6">No SKUs.</td></tr>` : null}
      </tbody>
    </table>
    <${Pager} cursors=${cursors} setCursors=${setCursors} next=${page.data && page.data.nextCursor} />`;
}
