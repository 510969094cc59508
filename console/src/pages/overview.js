// The overview: orders per second and their latency, open orders, the
// journal, the WMS gateway and the last audit, from /metrics every two
// seconds (charts of the last five minutes) without reloading.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.js';
import uPlot from '../vendor/uplot.js';
import { call, metricsText } from '../api.js';
import { parseMetrics, total, byLabel, buckets, quantileBetween } from '../metrics.js';
import { count, seconds, ErrorBox, useInterval } from '../ui.js';

const every = 2000;
const keep = 150; // five minutes of points

const orderRoute = { route: '/v1/orders', method: 'POST' };
const breakerStates = ['CLOSED', 'OPEN', 'HALF_OPEN'];

function Chart({ title, series, unit }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(280, box.current.clientWidth);
    plot.current = new uPlot({
      title, width, height: 180,
      // The last five minutes, however few points there are yet.
      scales: { x: { time: true, range: (u, min, max) => [max - (keep * every) / 1000, max] } },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => `${t}${unit}`) }],
      series: [{}, { label: title, stroke: '#1d4ed8', width: 2, fill: 'rgba(29,78,216,0.08)' }],
    }, [[], []], box.current);
    const onResize = () => plot.current.setSize({ width: Math.max(280, box.current.clientWidth), height: 180 });
    window.addEventListener('resize', onResize);
    return () => { window.removeEventListener('resize', onResize); plot.current.destroy(); };
  }, []);
  useEffect(() => {
    if (plot.current) plot.current.setData([series.map((p) => p[0]), series.map((p) => p[1])]);
  }, [series]);
  return html`<figure class="chart" ref=${box} aria-label=${title}></figure>`;
}

function Stat({ label, value, id }) {
  return html`<div class="stat"><dt>${label}</dt><dd data-stat=${id}>${value}</dd></div>`;
}

