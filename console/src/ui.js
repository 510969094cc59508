// Pieces every page of the console uses: formatting, error boxes, the
// confirmation dialog, and a hook that loads from the API.
import { html, useEffect, useRef, useState, useCallback } from './vendor/preact-htm.js';

const inr = new Intl.NumberFormat('en-IN', { style: 'currency', currency: 'INR' });

/** Minor units (paise) as rupees. */
export function money(minor) {
  if (minor === null || minor === undefined) return '—';
  return inr.format(minor / 100);
}

export function count(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString('en-IN');
}

export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? ts : d.toLocaleString('en-GB', { hour12: false });
}

/** Seconds as a short duration ("4.2 ms"). */
export function seconds(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '—';
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(1)} ms`;
  return `${s.toFixed(2)} s`;
}

export function href(...parts) {
  return `#/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
}

/** The API's refusal as the user should read it: its code and message. */
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code || 'ERROR'}</strong> ${error.message}
  </div>`;
}

/**
 * Loads `fn()` (a promise) when `deps` change; answers {data, error,
 * loading, reload}.
 */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const counter = useRef(0);
  const reload = useCallback(() => {
    const mine = ++counter.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => { if (mine === counter.current) setState({ data, error: null, loading: false }); },
      (error) => { if (mine === counter.current) setState({ data: null, error, loading: false }); },
    );
  }, deps);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

/**
 * A button that asks for confirmation (a modal dialog naming what will
 * happen), then runs `action`; shows the API's error if it is refused.
 */
export function ConfirmButton({ label, question, action, onDone, danger }) {
  const dialog = useRef(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const open = () => { setError(null); dialog.current.showModal(); };
  const confirm = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      const result = await action();
      dialog.current.close();
      onDone && onDone(result);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <button type="button" class=${danger ? 'danger' : ''} onClick=${open}>${label}</button>
    <dialog ref=${dialog} aria-label=${label}>
      <form method="dialog" onSubmit=${confirm}>
        <p>${question}</p>
        <${ErrorBox} error=${error} />
        <div class="actions">
          <button type="button" onClick=${() => dialog.current.close()}>Back</button>
          <button type="submit" class=${danger ? 'danger' : 'primary'} disabled=${busy}>
            ${busy ? 'Working…' : `Yes, ${label.toLowerCase()}`}
          </button>
        </div>
      </form>
    </dialog>`;
}

/** Calls `fn` every `ms` while the component is shown. */
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

/**
 * Previous and Next for a cursor-paged list: `cursors` holds the cursor of
 * each page seen ('' for the first), `next` the current page's nextCursor.
 */
export function Pager({ cursors, setCursors, next }) {
  return html`<div class="pager">
    <button type="button" disabled=${cursors.length < 2} onClick=${() => setCursors(cursors.slice(0, -1))}>Previous</button>
    <button type="button" disabled=${!next} onClick=${() => setCursors([...cursors, next])}>Next</button>
  </div>`;
}

export function StatusBadge({ status }) {
  return html`<span class=${`badge s-${String(status).toLowerCase()}`}>${status}</span>`;
}
