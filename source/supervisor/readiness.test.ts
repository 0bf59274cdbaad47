import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { httpStatus, loopbackHttp, probeHttp } from './readiness.ts';

let server: http.Server;
let port: number;
const seen: Array<{ url: string; host: string | undefined }> = [];

before(async () => {
	server = http.createServer((request, response) => {
		seen.push({ url: request.url ?? '', host: request.headers.host });
		if (request.url === '/readyz') response.writeHead(200).end('ok');
		else if (request.url === '/down?why=1') response.writeHead(503).end('not yet');
		else if (request.url === '/chunked') {
			response.writeHead(204);
			response.end();
		} else response.writeHead(404).end();
	});
	server.listen(0, '127.0.0.1');
	await once(server, 'listening');
	port = (server.address() as net.AddressInfo).port;
});
after(() => server.close());

test('a plain-http URL of this machine is probed on a socket; any other through node:http', () => {
	assert.deepEqual(loopbackHttp('http://127.0.0.1:7480/readyz'), { host: '127.0.0.1', port: 7480, path: '/readyz', hostHeader: '127.0.0.1:7480' });
	assert.deepEqual(loopbackHttp('http://localhost/a?b=1'), { host: 'localhost', port: 80, path: '/a?b=1', hostHeader: 'localhost' });
	assert.deepEqual(loopbackHttp('http://[::1]:9/'), { host: '::1', port: 9, path: '/', hostHeader: '[::1]:9' });
	assert.equal(loopbackHttp('http://127.1.2.3:1/x')?.host, '127.1.2.3');
	for (const other of ['https://127.0.0.1:7480/readyz', 'http://192.168.1.5:11434/v1/models', 'http://example.com/', 'http://user:pw@127.0.0.1:1/', 'not a url']) {
		assert.equal(loopbackHttp(other), null, other);
	}
});

test('the socket probe answers what node:http answers: the status code, the path and query sent, the Host header', async () => {
	for (const [path, status] of [
		['/readyz', 200],
		['/down?why=1', 503],
		['/missing', 404],
		['/chunked', 204],
	] as const) {
		const url = `http://127.0.0.1:${port}${path}`;
		seen.length = 0;
		assert.equal(await httpStatus(url), status, url);
		assert.deepEqual(seen, [{ url: path, host: `127.0.0.1:${port}` }]);
		const viaHttp = await new Promise<number | undefined>((resolve, reject) =>
			http
				.get(url, { agent: false }, (response) => {
					response.resume();
					resolve(response.statusCode);
				})
				.once('error', reject),
		);
		assert.equal(viaHttp, status, `node:http's answer for ${url}`);
	}
	assert.equal(await probeHttp(`http://127.0.0.1:${port}/readyz`), true);
	assert.equal(await probeHttp(`http://127.0.0.1:${port}/down?why=1`), false);
});

test('a probe of this machine loads no node:http (a process of its own: this one has the server)', async () => {
	const script = `const { probeHttp } = await import(${JSON.stringify(new URL('./readiness.ts', import.meta.url).href)});
		const ok = await probeHttp('http://127.0.0.1:${port}/readyz');
		console.log(JSON.stringify({ ok, http: process.moduleLoadList.filter((m) => /_http_/.test(m)) }));`;
	const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
	const out = JSON.parse(stdout);
	assert.deepEqual(out, { ok: true, http: [] });
});

test('nothing listening, a server that never answers, and one that speaks no HTTP: null', async () => {
	const closed = net.createServer();
	closed.listen(0, '127.0.0.1');
	await once(closed, 'listening');
	const closedPort = (closed.address() as net.AddressInfo).port;
	closed.close();
	await once(closed, 'close');
	assert.equal(await httpStatus(`http://127.0.0.1:${closedPort}/readyz`), null);

	const sockets: net.Socket[] = [];
	const silent = net.createServer((socket) => sockets.push(socket));
	const garbage = net.createServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n'));
	for (const s of [silent, garbage]) {
		s.listen(0, '127.0.0.1');
		await once(s, 'listening');
	}
	try {
		assert.equal(await httpStatus(`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/readyz`, 200), null);
		assert.equal(await httpStatus(`http://127.0.0.1:${(garbage.address() as net.AddressInfo).port}/readyz`), null);
	} finally {
		for (const socket of sockets) socket.destroy();
		silent.close();
		garbage.close();
	}
});
