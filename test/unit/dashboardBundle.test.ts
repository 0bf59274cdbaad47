// What the built dashboard loads (docs/architecture.md, "Memory"): importing dist/dashboard.bundle.js
// (React, Ink, Yoga instantiated, the backends) and dist/vendor/dockerode.cjs loads none of undici, tls,
// http2 or zlib, which a bare Node 24 process paid ≈16 MB of RSS for; and dockerode still reaches
// https when an engine asks for it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/cli.ts';

const bundle = path.join(repoRoot, 'dist', 'dashboard.bundle.js');
const dockerode = path.join(repoRoot, 'dist', 'vendor', 'dockerode.cjs');
const unbuilt = !existsSync(bundle) && 'no dist/dashboard.bundle.js (built with tsc alone; `npm run build` makes it)';

/** Runs `script` as an ES module in a fresh Node; its stdout as JSON. */
function inFreshNode(script: string): any {
	return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_ENV: 'production' } }));
}

const heavy = /^NativeModule (internal\/deps\/undici\/undici|tls|http2|zlib|https)$/;

test('the dashboard bundle and dockerode load no undici, tls, http2 or zlib', { skip: unbuilt }, () => {
	const loaded: string[] = inFreshNode(`
		const modules = await import(${JSON.stringify(bundle)});
		if (typeof modules.runDashboard !== 'function' || typeof modules.createRealBackend !== 'function') throw new Error('the bundle lacks its exports');
		const { createRequire } = await import('node:module');
		createRequire(import.meta.url)(${JSON.stringify(dockerode)});
		console.log(JSON.stringify(process.moduleLoadList));`);
	assert.ok(loaded.includes('NativeModule http'), 'the probe sees the modules loaded (http is)');
	assert.deepEqual(
		loaded.filter((m) => heavy.test(m)),
		[],
	);
});

test("dockerode's https, loaded on first use, still serves a tls:// engine", { skip: unbuilt }, () => {
	const result = inFreshNode(`
		const { createRequire } = await import('node:module');
		const Docker = createRequire(import.meta.url)(${JSON.stringify(dockerode)});
		const before = process.moduleLoadList.includes('NativeModule https');
		const server = (await import('node:net')).createServer((socket) => socket.destroy()).listen(0, '127.0.0.1');
		await new Promise((resolve) => server.once('listening', resolve));
		const docker = new Docker({ protocol: 'https', host: '127.0.0.1', port: server.address().port, ca: 'x', timeout: 10000 });
		const error = await docker.ping().then(() => null, (e) => e);
		server.close();
		console.log(JSON.stringify({ before, after: process.moduleLoadList.includes('NativeModule https'), code: error?.code ?? String(error) }));`);
	assert.equal(result.before, false, 'https is not loaded with dockerode');
	assert.equal(result.after, true, 'https is loaded when a request goes to a tls:// engine');
	assert.equal(result.code, 'ECONNRESET', 'the request reached the socket through https (the server hung up during the handshake)');
});

test('the dashboard bundle is ASCII: V8 keeps it as one byte a character', { skip: unbuilt }, () => {
	// one character above U+00FF (a dash in a regular expression, which esbuild does not escape there as
	// it does in strings) made V8 keep the whole 660 kB source as UTF-16, 1.3 MB of the heap
	const text = readFileSync(bundle, 'latin1');
	const at = text.search(/[^\x00-\x7f]/);
	assert.equal(at, -1, `a non-ASCII byte at ${at}: …${text.slice(Math.max(0, at - 60), at + 20)}… (write it as \\uXXXX in the source)`);
});

test("every Intl.Segmenter in the dashboard bundle is ui/graphemeSegmenter.ts's, which loads ICU only when asked", { skip: unbuilt }, () => {
	// Ink's modules construct seven at load; the first real one initialises ICU's break iterators (2.7 MB)
	const text = readFileSync(bundle, 'latin1');
	assert.equal(text.match(/Intl\.Segmenter/g)?.length, 1, 'one Intl.Segmenter left in the bundle');
	assert.equal(text.match(/globalThis\.Intl\.Segmenter/g)?.length, 1, "and it is graphemeSegmenter.ts's own, ICU's behind it");
});
