// What the console's browser tests run against: a real omsd on a free port
// (with a throwaway data directory and a wms-sim for the EXTERNAL seller),
// Debian's chromium driven by playwright-core, and a small API client.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

// (import.meta.dirname needs Node 20; Debian 12 has 18.)
const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const paths = {
  omsd: process.env.OMSD || join(root, 'build', 'omsd'),
  wmsSim: process.env.WMS_SIM || join(root, 'build', 'wms-sim'),
  chromium: process.env.CHROMIUM || '/usr/bin/chromium',
  screenshots: process.env.SCREENSHOTS || join(root, 'console', 'screenshots'),
};

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `seconds`) until `url` answers 200. */
async function waitFor(url, proc, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`${url}: the process exited with ${proc.exitCode}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${seconds} s`);
}

function start(bin, args, logFile) {
  const proc = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const chunks = [];
  proc.stderr.on('data', (d) => chunks.push(d));
  proc.on('exit', () => writeFileSync(logFile, Buffer.concat(chunks)));
  return proc;
}

function stop(proc) {
  return new Promise((ok) => {
    if (!proc || proc.exitCode !== null) return ok();
    proc.on('exit', () => ok());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 20000).unref();
  });
}

/** omsd with a wms-sim, on loopback, until stop(). */
export async function startShop() {
  const dir = mkdtempSync(join(tmpdir(), 'oms-console-'));
  const wmsPort = await freePort();
  const seed = join(dir, 'wms-seed.json');
  writeFileSync(seed, JSON.stringify({ skus: [{ sku: 'EXT-TV', onHand: 20, unitPrice: 4199900 }] }));
  const wms = start(paths.wmsSim, ['--port', String(wmsPort), '--seed-file', seed,
    '--batch-interval', '0s', '--rate-limit', '0', '--log-level', 'warn'], join(dir, 'wms.log'));
  await waitFor(`http://127.0.0.1:${wmsPort}/healthz`, wms);
  const port = await freePort();
  const token = 'console-test-admin-token';
  const omsd = start(paths.omsd, ['--port', String(port), '--data-dir', join(dir, 'data'),
    '--admin-token', token, '--log-level', 'warn', '--wms-url', `http://127.0.0.1:${wmsPort}`,
    '--external-snapshot-min-interval', '1s', '--external-feed-interval', '1s'], join(dir, 'omsd.log'));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/readyz`, omsd);
  return {
    url, token, dir,
    async stop() {
      await stop(omsd);
      await stop(wms);
      if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client of the API with a token: answers {status, body, headers}. */
export function client(url, token) {
  return async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}

export async function launch() {
  return chromium.launch({
    executablePath: paths.chromium,
    // As root (CI), Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export function screenshotPath(name) {
  mkdirSync(paths.screenshots, { recursive: true });
  return join(paths.screenshots, `${name}.png`);
}

export const address = { line1: '1 MG Road', city: 'Pune', postalCode: '411001', country: 'IN' };
