// The sstkit inspector page: drives pkg/sstkit_inspector.wasm (web/inspector) through its plain ABI. The file is
// read in slices (File.slice): the tail at open, then whatever an answer's {"need": [offset, len]} names.
'use strict';

const CHUNK = 8 << 20; // bytes read per verify step
const TAIL = 64 << 10; // first read at open
const COLORS = {
  'data': '#4e79a7', 'index': '#f28e2b', 'index partition': '#ffbe7d', 'filter': '#59a14f',
  'filter partition': '#8cd17d', 'properties': '#b07aa1', 'range deletions': '#9c755f',
  'compression dictionary': '#edc948', 'meta': '#bab0ac', 'metaindex': '#76b7b2', 'footer': '#333333',
};
const CORRUPT = '#ff0000';

let X = null; // the module's exports
let file = null;
const state = { openMs: 0, bytesRead: 0, summary: null, map: null, lastLookup: null, verify: null, stats: null };
state.showBlock = (i) => showBlock(i);
window.sstInspector = state;

const $ = (id) => document.getElementById(id);
const utf8 = new TextDecoder('utf-8', { fatal: true });

// --- the ABI ---------------------------------------------------------------------------------------------------
function put(bytes) {
  const p = X.sst_input(bytes.length);
  new Uint8Array(X.memory.buffer, p, bytes.length).set(bytes);
}
function answer(len) {
  const p = X.sst_output_ptr();
  return JSON.parse(new TextDecoder().decode(new Uint8Array(X.memory.buffer, p, len)));
}
async function read(offset, len) {
  state.bytesRead += len;
  return new Uint8Array(await file.slice(offset, offset + len).arrayBuffer());
}
// Calls `call` until its answer needs no more bytes, reading and providing each range it names.
async function ask(call) {
  for (let round = 0; round < 8; round++) {
    const r = call();
    if (!r.need) return r;
    const [offset, len] = r.need;
    put(await read(offset, len));
    answer(X.sst_provide(offset));
  }
  throw new Error('the module kept asking for bytes');
}

// --- bytes for people --------------------------------------------------------------------------------------------
function enc() { return document.querySelector('input[name=enc]:checked').value; }
function hexBytes(h) {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.substr(i * 2, 2), 16);
  return b;
}
function show(h) {
  if (h === null || h === undefined) return '';
  if (enc() === 'hex') return h;
  let text;
  try { text = utf8.decode(hexBytes(h)); } catch { return '0x' + h; }
  // Control characters stay visible as escapes.
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}
// An index key: the user key, and the seqno when the index stores internal keys.
function showKey(h, seqno) {
  return show(h) + (seqno === null || seqno === undefined ? '' : ` @seq ${seqno}`);
}
function keyBytes(text) {
  if (enc() === 'hex') {
    const t = text.replace(/^0x/, '').replace(/\s+/g, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(t)) throw new Error('not hex: ' + text);
    return hexBytes(t.toLowerCase());
  }
  return new TextEncoder().encode(text);
}
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function row(table, cells, head) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el(head ? 'th' : 'td');
    if (c instanceof Node) td.append(c); else td.textContent = c === null || c === undefined ? '' : String(c);
    tr.append(td);
  }
  table.append(tr);
  return tr;
}
function kv(table, pairs) {
  table.replaceChildren();
  for (const [k, v] of pairs) {
    const tr = el('tr');
    tr.dataset.name = k;
    tr.append(el('th', k), el('td', v));
    table.append(tr);
  }
}
function fail(msg) {
  $('error').hidden = false;
  $('error').textContent = msg;
}
function errorText(r) {
  return r.error_kind === 'unsupported' ? 'Unsupported: ' + r.error : r.error;
}

// The block map, packed: three f64 per block (kind * 4 + check, offset, stored length) → [kind, offset, length,
// check] per block.
function loadMap() {
  const n = X.sst_blocks_packed();
  const f = new Float64Array(new Uint8Array(X.memory.buffer, X.sst_output_ptr(), n).slice().buffer);
  const blocks = new Array(f.length / 3);
  for (let i = 0, j = 0; j < f.length; i++, j += 3) blocks[i] = [Math.floor(f[j] / 4), f[j + 1], f[j + 2], f[j] % 4];
  state.map = { kinds: state.summary.kinds, blocks };
}

