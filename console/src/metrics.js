// Reading omsd's /metrics (Prometheus text format 0.0.4) for the overview:
// samples by name and labels, rates between two scrapes, and quantiles of
// histograms from their buckets.

/** Parses the text into [{name, labels, value}]. */
export function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      let l;
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2].replace(/\\(.)/g, '$1');
    }
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    samples.push({ name: m[1], labels, value });
  }
  return samples;
}

function matches(labels, filter) {
  return Object.entries(filter).every(([k, v]) => labels[k] === v);
}

/** The sum of the samples of `name` whose labels include `filter`. */
export function total(samples, name, filter = {}) {
  let sum = 0;
  for (const s of samples) if (s.name === name && matches(s.labels, filter)) sum += s.value;
  return sum;
}

/** {labelValue: value} of the samples of `name`, by one label. */
export function byLabel(samples, name, label, filter = {}) {
  const out = {};
  for (const s of samples)
    if (s.name === name && matches(s.labels, filter) && label in s.labels)
      out[s.labels[label]] = (out[s.labels[label]] || 0) + s.value;
  return out;
}

/** Cumulative buckets of histogram `name` as [[le, count]], sorted. */
export function buckets(samples, name, filter = {}) {
  const by = new Map();
  for (const s of samples)
    if (s.name === `${name}_bucket` && matches(s.labels, filter)) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      by.set(le, (by.get(le) || 0) + s.value);
    }
  return [...by.entries()].sort((a, b) => a[0] - b[0]);
}

/**
 * The q-quantile of the observations a histogram gained between two
 * scrapes (linear within a bucket, as Prometheus estimates it); null when
 * nothing was observed.
 */
export function quantileBetween(before, after, q) {
  const prev = new Map(before);
  const delta = after.map(([le, n]) => [le, n - (prev.get(le) || 0)]);
  const count = delta.length ? delta[delta.length - 1][1] : 0;
  if (count <= 0) return null;
  const rank = q * count;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const [le, n] of delta) {
    if (n >= rank) {
      if (le === Infinity) return lowerLe;
      const inBucket = n - lowerCount;
      return inBucket > 0 ? lowerLe + (le - lowerLe) * ((rank - lowerCount) / inBucket) : le;
    }
    lowerLe = le;
    lowerCount = n;
  }
  return lowerLe;
}
