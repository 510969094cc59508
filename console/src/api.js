// The console's only way to omsd: the public HTTP API v1, with the admin
// token the user signed in with (kept in this tab's session storage only).

const tokenKey = 'oms.adminToken';

export function token() {
  return sessionStorage.getItem(tokenKey) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(tokenKey, value);
  else sessionStorage.removeItem(tokenKey);
}

/** An answer of the API that is not a success, as the API explains it. */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

async function parse(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

/**
 * Calls the API: resolves {body, etag, status}, or rejects with an ApiError
 * carrying the API's code and message (or a network error's).
 */
export async function call(path, { method = 'GET', body, ifMatch, signal, auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (ifMatch) headers['If-Match'] = ifMatch;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NETWORK', `omsd did not answer: ${e.message}`);
  }
  const json = await parse(res);
  if (!res.ok) {
    const err = (json && json.error) || {};
    throw new ApiError(res.status, err.code || `HTTP_${res.status}`,
      err.message || `HTTP ${res.status}`, err.details);
  }
  return { body: json, etag: res.headers.get('ETag'), status: res.status };
}

/** The query string of the set fields of `params`. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * The id of the newest durable event (from /readyz), as a feed cursor; null
 * when omsd is not ready (a follower would otherwise replay every event).
 */
export async function headSeq() {
  try {
    const { body } = await call('/readyz');
    return String(body.lastSeq || 0);
  } catch {
    return null;
  }
}

/**
 * follow() from the newest durable event on (`back` events before it), so
 * that a page sees what happens while it is open, not the whole log. If
 * omsd is not ready, onState says so and nothing is followed. Returns a
 * function that stops.
 */
export function followFromNow(params, onEvent, onState = () => {}, back = 0) {
  let stop = () => {};
  let gone = false;
  headSeq().then((head) => {
    if (gone) return;
    if (head === null) { onState('unavailable: omsd is not ready'); return; }
    const after = String(Math.max(0, Number(head) - back));
    stop = follow({ ...params, after }, onEvent, onState);
  });
  return () => { gone = true; stop(); };
}

/** The Prometheus text of /metrics (public: no token). */
export async function metricsText(signal) {
  const res = await fetch('/metrics', { signal, cache: 'no-store' });
  if (!res.ok) throw new ApiError(res.status, `HTTP_${res.status}`, 'metrics unavailable');
  return res.text();
}

/**
 * Follows the change feed as Server-Sent Events (fetch, since EventSource
 * cannot send the token), calling onEvent(cloudEvent) for each; resumes
 * after a disconnect from the last id seen. Returns a function that stops.
 */
export function follow(params, onEvent, onState = () => {}) {
  const controller = new AbortController();
  let last = params.after || '';
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      try {
        const headers = { Accept: 'text/event-stream', Authorization: `Bearer ${token()}` };
        if (last) headers['Last-Event-ID'] = last;
        const { after, ...rest } = params;
        const res = await fetch(`/v1/events${query(rest)}`, { headers, signal: controller.signal });
        if (!res.ok) {
          const json = await parse(res);
          const err = (json && json.error) || {};
          onState('error', new ApiError(res.status, err.code, err.message || `HTTP ${res.status}`));
          if (res.status === 401 || res.status === 403 || res.status === 400) return;
          if (res.status === 410 && err.details && err.details.first)
            last = String(Number(err.details.first) - 1);
        } else {
          onState('live');
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += value;
            let end;
            while ((end = buffer.indexOf('\n\n')) >= 0) {
              const frame = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              let id = '';
              const data = [];
              for (const line of frame.split('\n')) {
                if (line.startsWith('id:')) id = line.slice(3).trim();
                else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
              }
              if (id) last = id;
              if (data.length) {
                try { onEvent(JSON.parse(data.join('\n'))); } catch { /* a comment or keep-alive */ }
              }
            }
          }
        }
      } catch (e) {
        if (stopped || e.name === 'AbortError') return;
        onState('error', e);
      }
      if (!stopped) {
        onState('reconnecting');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  run();
  return () => { stopped = true; controller.abort(); };
}
