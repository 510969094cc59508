// The operations console: sign-in, the navigation and the hash router. Every
// page talks to omsd through the public API v1 only (api.js).
import { html, render, useEffect, useState } from './vendor/preact-htm.js';
import { call, setToken, token } from './api.js';
import { ErrorBox } from './ui.js';
import { Overview } from './pages/overview.js';
import { Inventory } from './pages/inventory.js';
import { Sku } from './pages/sku.js';
import { Orders } from './pages/orders.js';
import { Order } from './pages/order.js';
import { Events } from './pages/events.js';
import { Audit } from './pages/audit.js';

const pages = [
  ['overview', 'Overview'],
  ['inventory', 'Inventory'],
  ['orders', 'Orders'],
  ['events', 'Events'],
  ['audit', 'Audit'],
];

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean)
    .map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  return parts.length ? parts : ['overview'];
}

function SignIn({ onSignedIn }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setToken(value.trim());
    try {
      // An admin route that reads nothing big: refused for any other token.
      await call('/v1/events/types');
      onSignedIn();
    } catch (err) {
      setToken('');
      setError(err.status === 403
        ? { code: err.code, message: 'this token is not the admin token' }
        : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>OMS console</h1>
    <form onSubmit=${submit}>
      <label for="token">Admin token</label>
      <input id="token" name="token" type="password" autocomplete="off" required
        value=${value} onInput=${(e) => setValue(e.target.value)} />
      <p class="hint">Kept in this tab only (session storage), never in a URL or a cookie.</p>
      <${ErrorBox} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>Sign in</button>
    </form>
  </main>`;
}

function Page({ parts }) {
  const [first, second] = parts;
  switch (first) {
    case 'overview': return html`<${Overview} />`;
    case 'inventory':
      return second
        ? html`<${Sku} sku=${second} seller=${parts[2] === 'external' ? 'EXTERNAL' : 'INTERNAL'} />`
        : html`<${Inventory} />`;
    case 'orders': return second ? html`<${Order} id=${second} />` : html`<${Orders} />`;
    case 'events': return html`<${Events} />`;
    case 'audit': return html`<${Audit} />`;
    default: return html`<p>No such page. <a href="#/overview">Overview</a></p>`;
  }
}

// The hash is the router's: the skip link moves the focus itself.
function skipToMain(e) {
  e.preventDefault();
  document.getElementById('main').focus();
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(token()));
  const [parts, setParts] = useState(route());
  useEffect(() => {
    const onHash = () => setParts(route());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const name = pages.find(([p]) => p === parts[0]);
    document.title = `${name ? name[1] : 'OMS'} · OMS console`;
  }, [parts]);
  if (!signedIn) return html`<${SignIn} onSignedIn=${() => setSignedIn(true)} />`;
  const signOut = () => { setToken(''); setSignedIn(false); };
  return html`
    <a class="skip" href="#main" onClick=${skipToMain}>Skip to content</a>
    <header class="top">
      <span class="brand">OMS console</span>
      <nav aria-label="Pages">
        <ul>
          ${pages.map(([p, label]) => html`<li>
            <a href=${`#/${p}`} aria-current=${parts[0] === p ? 'page' : undefined}>${label}</a>
          </li>`)}
        </ul>
      </nav>
      <button type="button" class="link" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${Page} parts=${parts} /></main>`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