// --- open --------------------------------------------------------------------------------------------------------
async function openFile(f) {
  file = f;
  $('error').hidden = true;
  $('main').hidden = true;
  $('block').hidden = true;
  $('status').textContent = 'opening ' + f.name + '…';
  Object.assign(state, { bytesRead: 0, summary: null, map: null, lastLookup: null, verify: null, stats: null });
  const t0 = performance.now();
  let from = Math.max(0, f.size - TAIL);
  let r;
  const times = { read: 0, open: 0, map: 0, render: 0 };
  for (;;) {
    let t = performance.now();
    const bytes = await read(from, f.size - from);
    times.read += performance.now() - t;
    t = performance.now();
    put(bytes);
    r = answer(X.sst_open(f.size));
    times.open += performance.now() - t;
    if (r.need_from === undefined) break;
    from = r.need_from;
  }
  state.openTimes = times;
  if (r.error) {
    $('status').textContent = f.name + ': not opened';
    fail(f.name + ': ' + errorText(r));
    return;
  }
  state.summary = r;
  let t = performance.now();
  loadMap();
  times.map = performance.now() - t;
  t = performance.now();
  renderAll();
  times.render = performance.now() - t;
  state.openMs = performance.now() - t0;
  $('status').textContent = `${f.name}: open (${f.size} bytes; ${state.bytesRead} read in ${state.openMs.toFixed(1)} ms)`;
  $('status').dataset.state = 'open';
}

function renderAll() {
  const s = state.summary;
  $('main').hidden = false;
  const fo = s.footer;
  kv($('facts'), [
    ['file', `${file.name}, ${s.file_size} bytes`],
    ['table', s.table],
    ['footer', `format_version ${fo.format_version}, checksum ${fo.checksum}` +
      (fo.format_version >= 6 ? `, base context checksum 0x${fo.base_context_checksum.toString(16)}` : '') +
      `, ${fo.length} bytes`],
    ['metaindex', `@${fo.metaindex[0]}+${fo.metaindex[1]}`],
    ['index', `@${fo.index[0]}+${fo.index[1]}: ${s.index.keys}, ${s.index.encoding}` +
      (s.index.partitioned ? ', partitioned' : '') + (s.index.first_key ? ', with first keys' : '')],
    ['filter', s.filter],
    ['global seqno', s.global_seqno === null ? 'none' : s.global_seqno],
    ['compression dictionary', s.compression_dict_bytes ? s.compression_dict_bytes + ' bytes' : 'none'],
    ['blocks', Object.entries(s.blocks_by_kind).map(([k, n]) => `${n} ${k}`).join(', ')],
    ['read at open', `${state.bytesRead} bytes (metadata from offset ${s.metadata_from})`],
  ]);
  if (s.map_error) fail('The block map stops short: ' + s.map_error);
  renderProps();
  renderMeta();
  renderLegend();
  drawMap();
  index.from = 0;
  $('index').replaceChildren();
  renderIndex();
  $('stats').replaceChildren();
  $('corrupt').replaceChildren();
  $('verify-status').textContent = '';
  $('lookup-steps').replaceChildren();
  $('lookup-result').textContent = '';
}

function renderProps() {
  const t = $('props');
  t.replaceChildren();
  row(t, ['name', 'value'], true);
  if (!state.summary.properties.length) row(t, ['(none: a LevelDB table has no properties block)', '']);
  for (const [name, num, text, hex] of state.summary.properties) {
    const v = num !== null ? num : text !== null ? text : '0x' + hex;
    const tr = row(t, [name, v]);
    tr.dataset.name = name;
    tr.lastChild.className = 'bytes';
  }
}

function renderMeta() {
  const t = $('meta');
  t.replaceChildren();
  row(t, ['name', 'offset', 'size'], true);
  for (const m of state.summary.meta_blocks) row(t, m);
  const tomb = state.summary.range_deletions;
  const d = $('tombstones');
  d.replaceChildren();
  if (tomb.length) {
    d.append(el('h3', `Range deletions (${tomb.length})`));
    const tt = el('table');
    tt.className = 'grid';
    row(tt, ['start', 'end', 'seqno'], true);
    for (const [a, b, q] of tomb) row(tt, [show(a), show(b), q]);
    d.append(tt);
  }
}

