// DockerApi's own GETs (engineRequest.ts) against a real HTTP server on a unix socket standing for the
// engine: the engine's refusal keeps dockerode's error shape, and an answer that is not JSON says so.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DockerApi, engineMessage, engineStatus } from './DockerApi.ts';

async function withServer(handler: http.RequestListener, run: (api: DockerApi, paths: string[]) => Promise<void>): Promise<void> {
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
		await run(api, paths);
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
