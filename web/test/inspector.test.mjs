// The inspector page in a real browser (Debian's chromium driven by playwright-core): tables we wrote and tables
// RocksDB wrote open with the right entry counts, properties and lookups; a flipped byte is marked corrupt on the
// map, at its block; an unsupported table shows the Unsupported message. Run by web/test.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(WEB, '..');
const OUT = process.env.SSTKIT_WEB_OUT || path.join(ROOT, 'target', 'web-test');
const DATA = path.join(ROOT, 'core', 'tests', 'data');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };

let server, url, context, page, profile;

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  assert.ok(fs.existsSync(path.join(WEB, 'pkg', 'sstkit_inspector.wasm')), 'run web/build.sh first');
  // Any static file server does; this one serves web/ and nothing else.
  server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    const file = path.join(WEB, rel);
    if (!file.startsWith(WEB + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${server.address().port}/`;
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sstkit-web-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1200, height: 1400 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  // The page needs no network beyond its own files: anything else fails the test.
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(url)) foreign.push(r.url()); });
  page.foreign = foreign;
  await page.goto(url);
  await page.waitForSelector('#status[data-state=ready]');
});

after(async () => {
  await context?.close();
  server?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

async function open(file) {
  await page.evaluate(() => { document.getElementById('status').dataset.state = ''; });
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => {
    const s = document.getElementById('status').dataset.state;
    return s === 'open' || !document.getElementById('error').hidden;
  });
  const error = await page.evaluate(() => {
    const e = document.getElementById('error');
    return e.hidden ? null : e.textContent;
  });
  return error;
}
const prop = (name) => page.$eval(`#props tr[data-name="${name}"] td:last-child`, (td) => td.textContent);
async function lookup(key) {
  await page.fill('#lookup-key', key);
  await page.evaluate(() => { window.sstInspector.lastLookup = null; });
  await page.click('#lookup-form button');
  await page.waitForFunction(() => window.sstInspector.lastLookup !== null);
  return {
    steps: await page.$$eval('#lookup-steps li', (l) => l.map((li) => li.textContent)),
    result: await page.textContent('#lookup-result'),
    found: await page.evaluate(() => window.sstInspector.lastLookup.found),
  };
}
async function verifyAll(timeout = 120000) {
  await page.evaluate(() => { window.sstInspector.verify = null; });
  await page.click('#verify');
  await page.waitForFunction(() => window.sstInspector.verify !== null, null, { timeout });
  return page.evaluate(() => ({ v: window.sstInspector.verify, stats: window.sstInspector.stats }));
}
// The whole page, and its first screen (map, facts and lookup) at full size.
async function shot(name) {
  await page.screenshot({ path: path.join(OUT, name), fullPage: true });
  await page.screenshot({ path: path.join(OUT, name.replace('.png', '-top.png')) });
}

test('a table we wrote: entries, properties, lookups, verify', async () => {
  const file = path.join(OUT, 'ours.sst');
  assert.equal(await open(file), null);
  assert.equal(await prop('rocksdb.num.entries'), '3000');
  assert.equal(await prop('rocksdb.compression'), 'LZ4');
  const hit = await lookup('user00042');
  assert.equal(hit.found, true);
  assert.match(hit.result, /user00042 → put at seq \d+: value of 42 x+/);
  assert.deepEqual(hit.steps.map((s) => s.split(':')[0]), ['filter', 'index', 'block', 'result']);
  assert.match(hit.steps[0], /full filter: may contain the key/);
  assert.match(hit.steps[2], /checksum ok, LZ4/);
  const del = await lookup('user00003');
  assert.equal(del.found, false);
  assert.match(del.steps.at(-1), /deleted \(delete at seq/);
  const miss = await lookup('nobody');
  assert.equal(miss.found, false);
  // In hex: the key is typed in hex and the entry shown in hex.
  await page.check('input[name=enc][value=hex]');
  const hex = await lookup(Buffer.from('user00042').toString('hex'));
  assert.equal(hex.found, true);
  assert.ok(hex.result.startsWith(`${Buffer.from('user00042').toString('hex')} → put`), hex.result);
  await page.check('input[name=enc][value=utf8]');
  const { v, stats } = await verifyAll();
  assert.deepEqual(v.bad, []);
  assert.equal(stats.entries_checked, 3000);
  assert.equal(stats.entries.put, 3000 - 429);
  assert.equal(stats.entries.delete, 429);
  assert.match(await page.textContent('#verify-status'), /^ok: \d+ blocks, 3000 entries checked/);
  await shot('ours.png');
  // A click on a data block lists its entries.
  const i = await page.evaluate(() => window.sstInspector.map.blocks.findIndex((b) => b[0] === 0));
  await page.evaluate((i) => window.sstInspector.showBlock(i), i);
  await page.waitForSelector(`#block[data-index="${i}"]`);
  const rows = await page.$$eval('#block-contents table tr', (r) => r.length);
  assert.ok(rows > 2, 'the block lists its entries');
  assert.match(await page.textContent('#block-contents table'), /user00000/);
  await page.locator('#block').screenshot({ path: path.join(OUT, 'ours-block.png') });
  assert.deepEqual(page.foreign, []);
});

test('tables RocksDB wrote: plain with a Bloom filter, partitioned index and filter', async () => {
  assert.equal(await open(path.join(DATA, 'rocksdb10', 'fv6_xxh3_lz4_bloom.sst')), null);
  assert.equal(await prop('rocksdb.num.entries'), '150');
  assert.match(await page.textContent('#facts'), /format_version 6, checksum kXXH3/);
  const hit = await lookup('key0042');
  assert.equal(hit.found, true);
  assert.match(hit.result, /key0042 → put at seq \d+: value42value42value42/);
  assert.equal((await lookup('key0013')).found, false);
  let { v, stats } = await verifyAll();
  assert.deepEqual(v.bad, []);
  assert.equal(stats.entries_checked, 150);
  await shot('rocksdb-bloom.png');

  assert.equal(await open(path.join(DATA, 'partitioned', 'fv6_pfilter.sst')), null);
  assert.equal(await prop('rocksdb.num.entries'), '1200');
  const kinds = await page.textContent('#legend');
  assert.match(kinds, /index partition \(\d+\)/);
  assert.match(kinds, /filter partition \(\d+\)/);
  const p = await lookup('k00042');
  assert.equal(p.found, true);
  assert.match(p.steps[0], /filter partition @\d+\+\d+: may contain the key/);
  assert.match(p.steps[1], /top-level index → partition/);
  ({ v, stats } = await verifyAll());
  assert.deepEqual(v.bad, []);
  assert.equal(stats.entries_checked, 1200);
  await shot('rocksdb-partitioned.png');
});

const LEVELDB = path.join(OUT, 'leveldb.ldb');
// Without python3-plyvel (no table) the case is skipped on a developer machine; under CI=true it runs and fails.
const SKIP_LEVELDB = process.env.CI !== 'true' && !fs.existsSync(LEVELDB) && 'no python3-plyvel';
test('a table LevelDB wrote: Snappy blocks, its per-block filter in the lookup', { skip: SKIP_LEVELDB }, async () => {
  assert.equal(await open(LEVELDB), null);
  assert.match(await page.textContent('#facts'), /LevelDB \(legacy footer\)/);
  assert.match(await page.textContent('#facts'), /LevelDB filter block/);
  const hit = await lookup('ldb01234');
  assert.equal(hit.found, true);
  assert.match(hit.result, /ldb01234 → put at seq \d+: leveldb value 1234 leveldb value 1234 leveldb value 1234 /);
  assert.deepEqual(hit.steps.map((s) => s.split(':')[0]), ['filter', 'index', 'block', 'result']);
  assert.match(hit.steps[0], /LevelDB filter for the block @\d+: may contain the key/);
  assert.match(hit.steps[2], /Snappy/);
  assert.equal((await lookup('ldb99999')).found, false);
  const { v, stats } = await verifyAll();
  assert.deepEqual(v.bad, []);
  assert.equal(stats.entries_checked, 2000);
  await shot('leveldb.png');
});

test('a flipped byte marks its block corrupt on the map', async () => {
  const good = fs.readFileSync(path.join(OUT, 'ours.sst'));
  assert.equal(await open(path.join(OUT, 'ours.sst')), null);
  const blocks = await page.evaluate(() => window.sstInspector.map.blocks);
  const data = blocks.map((b, i) => [i, ...b]).filter((b) => b[1] === 0);
  const [victim, , offset, len] = data[Math.floor(data.length / 2)];
  const bad = Buffer.from(good);
  bad[offset + Math.floor(len / 2)] ^= 0x20;
  const file = path.join(OUT, 'corrupt.sst');
  fs.writeFileSync(file, bad);
  assert.equal(await open(file), null, 'a damaged data block does not stop the table from opening');
  const { v } = await verifyAll();
  assert.deepEqual(v.bad.map((b) => b[1]), [offset]);
  assert.equal(v.bad[0][0], victim);
  assert.match(v.bad[0][3], /checksum mismatch in data block at offset \d+/);
  assert.match(await page.textContent('#corrupt'), new RegExp(`data block #${victim} at offset ${offset}`));
  const states = await page.evaluate(() => window.sstInspector.map.blocks.map((b) => b[3]));
  assert.deepEqual(states.map((s, i) => [i, s]).filter(([, s]) => s === 2), [[victim, 2]]);
  // The map is drawn red where that block is.
  const red = await page.evaluate((offset) => {
    const c = document.getElementById('map');
    const rows = 8, perRow = window.sstInspector.summary.file_size / rows;
    const r = Math.floor(offset / perRow);
    const x = Math.floor((offset / perRow - r) * c.width);
    const [R, G, B] = c.getContext('2d').getImageData(x, Math.floor((r + 0.5) * c.height / rows), 1, 1).data;
    return [R, G, B];
  }, offset);
  assert.deepEqual(red, [255, 0, 0]);
  await shot('corrupt.png');
});

test('a table using a feature sstkit does not read shows Unsupported', async () => {
  // Our table with its footer's format_version field (the 4 bytes before the magic) set to 99: a version
  // newer than any sstkit reads.
  const bytes = Buffer.from(fs.readFileSync(path.join(OUT, 'ours.sst')));
  bytes.writeUInt32LE(99, bytes.length - 12);
  const file = path.join(OUT, 'unsupported.sst');
  fs.writeFileSync(file, bytes);
  const err = await open(file);
  assert.match(err, /Unsupported: /);
  await shot('unsupported.png');
});

test('the time to open a big table (SSTKIT_WEB_BIG)', { skip: !process.env.SSTKIT_WEB_BIG }, async () => {
  const file = process.env.SSTKIT_WEB_BIG;
  assert.equal(await open(file), null);
  const s = await page.evaluate(() => ({ ms: window.sstInspector.openMs, read: window.sstInspector.bytesRead,
    times: window.sstInspector.openTimes }));
  const parts = Object.entries(s.times).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ');
  console.log(`opened ${file} (${fs.statSync(file).size} bytes): ${s.ms.toFixed(0)} ms (${parts}), ${s.read} bytes read`);
  const hit = await lookup(process.env.SSTKIT_WEB_BIG_KEY || 'key000004242424');
  console.log(`lookup: ${hit.steps.join(' | ')}`);
  await shot('big.png');
  const { v, stats } = await verifyAll(1800000);
  console.log(`verify all: ${v.ms.toFixed(0)} ms, ${v.checked} blocks, ${stats.entries_checked} entries, ${v.bad.length} bad`);
});
