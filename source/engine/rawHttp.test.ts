// The engine's plain-HTTP GET (rawHttp.ts) and DockerApi's GETs on it, against a real HTTP server on a
// unix socket standing for the engine: both wires (a fresh HTTP/1.0 connection, an agent's kept
// HTTP/1.1 ones) give the same answer; the engine's refusal keeps dockerode's error shape, and an answer
// that is not JSON says so.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DockerApi, engineMessage, engineStatus } from './DockerApi.ts';
import { timedOut } from './engineUnreachable.ts';
import { parseHeaders, rawGet, rawGetBody, readAll } from './rawHttp.ts';

async function withServer(handler: http.RequestListener, run: (api: DockerApi, paths: string[], socketPath: string) => Promise<void>): Promise<void> {
	const socketPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'stigmer-engine-request-')), 'engine.sock');
	const paths: string[] = [];
	const server = http.createServer((req, res) => {
		paths.push(req.url ?? '');
		handler(req, res);
	});
	await new Promise<void>((resolve) => server.listen(socketPath, resolve));
	const api = new DockerApi({ kind: 'unix', socketPath, source: 'test' });
	api.apiVersion = '1.41';
	try {
		await run(api, paths, socketPath);
	} finally {
		api.close();
		await new Promise((resolve) => server.close(resolve));
	}
}

test('getJson: the versioned path with the query as the engine reads it, the JSON answer', async () => {
	await withServer(
		(_req, res) => res.end('[{"Id":"abc"}]'),
		async (api, paths) => {
			assert.deepEqual(await api.getJson('/containers/json', { all: true, filters: { label: ['a=b'] }, skipped: undefined }), [{ Id: 'abc' }]);
			assert.deepEqual(paths, [`/v1.41/containers/json?all=true&filters=${encodeURIComponent('{"label":["a=b"]}')}`]);
		},
	);
});

test("getJson: a refusal carries the engine's status and words; an answer that is not JSON names the engine", async () => {
	await withServer(
		(req, res) => {
			if (req.url?.includes('missing')) {
				res.statusCode = 404;
				res.end('{"message":"No such container: missing"}');
			} else res.end('<html>a web server</html>');
		},
		async (api) => {
			await assert.rejects(api.getJson('/containers/missing/json'), (error: unknown) => {
				assert.equal(engineStatus(error), 404);
				assert.equal(engineMessage(error), 'No such container: missing');
				return true;
			});
			await assert.rejects(api.getJson('/containers/json'), /the engine at unix:\/\/\S+ answered GET \/containers\/json with something other than JSON: "<html>a web server<\/html>"/);
		},
	);
});

test("rawGet: a fresh HTTP/1.0 connection and an agent's kept HTTP/1.1 ones give the same status, headers and body", async () => {
	const body = JSON.stringify({ lines: Array.from({ length: 2000 }, (_, i) => `line ${i}`) });
	await withServer(
		(req, res) => {
			res.setHeader('Api-Version', '1.41');
			res.setHeader('Server', 'Docker/20.10.24 (linux)');
			res.statusCode = req.url === '/missing' ? 404 : 200;
			// written in pieces: HTTP/1.1 gets it chunked, HTTP/1.0 unchunked until the connection closes
			for (let i = 0; i < body.length; i += 1000) res.write(body.slice(i, i + 1000));
			res.end();
		},
		async (_api, _paths, socketPath) => {
			const endpoint = { kind: 'unix' as const, socketPath, source: 'test' };
			const agent = new http.Agent({ keepAlive: true });
			try {
				for (const options of [{}, { agent }, { agent }]) {
					const answer = await rawGet(endpoint, '/_ping', options);
					assert.equal(answer.status, 200);
					assert.equal(answer.headers['api-version'], '1.41');
					assert.equal(answer.headers.server, 'Docker/20.10.24 (linux)');
					assert.equal((await readAll(answer.body)).toString('utf8'), body);
				}
				// the agent kept its connection for the next GET
				assert.equal(Object.values(agent.freeSockets).flat().length, 1);
				for (const options of [{}, { agent }]) {
					await assert.rejects(rawGetBody(endpoint, '/missing', options), (error: unknown) => engineStatus(error) === 404);
				}
			} finally {
				agent.destroy();
			}
		},
	);
});

test('rawGet: the header time limit and an abort end a GET that gets no answer, on both wires', async () => {
	await withServer(
		() => {
			// never answers
		},
		async (_api, _paths, socketPath) => {
			const endpoint = { kind: 'unix' as const, socketPath, source: 'test' };
			const agent = new http.Agent({ keepAlive: true });
			try {
				for (const options of [{}, { agent }]) {
					await assert.rejects(rawGet(endpoint, '/_ping', { ...options, headerTimeoutMs: 50 }), /no answer from the engine within 50 ms/);
					// a time limit's abort says it timed out (DockerApi.negotiate then waits longer for a busy engine)
					await assert.rejects(rawGet(endpoint, '/_ping', { ...options, signal: AbortSignal.timeout(50) }), (error: Error) => error.name === 'AbortError' && timedOut(error));
				}
			} finally {
				agent.destroy();
			}
		},
	);
});

test('parseHeaders: names in lower case, values trimmed, a repeated header joined', () => {
	assert.deepEqual(parseHeaders('HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nServer:Docker/20.10 (linux)\r\nX-A: 1\r\nx-a: 2'), {
		'api-version': '1.41',
		server: 'Docker/20.10 (linux)',
		'x-a': '1, 2',
	});
});
