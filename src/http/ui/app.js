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

  async function api(method, path, body) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    if (!key) {
      signOut('Sign in with an API key.');
      throw new ApiError(401, { code: 'unauthorized', message: 'not signed in' });
    }
    const headers = { Authorization: 'Bearer ' + key, Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
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
    for (const name of ['signin', 'runs', 'run', 'config', 'packages']) $('view-' + name).hidden = name !== view;
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
      flash('No matching config yet: create one through the API or `refmatch config create`.', 'info');
      return;
    }
    $('config-form').hidden = false;
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
    $('histogram-note').textContent = run
      ? `Counts are of run ${run.id.slice(0, 8)} (${fmtTime(run.created_at)}); a run's results keep the threshold they were scored with until you run again.`
      : 'No completed run of this config yet: run it to see how many results each threshold would match.';
    renderConfig();
  }

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
    const rows = (c.field_mappings || []).map((m, i) => {
      const input = el('input', {
        type: 'number', min: '0', max: '1', step: '0.01', value: String(m.weight), id: 'weight-' + i,
        'aria-label': `Weight of ${m.name || m.source}`,
        oninput: updateWeightSum,
      });
      return el('tr', {},
        el('td', { class: 'mono', text: m.name || (m.source === m.target ? m.source : `${m.source}->${m.target}`) }),
        el('td', { class: 'mono', text: m.source }),
        el('td', { class: 'mono', text: m.target }),
        el('td', { text: m.strategy }),
        el('td', { class: 'num' }, input));
    });
    $('mappings-body').replaceChildren(...rows);
    updateWeightSum();
    renderThreshold();
  }

  function updateWeightSum() {
    let sum = 0;
    for (const input of $('mappings-body').querySelectorAll('input')) sum += Number(input.value) || 0;
    $('weights-sum').textContent = sum.toFixed(3);
  }

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
    const body = {};
    for (const [k, v] of Object.entries(c)) {
      if (!['id', 'created_at', 'updated_at', 'links', 'reference_data_id', 'next_scheduled_at'].includes(k)) body[k] = v;
    }
    body.threshold = Number($('threshold').value);
    body.field_mappings = (c.field_mappings || []).map((m, i) => Object.assign({}, m, { weight: Number($('weight-' + i).value) }));
    try {
      state.config = await api('PUT', `/v1/matching/configs/${encodeURIComponent(c.id)}`, body);
      $('config-saved').textContent = `Saved at ${new Date().toLocaleTimeString()}. Run the config again to apply it.`;
      flash('');
    } catch (e) {
      $('config-saved').textContent = '';
      report(e);
    }
  });

  route();
})();