// --- index entries, paged ----------------------------------------------------------------------------------------
const index = { from: 0, page: 200 };
function renderIndex() {
  const r = answer(X.sst_index_entries(index.from, index.page));
  if (r.error) { fail('index: ' + r.error); return; }
  const t = $('index');
  if (index.from === 0) row(t, ['#', 'separator key', 'data block', 'first key'], true);
  r.entries.forEach(([k, o, s, first, q], i) => row(t, [index.from + i, showKey(k, q), `@${o}+${s}`, show(first)]));
  index.from += r.entries.length;
  $('index-count').textContent = `(${r.total} entries naming data blocks)`;
  $('index-more').hidden = index.from >= r.total;
}

// --- the block map -----------------------------------------------------------------------------------------------
function renderLegend() {
  const d = $('legend');
  d.replaceChildren();
  for (const k of state.map.kinds) {
    if (!state.summary.blocks_by_kind[k]) continue;
    const s = el('span');
    const i = el('i');
    i.style.background = COLORS[k];
    s.append(i, `${k} (${state.summary.blocks_by_kind[k]})`);
    d.append(s);
  }
  const s = el('span');
  const i = el('i');
  i.style.background = CORRUPT;
  s.append(i, 'corrupt');
  d.append(s);
}

// The file wraps over the canvas's rows: each row holds an equal share of the bytes, so widths are to scale.
function geometry() {
  const c = $('map');
  const rows = 8;
  return { c, rows, rowH: c.height / rows, perRow: state.summary.file_size / rows, w: c.width };
}
// Each pixel column shows the kind with the most bytes in it (lighter while any of them is unread); a column
// holding a corrupt block is red, with a tall marker so a one-pixel block still shows.
function drawMap() {
  const { c, rows, rowH, perRow, w } = geometry();
  const cols = rows * w;
  const best = new Float64Array(cols), kindOf = new Int16Array(cols).fill(-1);
  const unread = new Uint8Array(cols), corrupt = new Uint8Array(cols);
  const perCol = perRow / w;
  const blocks = state.map.blocks;
  for (const [kind, off, len, check] of blocks) {
    const end = off + len;
    for (let col = Math.floor(off / perCol); col < cols && col * perCol < end; col++) {
      const bytes = Math.min(end, (col + 1) * perCol) - Math.max(off, col * perCol);
      if (bytes > best[col]) { best[col] = bytes; kindOf[col] = kind; }
      if (check === 0) unread[col] = 1;
      if (check === 2) corrupt[col] = 1;
    }
  }
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const kinds = state.map.kinds;
  for (let col = 0; col < cols; col++) {
    if (kindOf[col] < 0) continue;
    g.fillStyle = corrupt[col] ? CORRUPT : COLORS[kinds[kindOf[col]]];
    g.globalAlpha = unread[col] && !corrupt[col] ? 0.55 : 1;
    g.fillRect(col % w, Math.floor(col / w) * rowH + 1, 1, rowH - 2);
  }
  g.globalAlpha = 1;
  // Block starts, where blocks are wide enough to tell apart.
  if (blocks.length < 4000) {
    g.fillStyle = '#ffffff';
    for (const [, off, len] of blocks) {
      if (len / perCol < 3) continue;
      const col = Math.floor(off / perCol);
      g.fillRect(col % w, Math.floor(col / w) * rowH + 1, 1, rowH - 2);
    }
  }
  g.fillStyle = CORRUPT;
  for (const [, off, , check] of blocks) {
    if (check !== 2) continue;
    const col = Math.floor(off / perCol);
    g.fillRect(Math.max(0, (col % w) - 2), Math.floor(col / w) * rowH, 5, rowH);
  }
}
function blockAt(evt) {
  const { c, rows, rowH, perRow, w } = geometry();
  const rect = c.getBoundingClientRect();
  const x = (evt.clientX - rect.left) * (c.width / rect.width);
  const y = (evt.clientY - rect.top) * (c.height / rect.height);
  const r = Math.min(rows - 1, Math.floor(y / rowH));
  const off = Math.floor((r + x / w) * perRow);
  const bs = state.map.blocks;
  let lo = 0, hi = bs.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (bs[mid][1] <= off) lo = mid; else hi = mid - 1; }
  return lo;
}
function describe(i) {
  const [kind, off, len, check, comp, raw, entries, name, error] = answer(X.sst_block_info(i));
  const k = state.map.kinds[kind] + (name ? ` ${name}` : '');
  const c = check === 0 ? 'not read yet' : check === 1 ? 'checksum ok' : 'CORRUPT: ' + error;
  return `#${i} ${k} @${off}, ${len} bytes stored` + (comp ? `, ${comp}` : '') +
    (raw !== null ? `, ${raw} bytes uncompressed` : '') + (entries !== null ? `, ${entries} entries` : '') + `: ${c}`;
}