export function Overview() {
  const [now, setNow] = useState(null);
  const [points, setPoints] = useState({ rate: [], p99: [] });
  const [error, setError] = useState(null);
  const [audit, setAudit] = useState(() => JSON.parse(sessionStorage.getItem('oms.lastAudit') || 'null'));
  const [auditError, setAuditError] = useState(null);
  const prev = useRef(null);

  const scrape = async () => {
    try {
      const samples = parseMetrics(await metricsText());
      const t = Date.now() / 1000;
      const created = total(samples, 'oms_order_transitions_total', { status: 'CREATED' });
      const latency = buckets(samples, 'oms_http_request_duration_seconds', orderRoute);
      const snap = { t, created, latency, samples };
      if (prev.current) {
        const dt = t - prev.current.t;
        const rate = dt > 0 ? (created - prev.current.created) / dt : 0;
        const p99 = quantileBetween(prev.current.latency, latency, 0.99);
        setPoints((p) => ({
          rate: [...p.rate, [t, rate]].slice(-keep),
          p99: [...p.p99, [t, p99 === null ? null : p99 * 1000]].slice(-keep),
        }));
        snap.rate = rate;
        snap.p99 = p99;
      }
      prev.current = snap;
      setNow(snap);
      setError(null);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => { scrape(); }, []);
  useInterval(scrape, every);

  const runAudit = async () => {
    setAuditError(null);
    try {
      const { body } = await call('/v1/audit');
      const result = { ...body, at: new Date().toISOString() };
      sessionStorage.setItem('oms.lastAudit', JSON.stringify(result));
      setAudit(result);
    } catch (e) {
      setAuditError(e);
    }
  };

  const s = now ? now.samples : [];
  const open = byLabel(s, 'oms_orders_open', 'status');
  const holding = byLabel(s, 'oms_orders_holding_stock', 'kind');
  const units = byLabel(s, 'oms_units_held', 'kind');
  const commits = total(s, 'oms_journal_commit_seconds_count');
  const commitAvg = commits ? total(s, 'oms_journal_commit_seconds_sum') / commits : null;
  const batches = total(s, 'oms_journal_batch_events_count');
  const batchAvg = batches ? total(s, 'oms_journal_batch_events_sum') / batches : null;
  const hasWms = s.some((x) => x.name === 'oms_wms_breaker_state');
  const breaker = breakerStates[total(s, 'oms_wms_breaker_state')] || '—';

  return html`
    <h1>Overview</h1>
    <${ErrorBox} error=${error} />
    <section aria-labelledby="traffic">
      <h2 id="traffic">Orders</h2>
      <dl class="stats">
        <${Stat} id="rate" label="Orders per second" value=${now && now.rate !== undefined ? now.rate.toFixed(1) : '—'} />
        <${Stat} id="p99" label="p99 of POST /v1/orders" value=${now && now.p99 ? seconds(now.p99) : '—'} />
        <${Stat} id="created-total" label="Created since start" value=${count(now && now.created)} />
      </dl>
      <div class="charts">
        <${Chart} title="Orders per second" unit="" series=${points.rate} />
        <${Chart} title="p99 latency of order creation (ms)" unit="" series=${points.p99} />
      </div>
    </section>
    <section aria-labelledby="open">
      <h2 id="open">Open orders</h2>
      <dl class="stats">
        ${['CREATED', 'CONFIRMED', 'PAID', 'PARTIALLY_SHIPPED', 'SHIPPED'].map((st) =>
          html`<${Stat} id=${`open-${st}`} label=${st} value=${count(open[st])} />`)}
        <${Stat} id="units-reserved" label="Units reserved" value=${count(units.reserved)} />
        <${Stat} id="units-blocked" label="Units blocked" value=${count(units.blocked)} />
        <${Stat} id="holding-reserved" label="Orders holding reserved units" value=${count(holding.reserved)} />
        <${Stat} id="holding-blocked" label="Orders holding blocked units" value=${count(holding.blocked)} />
      </dl>
    </section>
    <section aria-labelledby="journal">
      <h2 id="journal">Journal</h2>
      <dl class="stats">
        <${Stat} id="commit" label="Mean commit time" value=${seconds(commitAvg)} />
        <${Stat} id="batch" label="Mean events per commit" value=${batchAvg === null ? '—' : batchAvg.toFixed(1)} />
        <${Stat} id="last-seq" label="Last event id" value=${count(total(s, 'oms_journal_last_seq'))} />
        <${Stat} id="failing" label="Commits failing" value=${total(s, 'oms_journal_failing') ? 'YES' : 'no'} />
      </dl>
    </section>
    <section aria-labelledby="wms">
      <h2 id="wms">Warehouse (EXTERNAL seller)</h2>
      ${hasWms ? html`<dl class="stats">
        <${Stat} id="breaker" label="Breaker" value=${breaker} />
        <${Stat} id="wms-queue" label="Calls queued" value=${count(total(s, 'oms_wms_queue_depth'))} />
        <${Stat} id="wms-in-flight" label="Calls in flight" value=${count(total(s, 'oms_wms_in_flight'))} />
        <${Stat} id="wms-sends" label="Calls sent" value=${count(total(s, 'oms_wms_sends_total'))} />
        <${Stat} id="wms-window" label="Most calls in one rate window" value=${count(total(s, 'oms_wms_sends_per_window_max'))} />
        <${Stat} id="wms-retries" label="Retries" value=${count(total(s, 'oms_wms_retries_total'))} />
      </dl>` : html`<p>No WMS configured.</p>`}
    </section>
    <section aria-labelledby="audit-h">
      <h2 id="audit-h">Audit</h2>
      <p data-stat="audit">${audit
        ? html`Last run ${new Date(audit.at).toLocaleTimeString('en-GB')}: ${audit.skusChecked} SKUs,
            <strong>${audit.violations.length} violations</strong>; units held then:
            ${count(audit.unitsReserved)} reserved, ${count(audit.unitsBlocked)} blocked`
        : 'Not run in this tab yet.'}</p>
      <${ErrorBox} error=${auditError} />
      <button type="button" onClick=${runAudit}>Run the audit</button>
    </section>`;
}
