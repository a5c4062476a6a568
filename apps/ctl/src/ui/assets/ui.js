// The `ipam ui` page: fetches /api/snapshot every few seconds and redraws the pool maps,
// nodes and problems in place. Block details and search are asked of the server
// (/api/block, /api/search). No library, nothing loaded from anywhere but this server.
'use strict';

(function () {
  const REFRESH_MS = 3000;
  /** At most this many cells per pool map; a larger space is shown aggregated. */
  const MAX_CELLS = 4096;
  const CELL = 13;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const state = {
    summary: null,
    status: null,
    /** Pool index → { start: bigint, span: bigint } (block slots shown). */
    views: new Map(),
    drawnKey: '',
    selected: '',
    matchNode: '',
    fetchedAt: 0,
    fetchFailed: false,
  };
  const $ = (id) => document.getElementById(id);

  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  }

  /**
   * A stable colour per node name: FNV-1a, then a final mix so that names differing in one
   * character (node-a, node-c) do not land on neighbouring hues.
   */
  function hueOf(name) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return (h >>> 0) % 360;
  }
  const baseColour = (node) => (node ? `hsl(${hueOf(node)} 55% 72%)` : '#c8c8c8');
  const fillColour = (node) => (node ? `hsl(${hueOf(node)} 60% 30%)` : '#555');

  // ---- geometry -------------------------------------------------------------------------

  function poolSlots(pool) {
    return BigInt(pool.slots);
  }

  function viewOf(i) {
    const pool = state.summary.pools[i];
    let v = state.views.get(i);
    if (!v) {
      v = { start: 0n, span: poolSlots(pool) };
      state.views.set(i, v);
    }
    return v;
  }

  function cellsOf(v) {
    const cells = v.span < BigInt(MAX_CELLS) ? v.span : BigInt(MAX_CELLS);
    return { cells: Number(cells), cellSpan: v.span / cells };
  }

  /** The window a drill-down into a cell shows. */
  function drillWindow(v, cellSpan, cellStart) {
    let w = v.span / 4n < BigInt(MAX_CELLS) ? v.span / 4n : BigInt(MAX_CELLS);
    if (w < cellSpan) w = cellSpan;
    if (w < 1n) w = 1n;
    return { start: (cellStart / w) * w, span: w };
  }

  /** A leaf window (one tile per slot) containing `slot`. */
  function leafWindow(pool, slot) {
    const slots = poolSlots(pool);
    if (slots <= BigInt(MAX_CELLS)) return { start: 0n, span: slots };
    const w = BigInt(MAX_CELLS);
    return { start: (slot / w) * w, span: w };
  }

  // ---- drawing --------------------------------------------------------------------------

  function blocksByPool() {
    const out = new Map();
    for (const b of state.summary.blocks) {
      if (!out.has(b.pool)) out.set(b.pool, []);
      out.get(b.pool).push(b);
    }
    return out;
  }

  function tileMarkup(x, y, b, label) {
    const cap = b.capacity || 1;
    const h = Math.round((CELL - 1) * Math.min(1, b.inUse / cap));
    let s = `<g class="tile${b.cidr === state.selected ? ' selected' : ''}${state.matchNode && b.node === state.matchNode ? ' match' : ''}" tabindex="0" role="button" data-cidr="${esc(b.cidr)}" aria-label="${esc(label)}" transform="translate(${x} ${y})">`;
    s += `<rect class="base" width="${CELL - 1}" height="${CELL - 1}" fill="${baseColour(b.node)}"/>`;
    if (h > 0) s += `<rect y="${CELL - 1 - h}" width="${CELL - 1}" height="${h}" fill="${fillColour(b.node)}"/>`;
    if (b.borrowed > 0) s += '<path class="mark-borrowed" d="M6 0H12V6Z"/>';
    if (b.tunnels > 0) s += '<circle class="mark-tunnel" cx="3.5" cy="3.5" r="2.2"/>';
    if (b.reserved > 0) s += `<rect class="reserved" width="${CELL - 1}" height="${CELL - 1}"/>`;
    if (b.problems > 0) s += `<rect class="mark-problem" x="1" y="1" width="${CELL - 3}" height="${CELL - 3}"/><text class="mark-problem-text" x="6" y="10">!</text>`;
    return s + '</g>';
  }

  function blockLabel(b) {
    const parts = [`block ${b.cidr}`, b.node ? `node ${b.node}` : 'no node', `${b.inUse} of ${b.capacity} in use`];
    if (b.reserved) parts.push(`${b.reserved} reserved`);
    if (b.borrowed) parts.push(`${b.borrowed} borrowed`);
    if (b.tunnels) parts.push(`${b.tunnels} tunnel`);
    if (b.problems) parts.push(`${b.problems} problem${b.problems > 1 ? 's' : ''}`);
    return parts.join(', ');
  }

  function reservedSlots(poolIndex, pool) {
    // Reservations as ranges of block slots (a reservation smaller than a block marks its slot).
    const out = [];
    const base = pool.cidr.split('/')[0];
    const bits = pool.version === 4 ? 32 : 128;
    const shift = BigInt(bits - pool.blockPrefix);
    const poolBase = ipValue(base, pool.version);
    for (const r of state.summary.reservations) {
      if (r.pool !== poolIndex) continue;
      const [addr, p] = r.cidr.split('/');
      const start = ipValue(addr, pool.version);
      const size = 1n << BigInt(bits - Number(p));
      const first = (start - poolBase) >> shift;
      const last = (start + size - 1n - poolBase) >> shift;
      out.push({ first, last, name: r.name, cidr: r.cidr });
    }
    return out;
  }

  function ipValue(text, version) {
    if (version === 4) return text.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
    let [head, tail] = text.includes('::') ? text.split('::') : [text, null];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = tail === null ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
  }

  function poolMarkup(i, pool, blocks) {
    const v = viewOf(i);
    const { cells, cellSpan } = cellsOf(v);
    const cols = Math.min(64, cells);
    const rows = Math.ceil(cells / cols);
    const end = v.start + v.span;
    let tiles = '';
    let drawn = 0;
    if (cellSpan === 1n) {
      for (const b of blocks) {
        const slot = b.slotBig;
        if (slot < v.start || slot >= end) continue;
        const k = Number(slot - v.start);
        tiles += tileMarkup((k % cols) * CELL, Math.floor(k / cols) * CELL, b, blockLabel(b));
        drawn++;
      }
    } else {
      const agg = new Map();
      for (const b of blocks) {
        const slot = b.slotBig;
        if (slot < v.start || slot >= end) continue;
        const k = Number((slot - v.start) / cellSpan);
        let a = agg.get(k);
        if (!a) agg.set(k, (a = { blocks: 0, inUse: 0, capacity: 0, reserved: 0, borrowed: 0, tunnels: 0, problems: 0, nodes: new Map() }));
        a.blocks++;
        a.inUse += b.inUse;
        a.capacity += b.capacity;
        a.reserved += b.reserved;
        a.borrowed += b.borrowed;
        a.tunnels += b.tunnels;
        a.problems += b.problems;
        if (b.node) a.nodes.set(b.node, (a.nodes.get(b.node) || 0) + 1);
      }
      for (const [k, a] of agg) {
        let top = '';
        let most = 0;
        for (const [n, c] of a.nodes) if (c > most) [top, most] = [n, c];
        const label = `${a.blocks} block${a.blocks > 1 ? 's' : ''} of ${cellSpan} slots, ${a.nodes.size} node${a.nodes.size === 1 ? '' : 's'}${top ? ` (mostly ${top})` : ''}, ${a.inUse} of ${a.capacity} in use${a.problems ? `, ${a.problems} problems` : ''}; Enter to zoom in`;
        const pseudo = { cidr: `cell:${i}:${k}`, node: top, inUse: a.inUse, capacity: a.capacity, reserved: a.reserved, borrowed: a.borrowed, tunnels: a.tunnels, problems: a.problems };
        tiles += tileMarkup((k % cols) * CELL, Math.floor(k / cols) * CELL, pseudo, label).replace('<g class="tile', `<g data-cell="${k}" class="cell`);
        drawn++;
      }
    }
    let hatch = '';
    for (const r of reservedSlots(i, pool)) {
      const from = r.first > v.start ? r.first : v.start;
      const to = r.last < end - 1n ? r.last : end - 1n;
      if (from > to) continue;
      const a = Number((from - v.start) / cellSpan);
      const z = Number((to - v.start) / cellSpan);
      for (let k = a; k <= z && k - a < MAX_CELLS; k++) hatch += `<rect class="reserved" x="${(k % cols) * CELL}" y="${Math.floor(k / cols) * CELL}" width="${CELL - 1}" height="${CELL - 1}"><title>${esc(`reserved by ${r.name}: ${r.cidr}`)}</title></rect>`;
    }
    const w = cols * CELL;
    const h = rows * CELL;
    const whole = v.start === 0n && v.span === poolSlots(pool);
    const crumbs = whole
      ? cellSpan === 1n
        ? `${cells} block slots`
        : `${pool.slots} block slots, ${cellSpan} per cell; Enter or click a cell to zoom in`
      : `slots ${v.start}–${end - 1n} of ${pool.slots}${cellSpan > 1n ? `, ${cellSpan} per cell` : ''} <button type="button" data-up="${i}">Up</button> <button type="button" data-whole="${i}">Whole pool</button>`;
    return {
      head: `<div class="pool-head"><h2>${esc(pool.name)} <span class="kind">${esc(pool.cidr)}</span>${pool.disabled ? ' <span class="badge">disabled</span>' : ''}</h2><span class="counts">${esc(pool.inUse)} in use, ${esc(pool.reserved)} reserved, ${esc(pool.available)} free; /${pool.blockPrefix} blocks</span><span class="crumbs">${crumbs}</span></div>`,
      svg: `<svg class="grid" data-pool="${i}" data-tiles="${drawn}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="group" aria-label="${esc(`${pool.name} ${pool.cidr}`)}"><rect width="${w}" height="${h}" fill="url(#empty)"/>${tiles}${hatch}</svg>`,
    };
  }

  function drawPools() {
    const s = state.summary;
    const byPool = blocksByPool();
    const container = $('pools');
    const focusedCidr = document.activeElement && document.activeElement.getAttribute && document.activeElement.getAttribute('data-cidr');
    let html = '';
    s.pools.forEach((pool, i) => {
      const m = poolMarkup(i, pool, byPool.get(i) || []);
      html += `<section class="pool" data-pool-name="${esc(pool.name)}">${m.head}${m.svg}</section>`;
    });
    const orphans = byPool.get(-1) || [];
    if (orphans.length > 0) {
      const cols = Math.min(64, orphans.length);
      const rows = Math.ceil(orphans.length / cols);
      const tiles = orphans.map((b, k) => tileMarkup((k % cols) * CELL, Math.floor(k / cols) * CELL, b, blockLabel(b))).join('');
      html += `<section class="pool" data-pool-name=""><div class="pool-head"><h2>Blocks outside every pool</h2></div><svg class="grid" data-pool="-1" data-tiles="${orphans.length}" viewBox="0 0 ${cols * CELL} ${rows * CELL}" width="${cols * CELL}" height="${rows * CELL}">${tiles}</svg></section>`;
    }
    if (s.pools.length === 0 && orphans.length === 0) html = '<p>No IP pools.</p>';
    container.innerHTML = html;
    if (focusedCidr) {
      const again = container.querySelector(`[data-cidr="${CSS.escape(focusedCidr)}"]`);
      if (again) again.focus({ preventScroll: true });
    }
  }

  function drawNodes() {
    const s = state.summary;
    const limit = s.config.blockLimit;
    const nodes = [...s.nodes].sort((a, b) => b.blocks - a.blocks || b.addresses - a.addresses || (a.name < b.name ? -1 : 1));
    const shown = nodes.slice(0, 100);
    if (state.matchNode && !shown.some((n) => n.name === state.matchNode)) {
      const m = nodes.find((n) => n.name === state.matchNode);
      if (m) shown.push(m);
    }
    const near = nodes.filter((n) => n.nearLimit).length;
    let html = `<p>${nodes.length} nodes; block limit ${limit} per node${s.config.maxBlocksPerHost === 0 ? ' (maxBlocksPerHost 0: the default)' : ''}; strict affinity ${s.config.strictAffinity ? 'on' : 'off'}; <strong>${near}</strong> near the limit.</p>`;
    html += '<table><thead><tr><th>node</th><th>blocks / limit</th><th></th><th>addresses</th></tr></thead><tbody>';
    for (const n of shown) {
      html += `<tr class="${n.nearLimit ? 'near-limit' : ''}" data-node="${esc(n.name)}"><td><span class="swatch" data-hue="${hueOf(n.name)}"></span><button type="button" class="link" data-node="${esc(n.name)}">${esc(n.name)}</button>${n.nearLimit ? '<span class="badge">near limit</span>' : ''}</td><td>${n.blocks} / ${limit}</td><td><meter min="0" max="${limit}" low="${limit * 0.6}" high="${limit * 0.8}" optimum="0" value="${n.blocks}"></meter></td><td>${n.addresses}</td></tr>`;
    }
    html += '</tbody></table>';
    if (nodes.length > shown.length) html += `<p class="hint">${nodes.length - shown.length} more; search for a node to see it.</p>`;
    $('nodes').innerHTML = html;
    for (const sw of $('nodes').querySelectorAll('.swatch')) sw.style.background = `hsl(${sw.dataset.hue} 55% 72%)`;
  }

  function drawProblems() {
    const list = state.summary.problems;
    const el = $('problems');
    if (list.length === 0) {
      el.innerHTML = '<li>No problems found.</li>';
      return;
    }
    el.innerHTML = list
      .slice(0, 500)
      .map((p, k) => `<li data-kind="${esc(p.kind)}"><span class="kind">${esc(p.kind)}</span> ${esc(p.message)}${p.block ? ` <button type="button" class="link" data-problem="${k}">show ${esc(p.block)}</button>` : ''}</li>`)
      .join('');
  }

  function ago(iso) {
    if (!iso) return 'never';
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 1 ? 'just now' : `${s} s ago`;
  }

  function drawStatus() {
    const el = $('status');
    const st = state.status;
    let text;
    let cls = '';
    if (state.fetchFailed) {
      text = `atollctl is not answering; picture from ${ago(state.summary && state.summary.takenAt)}`;
      cls = 'unreachable';
    } else if (!st) {
      text = 'Waiting for the first picture…';
    } else if (st.error) {
      text = `${st.reachable ? 'Allocator reachable but failing' : 'Allocator unreachable'}: ${st.error}. Picture from ${state.summary ? ago(state.summary.takenAt) : 'never'}`;
      cls = st.reachable ? 'stale' : 'unreachable';
    } else {
      const t = state.summary.totals;
      text = `Allocator reachable. Picture taken ${ago(state.summary.takenAt)}: ${t.blocks} blocks, ${t.allocations} addresses, ${t.nodes} nodes, ${t.problems} problems.`;
    }
    el.textContent = text;
    el.className = cls;
    el.dataset.reachable = st && !state.fetchFailed ? String(st.reachable && !st.error) : 'false';
  }

  function render() {
    const s = state.summary;
    if (!s) return drawStatus();
    for (const b of s.blocks) b.slotBig = BigInt(b.slot);
    const key = JSON.stringify([s.pools, s.blocks, s.reservations, [...state.views].map(([k, v]) => [k, String(v.start), String(v.span)]), state.selected, state.matchNode], (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    if (key !== state.drawnKey) {
      state.drawnKey = key;
      drawPools();
    }
    drawNodes();
    drawProblems();
    drawStatus();
  }

  async function poll() {
    try {
      const r = await fetch('/api/snapshot', { cache: 'no-store' });
      const body = await r.json();
      state.status = body.status;
      if (body.snapshot) state.summary = body.snapshot;
      state.fetchFailed = false;
    } catch {
      state.fetchFailed = true;
    }
    render();
    if (state.summary && document.body.dataset.loaded !== 'true') {
      // The first picture is on screen once the frame after it has been drawn.
      requestAnimationFrame(() => setTimeout(() => performance.mark('atoll-map-painted'), 0));
    }
    document.body.dataset.loaded = state.summary ? 'true' : 'false';
    setTimeout(poll, REFRESH_MS);
  }

  // ---- details --------------------------------------------------------------------------

  const blockByCidr = (cidr) => state.summary && state.summary.blocks.find((b) => b.cidr === cidr);

  async function showBlock(cidr, address) {
    state.selected = cidr;
    for (const t of document.querySelectorAll('.tile.selected')) t.classList.remove('selected');
    const tile = document.querySelector(`.tile[data-cidr="${CSS.escape(cidr)}"]`);
    if (tile) tile.classList.add('selected');
    const r = await fetch(`/api/block?cidr=${encodeURIComponent(cidr)}`, { cache: 'no-store' });
    const el = $('details');
    if (!r.ok) {
      el.innerHTML = `<h2>Details</h2><p>No block ${esc(cidr)} (yet): the space is empty.</p>`;
      return;
    }
    const d = await r.json();
    const b = d.block;
    let html = `<h2>Block <span class="kind" id="detail-cidr">${esc(b.cidr)}</span></h2><dl>`;
    html += `<dt>node</dt><dd>${b.node ? `<span class="swatch" data-hue="${hueOf(b.node)}"></span>${esc(b.node)}` : 'none'}</dd>`;
    html += `<dt>affinity</dt><dd>${esc(b.affinity || 'none')}; strict affinity ${d.strictAffinity ? 'on' : 'off'}</dd>`;
    html += `<dt>in use</dt><dd>${b.inUse} of ${b.capacity}</dd><dt>free</dt><dd>${b.available}</dd><dt>reserved</dt><dd>${b.reserved}${d.reservedCidrs.length ? ` (${esc(d.reservedCidrs.join(', '))})` : ''}</dd>`;
    html += `<dt>borrowed</dt><dd>${b.borrowed}</dd><dt>tunnel</dt><dd>${b.tunnels}</dd></dl>`;
    if (d.problems.length) html += `<h3>Problems</h3><ul>${d.problems.map((p) => `<li><span class="kind">${esc(p.kind)}</span> ${esc(p.message)}</li>`).join('')}</ul>`;
    if (d.addresses) {
      html += '<h3>Addresses</h3><div class="addr-grid" role="group" aria-label="addresses of the block">';
      html += d.addresses
        .map((a) => `<button type="button" class="addr${a.holder >= 0 ? ' used' : ''}${a.reserved ? ' reserved-addr' : ''}" data-address="${esc(a.address)}" data-holder="${a.holder}" title="${esc(a.address)}" aria-label="${esc(`${a.address} ${a.holder >= 0 ? 'in use' : a.reserved ? 'reserved' : 'free'}`)}"></button>`)
        .join('');
      html += '</div><p id="holder" aria-live="polite">Click an address to see its holder.</p>';
    }
    html += `<h3>Allocations (${d.allocations.length})</h3><table><thead><tr><th>address</th><th>pod</th><th>namespace</th><th>handle</th></tr></thead><tbody>`;
    html += d.allocations
      .slice(0, 1024)
      .map((a) => `<tr data-address="${esc(a.address)}"><td>${esc(a.address)}</td><td>${esc(a.pod || (a.tunnel ? `(tunnel, ${a.node})` : ''))}${a.borrowed ? ' <span class="badge">borrowed</span>' : ''}</td><td>${esc(a.namespace)}</td><td class="kind">${esc(a.handle)}</td></tr>`)
      .join('');
    html += '</tbody></table>';
    el.innerHTML = html;
    for (const sw of el.querySelectorAll('.swatch')) sw.style.background = `hsl(${sw.dataset.hue} 55% 72%)`;
    el._allocations = d.allocations;
    if (address) showHolder(address);
  }

  function showHolder(address) {
    const el = $('details');
    const list = el._allocations || [];
    for (const b of el.querySelectorAll('.addr.selected')) b.classList.remove('selected');
    const btn = el.querySelector(`.addr[data-address="${CSS.escape(address)}"]`);
    if (btn) btn.classList.add('selected');
    const a = list.find((x) => x.address === address);
    const holder = $('holder');
    const text = a
      ? `${address}: ${a.pod ? `pod ${a.namespace}/${a.pod}` : a.tunnel ? `tunnel address of ${a.node}` : 'no pod'}, node ${a.node || '?'}, handle ${a.handle || 'none'}${a.borrowed ? ', borrowed' : ''}`
      : `${address}: ${btn && btn.classList.contains('reserved-addr') ? 'reserved' : 'free'}`;
    if (holder) holder.textContent = text;
  }

  function jumpTo(poolIndex, slot, cidr, address) {
    if (poolIndex >= 0) {
      const pool = state.summary.pools[poolIndex];
      const v = viewOf(poolIndex);
      if (!(slot >= v.start && slot < v.start + v.span && cellsOf(v).cellSpan === 1n)) state.views.set(poolIndex, leafWindow(pool, slot));
    }
    state.selected = cidr;
    render();
    const tile = document.querySelector(`.tile[data-cidr="${CSS.escape(cidr)}"]`);
    if (tile) {
      tile.focus({ preventScroll: true });
      tile.scrollIntoView({ block: 'center' });
    }
    return showBlock(cidr, address);
  }

  function jumpToBlock(cidr, address) {
    const b = blockByCidr(cidr);
    if (b) return jumpTo(b.pool, b.slotBig, cidr, address);
    const p = state.summary.problems.find((x) => x.block === cidr && x.pool !== undefined);
    if (p) return jumpTo(p.pool, BigInt(p.slot), cidr, address);
    return showBlock(cidr, address);
  }

  // ---- events ---------------------------------------------------------------------------

  const tip = $('tip');
  $('pools').addEventListener('mouseover', (e) => {
    const g = e.target.closest('.tile, .cell');
    if (!g) {
      tip.hidden = true;
      return;
    }
    tip.textContent = g.getAttribute('aria-label');
    tip.hidden = false;
    tip.style.left = `${Math.min(e.clientX + 12, window.innerWidth - 300)}px`;
    tip.style.top = `${e.clientY + 14}px`;
  });
  $('pools').addEventListener('mouseleave', () => (tip.hidden = true));

  function activate(g) {
    if (g.classList.contains('cell')) {
      const i = Number(g.closest('svg').dataset.pool);
      const v = viewOf(i);
      const { cellSpan } = cellsOf(v);
      const k = BigInt(g.dataset.cell);
      state.views.set(i, drillWindow(v, cellSpan, v.start + k * cellSpan));
      render();
      const first = document.querySelector(`svg[data-pool="${i}"] .tile, svg[data-pool="${i}"] .cell`);
      if (first) first.focus();
      return;
    }
    showBlock(g.dataset.cidr);
  }

  $('pools').addEventListener('click', (e) => {
    const up = e.target.closest('[data-up]');
    if (up) {
      const i = Number(up.dataset.up);
      const pool = state.summary.pools[i];
      const v = viewOf(i);
      let span = v.span * 64n;
      if (span > poolSlots(pool)) span = poolSlots(pool);
      state.views.set(i, { start: (v.start / span) * span, span });
      return render();
    }
    const whole = e.target.closest('[data-whole]');
    if (whole) {
      state.views.delete(Number(whole.dataset.whole));
      return render();
    }
    const g = e.target.closest('.tile, .cell');
    if (g) activate(g);
  });
  $('pools').addEventListener('keydown', (e) => {
    const g = e.target.closest('.tile, .cell');
    if (!g) return;
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate(g);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      e.preventDefault();
      const next = e.key === 'ArrowRight' ? g.nextElementSibling : g.previousElementSibling;
      if (next && next.matches('.tile, .cell')) next.focus();
    }
  });
  $('details').addEventListener('click', (e) => {
    const a = e.target.closest('[data-address]');
    if (a) showHolder(a.dataset.address);
  });
  $('problems').addEventListener('click', (e) => {
    const b = e.target.closest('[data-problem]');
    if (!b) return;
    const p = state.summary.problems[Number(b.dataset.problem)];
    jumpToBlock(p.block, p.address);
  });
  $('nodes').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-node]');
    if (b) findNode(b.dataset.node);
  });

  function findNode(name) {
    state.matchNode = name;
    const first = state.summary.blocks.find((b) => b.node === name);
    if (first) return jumpToBlock(first.cidr);
    render();
  }

  async function runSearch(q) {
    const r = await fetch(`/api/search?q=${encodeURIComponent(q)}`, { cache: 'no-store' });
    const { hits } = await r.json();
    const list = $('search-results');
    list.innerHTML = hits.length ? hits.map((h, k) => `<li><button type="button" data-hit="${k}">${esc(h.label)}</button></li>`).join('') : `<li>Nothing found for ${esc(q)}.</li>`;
    list._hits = hits;
    if (hits.length > 0) await openHit(hits[0]);
  }

  function openHit(h) {
    if (h.kind === 'node') {
      state.matchNode = h.node;
      return h.block ? jumpToBlock(h.block) : render();
    }
    state.matchNode = '';
    return jumpToBlock(h.block, h.address);
  }

  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('search-input').value.trim();
    if (q) runSearch(q);
  });
  $('search-input').addEventListener('keydown', (e) => {
    if (e.key === 'Escape') $('search-results').innerHTML = '';
  });
  $('search-input').addEventListener('input', (e) => {
    if (e.target.value.trim() === '') $('search-results').innerHTML = '';
  });
  $('search-results').addEventListener('click', (e) => {
    const b = e.target.closest('[data-hit]');
    if (b) openHit($('search-results')._hits[Number(b.dataset.hit)]);
  });

  setInterval(drawStatus, 1000);
  poll();
})();