async function showBlock(i) {
  const r = await ask(() => answer(X.sst_inspect(i)));
  if (r.error) { fail(errorText(r)); return; }
  // What reading the block taught: its checksum verdict and compression (the whole map is not fetched again).
  state.map.blocks[i][3] = r.checksum === 'ok' ? 1 : 2;
  drawMap();
  const sec = $('block');
  sec.hidden = false;
  sec.dataset.index = i;
  $('block-title').textContent = `#${i}: ${r.kind}${r.name ? ' ' + r.name : ''} @${r.offset}`;
  const facts = [
    ['offset', r.offset], ['size', `${r.size} bytes (+ trailer: ${r.stored} stored)`],
    ['compression', r.compression || ''],
    ['checksum', r.checksum === 'ok' ? 'ok' : 'CORRUPT: ' + (r.error || '')],
  ];
  kv($('block-facts'), facts);
  const d = $('block-contents');
  d.replaceChildren();
  const c = r.contents;
  if (!c) return;
  if (c.error) { d.append(el('p', errorText(c), 'bad')); return; }
  const t = el('table');
  t.className = 'grid';
  if (c.entries) {
    d.append(el('p', `${c.total} entries, ${c.uncompressed} bytes uncompressed` +
      (c.total > c.entries.length ? ` (first ${c.entries.length} shown)` : '')));
    row(t, ['key', 'seqno', 'kind', 'value', 'decoded'], true);
    for (const [k, q, kind, v, det] of c.entries) {
      let decoded = '';
      if (det && det.columns) decoded = det.columns.map(([n, cv]) => `${show(n)}=${show(cv)}`).join(', ');
      else if (det && det.blob) decoded = `blob file ${det.blob.file_number} @${det.blob.offset}+${det.blob.size}`;
      else if (det && det.preferred_seqno !== undefined) decoded = `${show(det.value)} (preferred seqno ${det.preferred_seqno})`;
      else if (det && det.malformed) decoded = 'malformed: ' + det.malformed;
      const tr = row(t, [show(k), q, kind, show(v), decoded]);
      tr.children[3].className = 'bytes';
    }
  } else if (c.index_entries) {
    d.append(el('p', `${c.total} index entries naming ${c.names}` +
      (c.total > c.index_entries.length ? ` (first ${c.index_entries.length} shown)` : '')));
    row(t, ['separator key', 'block', 'first key'], true);
    for (const [k, o, s, first, q] of c.index_entries) row(t, [showKey(k, q), `@${o}+${s}`, show(first)]);
  } else if (c.meta_blocks) {
    row(t, ['name', 'offset', 'size'], true);
    for (const m of c.meta_blocks) row(t, m);
  } else if (c.properties) {
    row(t, ['name', 'value'], true);
    for (const [n, num, text, hex] of c.properties) row(t, [n, num !== null ? num : text !== null ? text : '0x' + hex]);
  } else if (c.range_deletions) {
    row(t, ['start', 'end', 'seqno'], true);
    for (const [a, b, q] of c.range_deletions) row(t, [show(a), show(b), q]);
  } else if (c.footer) {
    const f = c.footer;
    row(t, ['format_version', f.format_version]);
    row(t, ['checksum', f.checksum]);
    row(t, ['metaindex', `@${f.metaindex[0]}+${f.metaindex[1]}`]);
    row(t, ['index', `@${f.index[0]}+${f.index[1]}`]);
  } else {
    d.append(el('p', `${c.length} bytes; the first ${Math.min(256, c.length)} in hex:`));
    d.append(el('pre', c.first_bytes));
  }
  d.append(t);
}

