// A live tail of the change feed with filters: the newest events first,
// kept to the last 500.
import { html, useEffect, useState } from '../vendor/preact-htm.js';
import { followFromNow, call } from '../api.js';
import { when, ErrorBox } from '../ui.js';

const keep = 500;

export function Events() {
  const [form, setForm] = useState({ type: '', subject: '' });
  const [filters, setFilters] = useState(form);
  const [events, setEvents] = useState([]);
  const [state, setState] = useState('connecting');
  const [error, setError] = useState(null);
  const [types, setTypes] = useState([]);
  useEffect(() => { call('/v1/events/types').then((r) => setTypes(r.body.types || [])).catch(() => {}); }, []);
  useEffect(() => {
    setEvents([]);
    setError(null);
    // The last 50 before now, then live.
    return followFromNow(filters, (e) => setEvents((xs) => [e, ...xs].slice(0, keep)),
      (st, err) => {
        setState(st);
        if (err) setError(err);
        else if (st === 'live') setError(null);
      }, 50);
  }, [filters]);
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const submit = (e) => { e.preventDefault(); setFilters({ ...form }); };
  return html`
    <h1>Events</h1>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Filter events">
      <div class="field"><label for="e-type">Type</label>
        <select id="e-type" value=${form.type} onChange=${set('type')}>
          <option value="">any</option><option value="oms.order.*">oms.order.*</option>
          <option value="oms.stock.*">oms.stock.*</option><option value="oms.sku.*">oms.sku.*</option>
          ${types.map((t) => html`<option value=${t}>${t}</option>`)}</select></div>
      <div class="field"><label for="e-subject">Subject (order id, SKU or customer)</label>
        <input id="e-subject" value=${form.subject} onInput=${set('subject')} /></div>
      <button type="submit" class="primary">Apply</button>
    </form>
    <p class="live" aria-live="polite">Stream: ${state}</p>
    <${ErrorBox} error=${error} />
    <table class="grid" data-table="events">
      <caption class="sr-only">Events, newest first</caption>
      <thead><tr><th scope="col" class="num">Id</th><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Subject</th><th scope="col">Data</th></tr></thead>
      <tbody>${events.map((e) => html`<tr data-id=${e.id}>
        <td class="num">${e.id}</td><td>${when(e.time)}</td><td>${e.type}</td><td>${e.subject}</td>
        <td><code>${JSON.stringify(e.data)}</code></td></tr>`)}
        ${!events.length ? html`<tr><td colspan="5">No events yet.</td></tr>` : null}</tbody>
    </table>`;
}
