// The audit: every SKU's books checked against the orders that hold its
// units (GET /v1/audit); violations are listed (normally none).
import { html, useState } from '../vendor/preact-htm.js';
import { call } from '../api.js';
import { count, href, ErrorBox } from '../ui.js';

export function Audit() {
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const { body } = await call('/v1/audit');
      const at = new Date().toISOString();
      sessionStorage.setItem('oms.lastAudit', JSON.stringify({ ...body, at }));
      setResult({ ...body, at });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <h1>Audit</h1>
    <p>Checks that every SKU's counters add up and agree with the orders that hold its units.</p>
    <button type="button" class="primary" onClick=${run} disabled=${busy}>${busy ? 'Running…' : 'Run the audit'}</button>
    <${ErrorBox} error=${error} />
    ${result ? html`<section aria-live="polite">
      <p data-stat="audit-result"><strong>${result.violations.length} violations</strong> in ${count(result.skusChecked)} SKUs
        and ${count(result.liveOrders)} live orders. Units held by orders: ${count(result.unitsReserved)}
        reserved, ${count(result.unitsBlocked)} blocked.</p>
      ${result.violations.length ? html`<table class="grid"><thead><tr><th scope="col">SKU</th><th scope="col">What</th></tr></thead>
        <tbody>${result.violations.map((v) => html`<tr><td><a href=${href('inventory', v.sku)}>${v.sku}</a></td><td>${v.what}</td></tr>`)}</tbody></table>` : null}
    </section>` : null}`;
}