// --- lookup ------------------------------------------------------------------------------------------------------
async function lookup(text) {
  const key = keyBytes(text);
  const r = await ask(() => { put(key); return answer(X.sst_lookup()); });
  state.lastLookup = r;
  const ol = $('lookup-steps');
  ol.replaceChildren();
  if (r.error) { ol.append(el('li', errorText(r), 'bad')); return; }
  for (const s of r.steps) {
    // The data block read passed its checksum.
    if (s.step === 'block' && s.block !== null) state.map.blocks[s.block][3] = 1;
    const li = el('li', `${s.step}: ${s.text}`, s.step === 'result' ? 'result' : '');
    if (s.block !== null) {
      li.title = 'show this block';
      li.style.cursor = 'pointer';
      li.onclick = () => showBlock(s.block);
    }
    ol.append(li);
  }
  drawMap();
  const res = $('lookup-result');
  if (r.entry) {
    const [k, q, kind, v] = r.entry;
    res.textContent = `${show(k)} → ${kind} at seq ${q}: ${show(v)}`;
  } else {
    res.textContent = `${text}: not found`;
  }
  res.dataset.found = r.found;
}

// --- verify all --------------------------------------------------------------------------------------------------
async function verifyAll() {
  const size = state.summary.file_size;
  const t0 = performance.now();
  let pos = 0, checked = 0;
  const bad = [];
  while (pos < size) {
    let len = Math.min(CHUNK, size - pos);
    let r;
    for (;;) {
      put(await read(pos, len));
      r = answer(X.sst_verify_chunk(pos));
      if (!r.need_len) break;
      len = r.need_len;
    }
    checked += r.checked;
    bad.push(...r.bad);
    pos = r.next;
    $('verify-status').textContent = `verifying… ${Math.round(100 * pos / size)}%`;
  }
  loadMap();
  drawMap();
  state.verify = { checked, bad, ms: performance.now() - t0 };
  state.stats = answer(X.sst_stats());
  $('verify-status').textContent = bad.length
    ? `${bad.length} corrupt of ${checked} blocks`
    : `ok: ${checked} blocks, ${state.stats.entries_checked} entries checked`;
  $('verify-status').className = bad.length ? 'bad' : 'ok';
  const d = $('corrupt');
  d.replaceChildren();
  if (bad.length) {
    const ul = el('ul');
    for (const [i, off, kind, msg] of bad) {
      const li = el('li', `${kind} block #${i} at offset ${off}: ${msg}`);
      li.dataset.offset = off;
      li.onclick = () => showBlock(i);
      ul.append(li);
    }
    d.append(ul);
  }
  renderStats();
}

function renderStats() {
  const t = $('stats');
  t.replaceChildren();
  const dist = (v) => v.count ? `count ${v.count}, min ${v.min}, p50 ${v.p50}, p90 ${v.p90}, p99 ${v.p99}, ` +
    `max ${v.max}, mean ${v.mean}, total ${v.total}` : 'none';
  const pairs = Object.entries(state.stats).map(([k, v]) => {
    if (v && typeof v === 'object') {
      return [k, v.count !== undefined ? dist(v) : Object.entries(v).map(([a, b]) => `${a} ${b}`).join(', ')];
    }
    return [k, v];
  });
  kv(t, pairs);
}

// --- wiring ------------------------------------------------------------------------------------------------------
async function init() {
  const bytes = await (await fetch('pkg/sstkit_inspector.wasm')).arrayBuffer();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  X = instance.exports;
  $('status').textContent = 'pick a file';
  $('status').dataset.state = 'ready';
}
const run = (p) => p.catch((e) => fail(String(e && e.stack || e)));
$('file').addEventListener('change', (e) => e.target.files[0] && run(openFile(e.target.files[0])));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer.files[0]) run(openFile(e.dataTransfer.files[0]));
});
$('map').addEventListener('click', (e) => state.map && run(showBlock(blockAt(e))));
$('map').addEventListener('mousemove', (e) => { if (state.map) $('hover').textContent = describe(blockAt(e)); });
$('verify').addEventListener('click', () => run(verifyAll()));
$('index-more').addEventListener('click', () => renderIndex());
$('lookup-form').addEventListener('submit', (e) => { e.preventDefault(); run(lookup($('lookup-key').value)); });
for (const r of document.querySelectorAll('input[name=enc]')) {
  r.addEventListener('change', () => { if (state.summary) { renderAll(); } });
}
run(init());
