// refmatch review page: plain JS, no framework, no build. Every value from the API is put
// into the page with textContent, never as HTML: the page holds an API key.
'use strict';

(() => {
  const KEY_STORAGE = 'refmatch.key';
  const PAGE_SIZE = 50;
  const POLL_MS = 1000;
  const DIFF_MAX = 160;
  const ACTIVE = new Set(['queued', 'running', 'ai_resolving']);

  // Timings a browser test reads: ms since navigation (performance.now()).
  const timings = (window.__refmatchTimings = { script: performance.now() });

  const $ = (id) => document.getElementById(id);
  const state = {
    view: null,
    runsCursor: null,
    runs: [],
    run: null,
    results: [],
    page: 1,
    total: 0,
    selected: 0,
    filter: { status: '', matched: '', min: '', max: '' },
    config: null,
    histogram: null,
    pollTimer: null,
    busy: false,
  };

  // ---------- small DOM helpers ----------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function bar(value, label) {
    const v = Math.max(0, Math.min(1, Number(value) || 0));
    const inner = el('span');
    inner.style.width = (v * 100).toFixed(1) + '%';
    const cls = v >= 0.85 ? 'good' : v >= 0.5 ? 'mid' : 'low';
    return el('div', { class: 'bar ' + cls, role: 'img', 'aria-label': label || `${Math.round(v * 100)}%` }, inner);
  }

  function badge(status) {
    return el('span', { class: 'badge s-' + status, text: status.replace('_', ' ') });
  }

  const fmtConf = (x) => (x === null || x === undefined ? '–' : Number(x).toFixed(3));
  const fmtInt = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
  function fmtTime(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return '';
    if (ms < 1000) return ms + ' ms';
    const s = Math.round(ms / 1000);
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }

  function say(text) {
    $('status-line').textContent = text;
  }

  function flash(text, kind) {
    const box = $('flash');
    box.textContent = text;
    box.className = kind === 'info' ? 'info' : '';
    box.hidden = !text;
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(status, body) {
      const code = (body && (body.code || (body.error && body.error.code))) || 'http_' + status;
      const message = (body && (typeof body.message === 'string' ? body.message : body.error && body.error.message)) || 'request failed';
      super(`${message} (${code}, HTTP ${status})`);
      this.status = status;
      this.code = code;
      const details = (body && body.details) || [];
      if (details.length) {
        this.message += '\n' + details.map((d) => `• ${d.field ? d.field + ': ' : ''}${d.message}`).join('\n');
      }
      if (status === 429 && body && body.retryAfter) this.message += ` Try again in ${body.retryAfter} s.`;
    }
  }

  // `body`: a value sent as JSON, or a FormData (multipart) or Blob sent as it is, with
  // `contentType` for a Blob.
  async function api(method, path, body, contentType) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) {
      signOut('Sign in with an API key.');
      throw new ApiError(401, { code: 'unauthorized', message: 'not signed in' });
    }
    const headers = { Authorization: 'Bearer ' + key, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store' };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body instanceof Blob) {
      headers['Content-Type'] = contentType || body.type || 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, { code: 'network', message: 'the server cannot be reached' });
    }
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      json = { message: text.slice(0, 200) };
    }
    if (!response.ok) {
      if (response.status === 429) json = Object.assign({}, json, { retryAfter: response.headers.get('Retry-After') });
      const error = new ApiError(response.status, json);
      if (response.status === 401) signOut('Your key was not accepted: ' + error.message);
      throw error;
    }
    return json;
  }

  function report(error) {
    if (error instanceof ApiError && error.status === 401) return;
    console.error(error);
    flash(error.message || String(error));
  }

  // ---------- sign-in and routing ----------

  function signOut(message) {
    sessionStorage.removeItem(KEY_STORAGE);
    stopPolling();
    if (location.hash && location.hash !== '#/signin') sessionStorage.setItem('refmatch.after', location.hash);
    show('signin');
    $('signin-error').textContent = message || '';
    $('signin-key').focus();
  }

  function show(view) {
    state.view = view;
    for (const name of ['signin', 'runs', 'run', 'config', 'packages', 'setup']) $('view-' + name).hidden = name !== view;
    const signedIn = view !== 'signin';
    $('nav').hidden = !signedIn;
    $('sign-out').hidden = !signedIn;
    $('help-open').hidden = view !== 'run';
    $('nav-runs').toggleAttribute('aria-current', view === 'runs' || view === 'run');
    if (view === 'runs' || view === 'run') $('nav-runs').setAttribute('aria-current', 'page');
    $('nav-config').toggleAttribute('aria-current', view === 'config');
    if (view === 'config') $('nav-config').setAttribute('aria-current', 'page');
    $('nav-packages').toggleAttribute('aria-current', view === 'packages');
    if (view === 'packages') $('nav-packages').setAttribute('aria-current', 'page');
    $('nav-setup').toggleAttribute('aria-current', view === 'setup');
    if (view === 'setup') $('nav-setup').setAttribute('aria-current', 'page');
  }

  async function route() {
    flash('');
    stopPolling();
    if (!sessionStorage.getItem(KEY_STORAGE)) {
      signOut('');
      return;
    }
    const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
    try {
      if (parts[0] === 'runs' && parts[1]) await openRun(parts[1]);
      else if (parts[0] === 'setup') await openSetup();
      else if (parts[0] === 'config') await openConfig(parts[1] || null, parts[2] || null);
      else if (parts[0] === 'packages') await openPackages();
      else await openRuns();
    } catch (e) {
      report(e);
    }
  }

  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = $('signin-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('signin-error').textContent = '';
    try {
      // Any keyed read checks the key; the runs list is what the page shows next anyway.
      await api('GET', '/v1/matching/runs?limit=1');
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) $('signin-error').textContent = e.message;
      return;
    }
    $('signin-key').value = '';
    const after = sessionStorage.getItem('refmatch.after');
    sessionStorage.removeItem('refmatch.after');
    if (after && after !== location.hash) location.hash = after;
    else route();
  });

  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('refmatch.after');
    location.hash = '';
    signOut('Signed out.');
  });

  window.addEventListener('hashchange', route);

  // ---------- runs list ----------

  async function openRuns() {
    show('runs');
    state.runs = [];
    state.runsCursor = null;
    await loadRuns(false);
    $('runs-title').focus({ preventScroll: true });
  }

  async function loadRuns(more) {
    const params = new URLSearchParams({ limit: '50' });
    const status = $('runs-status').value;
    if (status) params.set('status', status);
    if (more && state.runsCursor) params.set('cursor', state.runsCursor);
    const page = await api('GET', '/v1/matching/runs?' + params);
    state.runs = more ? state.runs.concat(page.data) : page.data;
    state.runsCursor = page.pagination && page.pagination.has_more ? page.pagination.next_cursor : null;
    renderRuns();
    pollRuns();
  }

  function renderRuns() {
    const body = $('runs-body');
    body.replaceChildren(...state.runs.map(runRow));
    $('runs-empty').hidden = state.runs.length > 0;
    $('runs-more').hidden = !state.runsCursor;
    $('runs-more').parentElement.hidden = !state.runsCursor;
  }

  function runRow(run) {
    const active = ACTIVE.has(run.status);
    const progress = el('div', { class: 'cell-progress', id: 'progress-' + run.id });
    fillProgress(progress, run, state.progress && state.progress[run.id]);
    const actions = el('td', { class: 'nowrap num' },
      el('a', { href: '#/runs/' + encodeURIComponent(run.id), text: 'Open', 'aria-label': 'Open run ' + run.id.slice(0, 8) }),
      ' ',
      active
        ? el('button', { type: 'button', class: 'small', text: 'Cancel', 'aria-label': 'Cancel run ' + run.id.slice(0, 8), onclick: () => cancelRun(run) })
        : el('button', { type: 'button', class: 'small', text: 'Re-run', 'aria-label': 'Run config of run ' + run.id.slice(0, 8) + ' again', onclick: () => rerun(run.matching_config_id) }));
    return el('tr', { dataset: { runId: run.id } },
      el('td', { class: 'nowrap' }, fmtTime(run.created_at)),
      el('td', {}, badge(run.status)),
      el('td', {}, progress),
      el('td', { class: 'num' }, fmtInt(run.rows_processed)),
      el('td', { class: 'num' }, fmtInt(run.rows_matched)),
      el('td', { class: 'num' }, fmtConf(run.avg_confidence)),
      el('td', {}, run.triggered_by),
      el('td', { class: 'mono' }, el('a', { href: '#/config/' + encodeURIComponent(run.matching_config_id) + '/' + encodeURIComponent(run.id), text: run.matching_config_id.slice(0, 8), title: run.matching_config_id })),
      actions);
  }

  function fillProgress(node, run, progress) {
    if (progress && ACTIVE.has(progress.status)) {
      const share = progress.rows_total ? (progress.rows_processed || 0) / progress.rows_total : progress.phase_progress;
      node.replaceChildren(
        bar(share, `${Math.round(share * 100)}% done`),
        el('span', { class: 'small muted nowrap' }, `${progress.phase} ${Math.round(share * 100)}%${progress.eta_ms ? ' · ' + fmtMs(progress.eta_ms) + ' left' : ''}`));
    } else if (ACTIVE.has(run.status)) {
      node.replaceChildren(el('span', { class: 'small muted', text: run.status === 'queued' ? 'waiting' : '…' }));
    } else if (run.status === 'completed') {
      node.replaceChildren(bar(1, 'done'), el('span', { class: 'small muted', text: 'done' }));
    } else {
      node.replaceChildren(el('span', { class: 'small muted', text: run.error || '' }));
    }
  }

  // While any run on screen is queued or running, its progress is polled every second.
  function pollRuns() {
    stopPolling();
    const active = state.runs.filter((r) => ACTIVE.has(r.status));
    if (!active.length || state.view !== 'runs') return;
    state.pollTimer = setTimeout(async () => {
      state.progress = state.progress || {};
      let ended = false;
      for (const run of active) {
        try {
          const p = await api('GET', `/v1/matching/runs/${encodeURIComponent(run.id)}/progress`);
          state.progress[run.id] = p;
          const node = $('progress-' + run.id);
          if (node) fillProgress(node, run, p);
          if (!ACTIVE.has(p.status)) ended = true;
        } catch (e) {
          report(e);
          return;
        }
      }
      if (state.view !== 'runs') return;
      if (ended) await loadRuns(false);
      else pollRuns();
    }, POLL_MS);
  }

  function stopPolling() {
    if (state.pollTimer) clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  async function cancelRun(run) {
    try {
      await api('POST', `/v1/matching/runs/${encodeURIComponent(run.id)}/cancel`);
      say('Run cancelled.');
      await loadRuns(false);
    } catch (e) {
      report(e);
    }
  }

  async function rerun(configId) {
    try {
      const run = await api('POST', `/v1/matching/configs/${encodeURIComponent(configId)}/run`, { triggered_by: 'manual' });
      flash(`Run ${run.id.slice(0, 8)} queued.`, 'info');
      if (state.view === 'runs') await loadRuns(false);
      else location.hash = '#/runs';
    } catch (e) {
      report(e);
    }
  }

  $('runs-refresh').addEventListener('click', () => loadRuns(false).catch(report));
  $('runs-status').addEventListener('change', () => loadRuns(false).catch(report));
  $('runs-more').addEventListener('click', () => loadRuns(true).catch(report));

  // ---------- package runs ----------

  async function openPackages() {
    show('packages');
    state.packages = [];
    state.packagesCursor = null;
    await loadPackages(false);
    $('packages-title').focus({ preventScroll: true });
  }

  async function loadPackages(more) {
    const params = new URLSearchParams({ limit: '50' });
    const status = $('packages-status').value;
    if (status) params.set('status', status);
    if (more && state.packagesCursor) params.set('cursor', state.packagesCursor);
    const page = await api('GET', '/v1/matching/packages/runs?' + params);
    state.packages = more ? state.packages.concat(page.data) : page.data;
    state.packagesCursor = page.pagination && page.pagination.has_more ? page.pagination.next_cursor : null;
    $('packages-body').replaceChildren(...state.packages.map(packageRow));
    $('packages-empty').hidden = state.packages.length > 0;
    $('packages-more').hidden = !state.packagesCursor;
  }

  // One row per package run: its verdict, each document type's status with a link to the
  // slot's run (where its result is reviewed), the checks and why the verdict is not passed.
  function packageRow(p) {
    const slots = (p.document_results || []).map((d) => {
      const label = `${d.document_type} (${d.presence})`;
      const parts = [badge(d.status), ' ', label];
      if (d.matched_reference_row_id) parts.push(' → ', el('span', { class: 'mono', text: d.matched_reference_row_id }));
      if (d.confidence !== null && d.confidence !== undefined) parts.push(' ', fmtConf(d.confidence));
      if (d.matching_run_id) {
        parts.push(' ', el('a', {
          href: '#/runs/' + encodeURIComponent(d.matching_run_id),
          text: 'result',
          'aria-label': `Open the ${d.document_type} result of package run ${p.id.slice(0, 8)}`,
        }));
      }
      return el('span', { class: 'slot' }, ...parts);
    });
    // A check shows its kind; its fields and what it found are its tooltip.
    const checks = (p.checks || []).map((c) => el('span', { class: 'slot', title: `${c.fields.join(', ')}: ${c.message}` },
      badge(c.outcome), ' ', c.kind));
    return el('tr', { dataset: { packageRunId: p.id } },
      el('td', { class: 'nowrap', title: p.id }, fmtTime(p.created_at)),
      el('td', {}, badge(p.status)),
      el('td', {}, ...slots),
      el('td', {}, ...checks),
      el('td', { class: 'small why' }, (p.reasons || []).join('; ') || p.error || ''));
  }

  $('packages-refresh').addEventListener('click', () => loadPackages(false).catch(report));
  $('packages-status').addEventListener('change', () => loadPackages(false).catch(report));
  $('packages-more').addEventListener('click', () => loadPackages(true).catch(report));

  // ---------- run detail ----------

  async function openRun(id) {
    show('run');
    const fresh = !state.run || state.run.id !== id;
    if (fresh) {
      state.page = 1;
      state.selected = 0;
      state.results = [];
      $('results-body').replaceChildren();
      $('detail').replaceChildren(el('p', { class: 'muted', text: 'Loading…' }));
    }
    const runPath = `/v1/matching/runs/${encodeURIComponent(id)}`;
    // The run's header and the first page of results load side by side.
    const [run] = await Promise.all([api('GET', runPath), loadResults(id)]);
    state.run = run;
    renderRunHead();
    pollRun();
  }

  function renderRunHead() {
    const run = state.run;
    $('run-title').textContent = 'Run ' + run.id.slice(0, 8);
    $('run-title').title = run.id;
    const status = $('run-status');
    status.className = 'badge s-' + run.status;
    status.textContent = run.status.replace('_', ' ');
    $('run-summary').textContent =
      `${fmtInt(run.rows_processed)} documents · ${fmtInt(run.rows_matched)} matched · avg ${fmtConf(run.avg_confidence)} · ${run.triggered_by} · ${fmtTime(run.created_at)}`;
    $('run-config-link').href = '#/config/' + encodeURIComponent(run.matching_config_id) + '/' + encodeURIComponent(run.id);
  }

  function pollRun() {
    stopPolling();
    const run = state.run;
    const box = $('run-progress');
    if (!run || !ACTIVE.has(run.status)) {
      box.hidden = true;
      return;
    }
    state.pollTimer = setTimeout(async () => {
      try {
        const p = await api('GET', `/v1/matching/runs/${encodeURIComponent(run.id)}/progress`);
        if (state.view !== 'run' || !state.run || state.run.id !== run.id) return;
        const share = p.rows_total ? (p.rows_processed || 0) / p.rows_total : p.phase_progress;
        box.hidden = false;
        box.replaceChildren(bar(share, `${Math.round(share * 100)}% done`),
          el('span', { class: 'muted' }, `${p.phase}: ${fmtInt(p.rows_processed)} of ${fmtInt(p.rows_total)} · ${fmtInt(p.rows_matched)} matched${p.eta_ms ? ' · ' + fmtMs(p.eta_ms) + ' left' : ''}`),
          el('button', { type: 'button', class: 'small', text: 'Cancel run', onclick: () => cancelRun(run).then(() => openRun(run.id)) }));
        if (ACTIVE.has(p.status)) pollRun();
        else await openRun(run.id);
      } catch (e) {
        report(e);
      }
    }, POLL_MS);
  }

  function filterParams() {
    const f = state.filter;
    const params = new URLSearchParams();
    if (f.status) params.set('status', f.status);
    if (f.matched) params.set('matched', f.matched);
    if (f.min !== '') params.set('min_confidence', f.min);
    if (f.max !== '') params.set('max_confidence', f.max);
    return params;
  }

  async function loadResults(runId) {
    const id = runId || state.run.id;
    const params = filterParams();
    params.set('page', String(state.page));
    params.set('limit', String(PAGE_SIZE));
    const t0 = performance.now();
    const page = await api('GET', `/v1/matching/runs/${encodeURIComponent(id)}/results?${params}`);
    timings.resultsFetched = performance.now();
    timings.resultsApiMs = timings.resultsFetched - t0;
    state.results = page.data;
    state.total = page.pagination.total;
    state.selected = Math.min(state.selected, Math.max(0, state.results.length - 1));
    renderResults();
    timings.resultsRendered = performance.now();
    if (timings.firstResultsRendered === undefined) timings.firstResultsRendered = timings.resultsRendered;
  }

  function renderResults() {
    const rows = state.results.map(resultRow);
    $('results-body').replaceChildren(...rows);
    const first = (state.page - 1) * PAGE_SIZE;
    $('results-count').textContent = state.total
      ? `${fmtInt(first + 1)}–${fmtInt(first + state.results.length)} of ${fmtInt(state.total)}`
      : 'No results match these filters.';
    $('page-prev').disabled = state.page <= 1;
    $('page-next').disabled = first + state.results.length >= state.total;
    renderDetail();
  }

  function select(i, scroll) {
    if (!state.results.length) return;
    state.selected = Math.max(0, Math.min(state.results.length - 1, i));
    for (const row of $('results-body').children) {
      row.setAttribute('aria-selected', row.dataset.index === String(state.selected) ? 'true' : 'false');
    }
    const row = $('results-body').children[state.selected];
    if (row && scroll !== false) row.scrollIntoView({ block: 'nearest' });
    renderDetail();
  }

  // Characters of `b` that are not part of a longest common subsequence with `a`, compared
  // case-insensitively: what differs, highlighted. Capped so a long value cannot stall the tab.
  function diffMarks(a, b) {
    const x = String(a).slice(0, DIFF_MAX).toLowerCase();
    const y = String(b).slice(0, DIFF_MAX);
    const yl = y.toLowerCase();
    const n = x.length;
    const m = y.length;
    const dp = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        dp[i][j] = x[i] === yl[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
      }
    }
    const keep = new Uint8Array(m);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (x[i] === yl[j]) { keep[j] = 1; i++; j++; }
      else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
      else j++;
    }
    const out = [];
    let run = '';
    let runKept = true;
    for (let k = 0; k < m; k++) {
      const kept = keep[k] === 1;
      if (kept !== runKept && run) { out.push(runKept ? run : el('mark', { class: 'diff', text: run })); run = ''; }
      runKept = kept;
      run += y[k];
    }
    if (run) out.push(runKept ? run : el('mark', { class: 'diff', text: run }));
    if (String(b).length > DIFF_MAX) out.push(String(b).slice(DIFF_MAX));
    return out;
  }

  function valueText(v) {
    if (v === null || v === undefined || v === '') return null;
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  function valueCell(value, against) {
    const text = valueText(value);
    if (text === null) return [el('span', { class: 'missing', text: 'missing' })];
    const other = valueText(against);
    return other === null ? [text] : diffMarks(other, text);
  }

  function renderDetail() {
    const pane = $('detail');
    const r = state.results[state.selected];
    if (!r) {
      pane.replaceChildren(el('p', { class: 'muted', text: state.total ? 'Select a result.' : 'Nothing to review under these filters.' }));
      return;
    }
    const candidates = Array.isArray(r.candidates) ? r.candidates.slice(0, 5) : [];
    // Field order: the evidence of the matched row, then any field only a candidate has.
    const fields = [];
    for (const ev of [r.evidence || {}, ...candidates.map((c) => c.evidence || {})]) {
      for (const name of Object.keys(ev)) if (!fields.includes(name)) fields.push(name);
    }
    const docValue = (name) => {
      for (const ev of [r.evidence || {}, ...candidates.map((c) => c.evidence || {})]) {
        if (ev[name] && ev[name].source_value !== undefined && ev[name].source_value !== null) return ev[name].source_value;
      }
      return null;
    };
    const strategyOf = (name) => {
      for (const ev of [r.evidence || {}, ...candidates.map((c) => c.evidence || {})]) if (ev[name] && ev[name].strategy) return ev[name].strategy;
      return '';
    };
    const head = el('tr', {},
      el('th', { scope: 'col', class: 'field', text: 'Field' }),
      el('th', { scope: 'col', text: 'Document' }),
      ...candidates.map((c, i) => {
        const chosen = c.reference_row_id === r.matched_reference_row_id;
        return el('th', { scope: 'col', class: chosen ? 'chosen' : null },
          el('div', { class: 'cand-head' },
            el('span', {}, el('kbd', { text: String(i + 1) }), ' ', el('span', { class: 'row-id', text: c.reference_row_id })),
            el('div', { class: 'conf' }, bar(c.confidence, 'confidence ' + fmtConf(c.confidence)), el('span', { text: fmtConf(c.confidence) })),
            el('button', {
              type: 'button', class: 'small' + (chosen && r.status === 'approved' ? ' approve' : ''),
              text: chosen && r.status === 'approved' ? 'Approved' : 'Pick',
              'aria-label': `Approve candidate ${i + 1}, row ${c.reference_row_id}`,
              onclick: () => decide('approved', c.reference_row_id),
            })));
      }));
    // The document's values are marked where they differ from the matched (or best) row.
    const chosen = candidates.find((c) => c.reference_row_id === r.matched_reference_row_id) || candidates[0];
    const body = fields.map((name) => {
      const dv = docValue(name);
      const against = chosen && chosen.evidence && chosen.evidence[name] ? chosen.evidence[name].target_value : null;
      return el('tr', {},
        el('th', { scope: 'row', class: 'field' }, name, el('div', { class: 'strategy', text: strategyOf(name) })),
        el('td', { class: 'docval' }, ...valueCell(dv, against)),
        ...candidates.map((c) => {
          const ev = (c.evidence || {})[name] || {};
          const score = ev.score;
          const note = ev.missing ? 'missing' : ev.unparsable ? 'unparsable' : score === null || score === undefined ? 'n/a' : Number(score).toFixed(2);
          return el('td', { class: c.reference_row_id === r.matched_reference_row_id ? 'chosen' : null },
            el('div', {}, ...valueCell(ev.target_value, dv)),
            el('div', { class: 'score' }, bar(score || 0, `${name} score ${note}`), el('span', { text: note })));
        }));
    });
    const compare = candidates.length
      ? el('table', { class: 'compare', 'aria-label': 'Document values beside each candidate' }, el('thead', {}, head), el('tbody', {}, ...body))
      : el('p', { class: 'muted', text: 'No candidate scored above 0 for this document.' });
    const title = r.document_external_id || r.document_id;
    pane.replaceChildren(
      el('div', { class: 'detail-head' },
        el('h2', { text: title }),
        badge(r.status),
        el('span', { class: 'muted', text: `confidence ${fmtConf(r.confidence)}` })),
      el('div', { class: 'actions', role: 'group', 'aria-label': 'Decision' },
        el('button', { type: 'button', class: 'approve', id: 'btn-approve', onclick: () => decide('approved'), disabled: !r.matched_reference_row_id && !candidates.length },
          'Approve ', el('kbd', { text: 'a' })),
        el('button', { type: 'button', class: 'reject', id: 'btn-reject', onclick: () => decide('rejected') }, 'Reject ', el('kbd', { text: 'r' })),
        el('button', { type: 'button', id: 'btn-pending', onclick: () => decide('pending') }, 'Back to pending ', el('kbd', { text: 'u' }))),
      compare,
      el('dl', { class: 'meta' },
        el('dt', { text: 'Document id' }), el('dd', { class: 'mono', text: r.document_id }),
        el('dt', { text: 'File' }), el('dd', { text: r.document_filename || '–' }),
        el('dt', { text: 'Matched row' }), el('dd', { class: 'mono', text: r.matched_reference_row_id || 'none (below threshold)' }),
        el('dt', { text: 'Reviewed' }), el('dd', { text: r.reviewed_at ? `${fmtTime(r.reviewed_at)} by ${r.reviewed_by}` : 'not yet' }),
        r.resolved_by ? el('dt', { text: 'Resolved by' }) : null,
        r.resolved_by ? el('dd', { text: `${r.resolved_by} (was ${fmtConf(r.confidence_before)})` }) : null,
        r.notes ? el('dt', { text: 'Notes' }) : null,
        r.notes ? el('dd', { text: r.notes }) : null));
  }

  // Approving without a matched row means approving the best candidate.
  async function decide(status, rowId) {
    const r = state.results[state.selected];
    if (!r || state.busy) return;
    const body = { status };
    if (rowId) body.reference_row_id = rowId;
    else if (status === 'approved' && !r.matched_reference_row_id) {
      const best = (r.candidates || [])[0];
      if (!best) return;
      body.reference_row_id = best.reference_row_id;
    }
    state.busy = true;
    try {
      const updated = await api('POST', `/v1/matching/runs/${encodeURIComponent(state.run.id)}/results/${encodeURIComponent(r.id)}/review`, body);
      state.results[state.selected] = updated;
      const row = $('results-body').children[state.selected];
      if (row) row.replaceWith(resultRow(updated, state.selected));
      say(`${updated.document_external_id || updated.document_id}: ${updated.status}`);
      if (status === 'pending') renderDetail();
      else if (state.selected < state.results.length - 1) select(state.selected + 1);
      else if (state.page * PAGE_SIZE < state.total) await goPage(1);
      else renderDetail();
    } catch (e) {
      report(e);
    } finally {
      state.busy = false;
    }
  }

  function resultRow(r, i) {
    return el('tr', {
      dataset: { resultId: r.id, index: String(i) },
      'aria-selected': i === state.selected ? 'true' : 'false',
      onclick: () => select(i),
    },
    el('td', { class: 'doc' },
      el('div', { class: 'doc-id', text: r.document_external_id || r.document_id.slice(0, 8) }),
      r.document_filename ? el('div', { class: 'doc-file', text: r.document_filename, title: r.document_filename }) : null),
    el('td', { class: 'mono ellipsis' }, r.matched_reference_row_id || el('span', { class: 'missing', text: 'no match' })),
    el('td', {}, el('div', { class: 'conf' }, bar(r.confidence, 'confidence ' + fmtConf(r.confidence)), el('span', { text: fmtConf(r.confidence) }))),
    el('td', {}, badge(r.status)));
  }

  async function goPage(delta) {
    const next = state.page + delta;
    if (next < 1 || (next - 1) * PAGE_SIZE >= state.total) return;
    state.page = next;
    state.selected = delta > 0 ? 0 : PAGE_SIZE - 1;
    try {
      await loadResults();
    } catch (e) {
      report(e);
    }
  }

  $('page-prev').addEventListener('click', () => goPage(-1));
  $('page-next').addEventListener('click', () => goPage(1));

  function readNumber(id) {
    const v = $(id).value.trim();
    if (v === '') return '';
    const x = Number(v);
    if (!Number.isFinite(x) || x < 0 || x > 1) throw new Error(`${$(id).labels[0].textContent} must be a number from 0 to 1.`);
    return String(x);
  }

  $('filters').addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      state.filter = { status: $('f-status').value, matched: $('f-matched').value, min: readNumber('f-min'), max: readNumber('f-max') };
      state.page = 1;
      state.selected = 0;
      flash('');
      await loadResults();
    } catch (e) {
      report(e);
    }
  });

  // Bulk approve: the pending results of the current filter at or above a confidence, 500
  // per request (the API's cap), until none is left.
  $('bulk-approve').addEventListener('click', async () => {
    try {
      const min = readNumber('bulk-min');
      if (min === '') throw new Error('Give the lowest confidence to approve.');
      const f = state.filter;
      const filter = { status: 'pending', min_confidence: Math.max(Number(min), f.min === '' ? 0 : Number(f.min)) };
      if (f.matched) filter.matched = f.matched === 'true';
      if (f.max !== '') filter.max_confidence = Number(f.max);
      if (f.status && f.status !== 'pending') throw new Error('Bulk approve works on pending results; set Review to "any" or "pending".');
      const params = new URLSearchParams({ status: 'pending', min_confidence: String(filter.min_confidence), limit: '1' });
      if (filter.matched !== undefined) params.set('matched', String(filter.matched));
      if (filter.max_confidence !== undefined) params.set('max_confidence', String(filter.max_confidence));
      const runPath = `/v1/matching/runs/${encodeURIComponent(state.run.id)}`;
      const count = (await api('GET', `${runPath}/results?${params}`)).pagination.total;
      if (!count) { flash('No pending result is in that range.', 'info'); return; }
      if (!window.confirm(`Approve ${count.toLocaleString('en-US')} pending results with confidence ≥ ${filter.min_confidence}?`)) return;
      let done = 0;
      for (let round = 0; round < Math.ceil(count / 500) + 1; round++) {
        const outcome = await api('POST', `${runPath}/results/review`, { filter, status: 'approved' });
        done += outcome.updated;
        say(`Approved ${done} of ${count}…`);
        if (outcome.updated === 0 || outcome.failed > 0) break;
      }
      flash(`Approved ${done.toLocaleString('en-US')} results.`, 'info');
      await loadResults();
    } catch (e) {
      report(e);
    }
  });

  // ---------- keyboard ----------

  const help = $('help');
  $('help-open').addEventListener('click', () => help.showModal());
  $('help-close').addEventListener('click', () => help.close());

  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName));
    if (typing || help.open) return;
    if (state.view !== 'run') return;
    const key = event.key;
    let handled = true;
    // Moving past either end of a page turns the page.
    if (key === 'j' || key === 'ArrowDown') {
      if (state.selected < state.results.length - 1) select(state.selected + 1);
      else goPage(1);
    } else if (key === 'k' || key === 'ArrowUp') {
      if (state.selected > 0) select(state.selected - 1);
      else goPage(-1);
    }
    else if (key === 'a') decide('approved');
    else if (key === 'r') decide('rejected');
    else if (key === 'u') decide('pending');
    else if (/^[1-5]$/.test(key)) {
      const r = state.results[state.selected];
      const c = r && (r.candidates || [])[Number(key) - 1];
      if (c) decide('approved', c.reference_row_id);
    } else if (key === ']') goPage(1);
    else if (key === '[') goPage(-1);
    else if (key === '/') $('f-status').focus();
    else if (key === '?') help.showModal();
    else handled = false;
    if (handled) event.preventDefault();
  });

  // ---------- config and threshold ----------

  async function openConfig(configId, runId) {
    show('config');
    const configs = (await api('GET', '/v1/matching/configs?limit=100')).data;
    const select = $('config-select');
    select.replaceChildren(...configs.map((c) => el('option', { value: c.id, text: `${c.name || 'unnamed'} (${c.id.slice(0, 8)})` })));
    if (!configs.length) {
      $('config-form').hidden = true;
      $('eval').hidden = true;
      flash('No matching config yet: generate one under Set up, or create one through the API or `refmatch config create`.', 'info');
      return;
    }
    $('config-form').hidden = false;
    $('eval').hidden = false;
    const id = configId && configs.some((c) => c.id === configId) ? configId : configs[0].id;
    select.value = id;
    state.config = await api('GET', `/v1/matching/configs/${encodeURIComponent(id)}`);
    // The slider counts the results of the given run, else of the config's latest completed run.
    let run = null;
    if (runId) run = await api('GET', `/v1/matching/runs/${encodeURIComponent(runId)}`).catch(() => null);
    if (!run || run.matching_config_id !== id) {
      const runs = (await api('GET', `/v1/matching/runs?config_id=${encodeURIComponent(id)}&status=completed&limit=1`)).data;
      run = runs[0] || null;
    }
    state.histogram = run ? await api('GET', `/v1/matching/runs/${encodeURIComponent(run.id)}/histogram`) : null;
    state.evalRun = run;
    // The table's columns, offered where a mapping names its reference column.
    const table = await api('GET', `/v1/reference-data/${encodeURIComponent(state.config.reference_data_id)}`).catch(() => null);
    $('reference-columns').replaceChildren(...((table && table.columns) || []).map((c) => el('option', { value: c.name })));
    $('histogram-note').textContent = run
      ? `Counts are of run ${run.id.slice(0, 8)} (${fmtTime(run.created_at)}); a run's results keep the threshold they were scored with until you run again.`
      : 'No completed run of this config yet: run it to see how many results each threshold would match.';
    renderConfig();
    evaluateReviews();
  }

  // The options each strategy takes (docs/CONTRACT.md, Scoring), as the editor offers them.
  const STRATEGY_OPTIONS = {
    exact: [],
    identifier: [],
    fuzzy: [
      { key: 'min_similarity', label: 'min similarity', type: 'number', step: '0.01', min: '0', max: '1' },
      { key: 'measure', label: 'measure', choices: ['cosine', 'dice', 'containment'] },
    ],
    date_range: [
      { key: 'tolerance_days', label: 'tolerance days', type: 'number', step: '1', min: '0' },
      { key: 'date_order', label: 'date order', choices: ['dmy', 'mdy'] },
    ],
    numeric_range: [
      { key: 'tolerance_pct', label: 'tolerance %', type: 'number', step: '0.1', min: '0' },
      { key: 'tolerance_abs', label: 'tolerance abs.', type: 'number', step: '0.01', min: '0' },
    ],
  };
  const ALL_OPTIONS = new Set(Object.values(STRATEGY_OPTIONS).flat().map((o) => o.key));

  function renderConfig() {
    const c = state.config;
    $('config-title').textContent = 'Config: ' + (c.name || c.id.slice(0, 8));
    // What starts this config's runs besides a person: its schedule (server time) and
    // re-matching when its table gets a new version.
    const starts = [];
    if (c.schedule) starts.push(`Scheduled: ${c.schedule} (server time)` + (c.next_scheduled_at ? `, next ${fmtTime(c.next_scheduled_at)}` : ''));
    if (c.rematch_on_new_version) starts.push('Re-matches pending documents when its reference data gets a new version');
    $('config-schedule').textContent = starts.length ? starts.join(' · ') : 'Runs start by hand or through the API (no schedule, no re-matching).';
    $('threshold').value = String(c.threshold);
    state.mappings = (c.field_mappings || []).map((m) => Object.assign({}, m));
    renderMappings();
    renderThreshold();
  }

  // One row per mapping: every input writes straight into state.mappings.
  function renderMappings() {
    const rows = state.mappings.map((m, i) => {
      const label = m.name || m.source || `mapping ${i + 1}`;
      const text = (key, placeholder, list) => el('input', {
        type: 'text', value: m[key] || '', id: `m-${key}-${i}`, placeholder, list,
        'aria-label': `${key === 'source' ? 'Document field' : key === 'target' ? 'Reference column' : 'Name'} of ${label}`,
        oninput: (e) => { const v = e.target.value.trim(); if (v) m[key] = v; else delete m[key]; },
      });
      const strategy = el('select', {
        id: `m-strategy-${i}`, 'aria-label': `Strategy of ${label}`,
        onchange: (e) => {
          m.strategy = e.target.value;
          // Options of another strategy would be refused: keep only this one's.
          const own = new Set(STRATEGY_OPTIONS[m.strategy].map((o) => o.key));
          for (const key of ALL_OPTIONS) if (!own.has(key)) delete m[key];
          renderMappings();
        },
      }, Object.keys(STRATEGY_OPTIONS).map((s) => el('option', { value: s, text: s, selected: s === m.strategy })));
      const options = el('div', { class: 'options' }, (STRATEGY_OPTIONS[m.strategy] || []).map((o) => {
        const id = `m-${o.key}-${i}`;
        const set = (value) => { if (value === '' || value === undefined) delete m[o.key]; else m[o.key] = o.choices ? value : Number(value); };
        const input = o.choices
          ? el('select', { id, onchange: (e) => set(e.target.value) },
            el('option', { value: '', text: 'default' }),
            o.choices.map((v) => el('option', { value: v, text: v, selected: m[o.key] === v })))
          : el('input', { id, type: 'number', step: o.step, min: o.min, max: o.max, value: m[o.key] === undefined ? '' : String(m[o.key]), placeholder: 'default', oninput: (e) => set(e.target.value) });
        return el('label', { for: id, class: 'small' }, o.label + ' ', input);
      }));
      const weight = el('input', {
        type: 'number', min: '0', max: '1', step: '0.01', value: String(m.weight), id: 'weight-' + i,
        'aria-label': `Weight of ${label}`,
        oninput: (e) => { m.weight = Number(e.target.value); updateWeightSum(); },
      });
      const remove = el('button', {
        type: 'button', class: 'secondary', 'aria-label': `Remove ${label}`, text: 'Remove',
        onclick: () => { state.mappings.splice(i, 1); renderMappings(); },
      });
      return el('tr', { dataset: { mapping: String(i) } },
        el('td', {}, text('name', m.source || '')),
        el('td', {}, text('source', 'document field')),
        el('td', {}, text('target', 'column', 'reference-columns')),
        el('td', {}, strategy),
        el('td', {}, options),
        el('td', { class: 'num' }, weight),
        el('td', {}, remove));
    });
    $('mappings-body').replaceChildren(...rows);
    updateWeightSum();
  }

  function updateWeightSum() {
    const sum = state.mappings.reduce((a, m) => a + (Number(m.weight) || 0), 0);
    $('weights-sum').textContent = sum.toFixed(3);
    $('weights-sum').classList.toggle('weights-off', Math.abs(sum - 1) > 1e-6);
  }

  $('mapping-add').addEventListener('click', () => {
    state.mappings.push({ source: '', target: '', strategy: 'exact', weight: 0 });
    renderMappings();
    $('m-source-' + (state.mappings.length - 1)).focus();
  });

  $('weights-normalise').addEventListener('click', () => {
    const sum = state.mappings.reduce((a, m) => a + (Number(m.weight) || 0), 0);
    if (!sum) return;
    let rest = 1;
    state.mappings.forEach((m, i) => {
      const w = i === state.mappings.length - 1 ? rest : Math.round((1e4 * (Number(m.weight) || 0)) / sum) / 1e4;
      m.weight = Math.round(w * 1e4) / 1e4;
      rest -= m.weight;
    });
    renderMappings();
  });

  function renderThreshold() {
    const t = Number($('threshold').value);
    const cut = Math.round(t * 100);
    $('threshold-out').textContent = t.toFixed(2);
    const h = state.histogram;
    const box = $('histogram');
    if (!h) {
      $('threshold-effect').textContent = '';
      box.replaceChildren();
      return;
    }
    let matched = 0;
    for (let b = cut; b <= 100; b++) matched += h.buckets[b];
    const share = h.total ? ((100 * matched) / h.total).toFixed(1) : '0.0';
    let effect = `At ${t.toFixed(2)}: ${fmtInt(matched)} of ${fmtInt(h.total)} results would match (${share}%), ${fmtInt(h.total - matched)} would not.`;
    // Reviews are labels: an approved result's best row is right, a rejected one's wrong.
    const sum = (xs, from) => xs.slice(from).reduce((a, b) => a + b, 0);
    const approved = sum(h.approved || [], 0);
    const reviewed = approved + sum(h.rejected || [], 0);
    if (reviewed) {
      const a = sum(h.approved, cut);
      const r = sum(h.rejected, cut);
      const precision = a + r ? ((100 * a) / (a + r)).toFixed(1) + '%' : 'n/a';
      const recall = approved ? ((100 * a) / approved).toFixed(1) + '%' : 'n/a';
      effect += ` On the ${fmtInt(reviewed)} reviewed: precision ${precision}, recall ${recall}.`;
    }
    $('threshold-effect').textContent = effect;
    const peak = Math.max(1, ...h.buckets);
    box.replaceChildren(...h.buckets.map((n, b) => {
      const span = el('span', { class: b >= cut ? 'on' : null, title: `${(b / 100).toFixed(2)}: ${n}` });
      // A square root keeps small buckets visible beside the usual peak near 1.
      span.style.height = n ? Math.max(2, (90 * Math.sqrt(n)) / Math.sqrt(peak)) + 'px' : '0';
      return span;
    }));
  }

  $('threshold').addEventListener('input', renderThreshold);
  $('config-select').addEventListener('change', () => { location.hash = '#/config/' + encodeURIComponent($('config-select').value); });
  $('config-run').addEventListener('click', () => rerun($('config-select').value));

  $('config-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const c = state.config;
    // A JSON merge patch: the threshold and the whole list of mappings.
    const body = { threshold: Number($('threshold').value), field_mappings: state.mappings };
    try {
      state.config = await api('PATCH', `/v1/matching/configs/${encodeURIComponent(c.id)}`, body, 'application/merge-patch+json');
      renderConfig();
      $('config-saved').textContent = `Saved at ${new Date().toLocaleTimeString()}. Run the config again to apply it.`;
      flash('');
    } catch (e) {
      $('config-saved').textContent = '';
      report(e);
    }
  });

  // ---------- evaluation ----------

  // Precision, recall and F1 at each threshold in whole hundredths, from counts of true
  // positives, false positives and false negatives per threshold (eval's definitions).
  function drawEvaluation(points, threshold, source) {
    const best = points.reduce((b, p) => (p.f1 > b.f1 ? p : b), points[0]);
    const at = points[Math.round(threshold * 100)];
    const pct = (x) => (100 * x).toFixed(1) + '%';
    $('eval-summary').textContent = `${source}: at the threshold ${threshold.toFixed(2)} precision ${pct(at.precision)}, ` +
      `recall ${pct(at.recall)}, F1 ${pct(at.f1)}; best F1 ${pct(best.f1)} at ${best.t.toFixed(2)}.`;
    const W = 600, H = 220, L = 40, B = 30, T = 10, R = 10;
    const x = (t) => L + t * (W - L - R);
    const y = (v) => T + (1 - v) * (H - T - B);
    // The page's own <svg> gives the namespace (the page names no other origin).
    const svg = $('eval-svg');
    const NS = svg.namespaceURI;
    svg.replaceChildren();
    svg.setAttribute('aria-label', $('eval-summary').textContent);
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
      if (text) node.textContent = text;
      svg.append(node);
    };
    add('line', { class: 'axis', x1: L, y1: y(0), x2: W - R, y2: y(0) });
    add('line', { class: 'axis', x1: L, y1: y(0), x2: L, y2: y(1) });
    for (const v of [0, 0.5, 1]) add('text', { x: 4, y: y(v) + 4 }, v.toFixed(1));
    for (const t of [0, 0.25, 0.5, 0.75, 1]) add('text', { x: x(t) - 8, y: H - 10 }, t.toFixed(2));
    const line = (cls, key) => add('polyline', { class: cls, points: points.map((p) => `${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ') });
    line('p', 'precision');
    line('r', 'recall');
    line('f', 'f1');
    add('line', { class: 'cut', x1: x(threshold), y1: y(0), x2: x(threshold), y2: y(1) });
    add('text', { x: W - 150, y: 24, class: 'p' }, 'precision');
    add('text', { x: W - 150, y: 38, class: 'r' }, 'recall');
    add('text', { x: W - 150, y: 52, class: 'f' }, 'F1');
    svg.removeAttribute('hidden');
  }

  function scores(tp, fp, fn) {
    const precision = tp + fp ? tp / (tp + fp) : 0;
    const recall = tp + fn ? tp / (tp + fn) : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1 };
  }

  // From reviews: an approved result's row is right, a rejected one's wrong; at threshold
  // t the approved at or above t are true positives, the rejected false positives, and the
  // approved below t false negatives.
  function evaluateReviews() {
    const h = state.histogram;
    const approved = h ? (h.approved || []).reduce((a, b) => a + b, 0) : 0;
    const rejected = h ? (h.rejected || []).reduce((a, b) => a + b, 0) : 0;
    if (!approved && !rejected) {
      $('eval-summary').textContent = 'No reviews yet: review results of a run, or upload a truth file.';
      $('eval-svg').setAttribute('hidden', '');
      return;
    }
    const points = [];
    for (let b = 0; b <= 100; b++) {
      const tp = h.approved.slice(b).reduce((a, n) => a + n, 0);
      const fp = h.rejected.slice(b).reduce((a, n) => a + n, 0);
      points.push(Object.assign({ t: b / 100 }, scores(tp, fp, approved - tp)));
    }
    drawEvaluation(points, Number(state.config.threshold), `From ${approved + rejected} reviewed results`);
  }

  function parseCsv(text) {
    const rows = [];
    for (const line of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
      if (!line.trim()) continue;
      const cells = [];
      let cell = '', quoted = false;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (quoted) {
          if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
        } else if (ch === '"') quoted = true;
        else if (ch === ',' || ch === ';' || ch === '\t') { cells.push(cell); cell = ''; }
        else cell += ch;
      }
      cells.push(cell);
      rows.push(cells.map((c) => c.trim()));
    }
    return rows;
  }

  // From a truth file over the latest completed run's results (read 500 at a time): the
  // prediction at t is the result's row when its confidence is at least t.
  $('eval-truth').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (!file || !state.evalRun) {
      if (file) flash('Run the config first: the truth file is compared with its latest completed run.', 'info');
      return;
    }
    try {
      const rows = parseCsv(await file.text());
      const header = rows.shift() || [];
      const di = header.indexOf('document_id'), ri = header.indexOf('row_id');
      if (di < 0 || ri < 0) throw new Error('A truth file has the columns document_id,row_id.');
      const truth = new Map(rows.map((r) => [r[di], r[ri] || null]));
      $('eval-summary').textContent = 'Reading the run\u2019s results…';
      const results = [];
      for (let page = 1; page <= 200; page++) {
        const got = await api('GET', `/v1/matching/runs/${encodeURIComponent(state.evalRun.id)}/results?limit=500&page=${page}`);
        results.push(...got.data);
        if (results.length >= got.pagination.total || !got.data.length) break;
      }
      const positives = [...truth.values()].filter(Boolean).length;
      const predictions = results.map((r) => {
        const row = r.matched_reference_row_id || ((r.candidates || [])[0] || {}).reference_row_id || null;
        const key = truth.has(r.document_external_id) ? r.document_external_id : r.document_id;
        return { hundredths: Math.floor(Math.round(r.confidence * 1e4) / 100), correct: row !== null && truth.get(key) === row, row };
      });
      const points = [];
      for (let b = 0; b <= 100; b++) {
        let tp = 0, fp = 0;
        for (const p of predictions) if (p.row !== null && p.hundredths >= b) { if (p.correct) tp++; else fp++; }
        points.push(Object.assign({ t: b / 100 }, scores(tp, fp, positives - tp)));
      }
      drawEvaluation(points, Number(state.config.threshold), `Against ${file.name} (${truth.size} documents)`);
    } catch (e) {
      report(e);
    }
  });

  // ---------- setup: reference table, documents, generated config ----------

  async function openSetup() {
    show('setup');
    const tables = (await api('GET', '/v1/reference-data?limit=100')).data;
    const target = $('ref-target');
    const keep = target.value;
    target.replaceChildren(el('option', { value: '', text: 'a new table' }),
      ...tables.map((t) => el('option', { value: t.id, text: `a new version of ${t.name || t.id.slice(0, 8)} (v${t.version}, ${fmtInt(t.row_count)} rows)` })));
    if (tables.some((t) => t.id === keep)) target.value = keep;
    $('gen-ref').replaceChildren(...tables.map((t) => el('option', { value: t.id, text: `${t.name || t.id.slice(0, 8)} (${t.columns.length} columns)` })));
    $('gen-go').disabled = !tables.length;
    $('gen-status').textContent = tables.length ? '' : 'Save a reference table first.';
    $('setup-title').focus({ preventScroll: true });
  }

  // The form of a reference upload: the file with the name and id column given.
  function referenceForm() {
    const form = new FormData();
    form.append('file', state.refFile, state.refFile.name);
    const name = $('ref-name').value.trim() || state.refFile.name.replace(/\.(csv|xlsx)$/i, '');
    if (name) form.append('name', name);
    const idColumn = $('ref-id-column').value.trim();
    if (idColumn) form.append('id_column', idColumn);
    return form;
  }

  async function previewReference(file) {
    state.refFile = file;
    $('ref-file-name').textContent = file.name;
    $('ref-saved').textContent = '';
    $('ref-save').disabled = true;
    try {
      const preview = await api('POST', '/v1/reference-data?preview=true', referenceForm());
      $('ref-preview-summary').textContent = `${file.name}: ${fmtInt(preview.row_count)} rows, ${preview.columns.length} columns (${preview.source_type}). Nothing is stored until you save.`;
      $('ref-columns-body').replaceChildren(...preview.columns.map((c) => el('tr', {},
        el('td', { class: 'mono', text: c.name }),
        el('td', {}, el('span', { class: 'type', text: c.type })),
        el('td', { class: 'mono small', text: preview.rows.slice(0, 3).map((r) => r[c.name]).filter((v) => v !== undefined && v !== '').join(' · ') }))));
      $('ref-preview').hidden = false;
      $('ref-save').disabled = false;
    } catch (e) {
      $('ref-preview').hidden = true;
      report(e);
    }
  }

  // A drop zone hands its first file to `take`, as the file input beside it does.
  function dropZone(zone, input, take) {
    zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
    zone.addEventListener('dragleave', () => zone.classList.remove('over'));
    zone.addEventListener('drop', (e) => {
      e.preventDefault();
      zone.classList.remove('over');
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file) take(file);
    });
    input.addEventListener('change', () => { if (input.files[0]) take(input.files[0]); });
  }

  dropZone($('ref-drop'), $('ref-file'), previewReference);

  $('ref-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!state.refFile) return;
    const target = $('ref-target').value;
    try {
      const table = target
        ? await api('PUT', `/v1/reference-data/${encodeURIComponent(target)}`, referenceForm())
        : await api('POST', '/v1/reference-data', referenceForm());
      $('ref-saved').textContent = `Saved ${table.name || table.id.slice(0, 8)}: version ${table.version}, ${fmtInt(table.row_count)} rows.`;
      $('ref-save').disabled = true;
      await openSetup();
      $('gen-ref').value = table.id;
    } catch (e) {
      report(e);
    }
  });

  async function uploadDocuments(file) {
    const lower = file.name.toLowerCase();
    const type = lower.endsWith('.csv') ? 'text/csv' : 'application/x-ndjson';
    const params = new URLSearchParams();
    if (type === 'text/csv') {
      if ($('doc-id-column').value.trim()) params.set('id_column', $('doc-id-column').value.trim());
      if ($('doc-filename-column').value.trim()) params.set('filename_column', $('doc-filename-column').value.trim());
    }
    $('doc-saved').textContent = `Uploading ${file.name}…`;
    try {
      const batch = await api('POST', '/v1/documents' + (params.toString() ? '?' + params : ''), file, type);
      $('doc-saved').textContent = `Stored ${fmtInt(batch.document_count)} documents from ${file.name} (batch ${batch.batch_id.slice(0, 8)}).`;
    } catch (e) {
      $('doc-saved').textContent = '';
      report(e);
    }
  }

  dropZone($('doc-drop'), $('doc-file'), uploadDocuments);

  $('gen-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const reference = $('gen-ref').value;
    if (!reference) return;
    $('gen-status').textContent = 'Profiling the table and the documents…';
    try {
      const strategy = await api('POST', '/v1/matching/strategies/generate', { reference_data_id: reference });
      state.strategy = strategy;
      const proposal = strategy.strategy;
      $('gen-status').textContent = '';
      $('gen-summary').textContent = `${proposal.field_mappings.length} mappings, threshold ${Number(proposal.threshold).toFixed(2)}` +
        (proposal.assignment ? `, assignment ${proposal.assignment}` : '') + '. Each says why it was chosen:';
      $('gen-body').replaceChildren(...proposal.field_mappings.map((m) => el('tr', {},
        el('td', { class: 'mono', text: m.source }),
        el('td', { class: 'mono', text: m.target }),
        el('td', { text: m.strategy }),
        el('td', { class: 'num', text: Number(m.weight).toFixed(3) }),
        el('td', { class: 'rationale', text: m.rationale || '' }))));
      $('gen-result').hidden = false;
    } catch (e) {
      $('gen-status').textContent = '';
      report(e);
    }
  });

  $('gen-create').addEventListener('click', async () => {
    const strategy = state.strategy;
    if (!strategy) return;
    try {
      const config = await api('POST', '/v1/matching/configs', {
        strategy_id: strategy.id, reference_data_id: strategy.reference_data_id,
        name: $('gen-name').value.trim() || 'generated',
      });
      location.hash = '#/config/' + encodeURIComponent(config.id);
    } catch (e) {
      report(e);
    }
  });

  route();
})();
