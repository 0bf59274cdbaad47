import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { type AgentRunnerApiError, AgentRunnerClient, AgentRunnerNotRunningError, EventStreamLostError, type EventStreamItem } from './AgentRunnerClient.js';

const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-client-'));
const tokenFile = path.join(dir, 'api-token');
writeFileSync(tokenFile, 'secret-token\n', { mode: 0o600 });

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;
const servers: http.Server[] = [];
after(() => {
	for (const s of servers) s.closeAllConnections?.() ?? s.close();
});

async function serve(handler: Handler, port = 0): Promise<{ server: http.Server; url: string; port: number }> {
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => handler(req, res, Buffer.concat(chunks)));
	});
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
	const actual = (server.address() as AddressInfo).port;
	return { server, url: `http://127.0.0.1:${actual}`, port: actual };
}

function close(server: http.Server): Promise<void> {
	server.closeAllConnections();
	return new Promise((resolve) => server.close(() => resolve()));
}

const sse = (id: number, type: string, data: unknown) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

async function collect(stream: AsyncIterable<EventStreamItem>): Promise<EventStreamItem[]> {
	const items: EventStreamItem[] = [];
	for await (const item of stream) items.push(item);
	return items;
}

test('submit: JSON without files, multipart with files; bearer token sent', async () => {
	const seen: Array<{ type: string; auth: string; form?: FormData; json?: unknown }> = [];
	const { url } = await serve(async (req, res, body) => {
		const type = String(req.headers['content-type']);
		const entry: (typeof seen)[number] = { type, auth: String(req.headers.authorization) };
		if (type.startsWith('multipart/')) entry.form = await new Response(body, { headers: { 'content-type': type } }).formData();
		else entry.json = JSON.parse(body.toString());
		seen.push(entry);
		res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `ex-${seen.length}`, status: 'queued' }));
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const agent = { name: 'a', instructions: 'b' };
	assert.deepEqual(await client.submit({ agent, input: 'hi' }), { id: 'ex-1', status: 'queued' });
	const file = path.join(dir, 'notes.txt');
	writeFileSync(file, 'some notes');
	assert.deepEqual(await client.submit({ agent, input: 'hi', files: [file] }), { id: 'ex-2', status: 'queued' });
	client.close();
	assert.equal(seen[0]!.auth, 'Bearer secret-token');
	assert.deepEqual(seen[0]!.json, { agent, input: 'hi' });
	assert.match(seen[1]!.type, /^multipart\/form-data; boundary=/);
	assert.deepEqual(JSON.parse(String(seen[1]!.form!.get('execution'))), { agent, input: 'hi' });
	const uploaded = seen[1]!.form!.get('files') as File;
	assert.equal(uploaded.name, 'notes.txt');
	assert.equal(await uploaded.text(), 'some notes');
});

test('401 names the token file; 404 and 409 keep the API message and status', async () => {
	const { url } = await serve((req, res) => {
		if (req.url?.startsWith('/v1/executions/gone')) res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no execution gone"}');
		else if (req.url?.endsWith('/cancel')) res.writeHead(409, { 'content-type': 'application/json' }).end('{"error":"execution x already ended: succeeded"}');
		else res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"missing or wrong bearer token"}');
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	await assert.rejects(client.list(), (error: AgentRunnerApiError) => error.statusCode === 401 && error.message.includes(tokenFile) && error.exitCode === 1);
	await assert.rejects(client.get('gone'), (error: AgentRunnerApiError) => error.statusCode === 404 && error.apiMessage === 'no execution gone');
	await assert.rejects(client.cancel('x'), (error: AgentRunnerApiError) => error.statusCode === 409 && /already ended/.test(error.apiMessage));
	client.close();
});

test('nothing listening: "agent-runner is not running", exit 1; a missing token file says the same', async () => {
	const { server, url } = await serve(() => undefined);
	await close(server);
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	await assert.rejects(
		client.list(),
		(error: Error & { exitCode: number }) =>
			error instanceof AgentRunnerNotRunningError && error.message === 'agent-runner is not running — start it with `stigmer server start`' && error.exitCode === 1,
	);
	const noToken = new AgentRunnerClient({ baseUrl: url, tokenFile: path.join(dir, 'absent') });
	await assert.rejects(noToken.list(), (error: AgentRunnerNotRunningError) => /no API token/.test(error.hint ?? ''));
	assert.equal(await client.ready(200), false);
});

test('events: a dropped stream reconnects with Last-Event-ID and misses nothing', async () => {
	const lastIds: Array<string | undefined> = [];
	let connections = 0;
	const { url } = await serve((req, res) => {
		connections++;
		lastIds.push(req.headers['last-event-id'] as string | undefined);
		res.writeHead(200, { 'content-type': 'text/event-stream' });
		if (connections === 1) {
			// split mid-event, then drop the connection
			res.write(`retry: 50\n\n${sse(1, 'status', { status: 'queued' })}${sse(2, 'status', { status: 'running' }).slice(0, 10)}`);
			setTimeout(() => res.write(`${sse(2, 'status', { status: 'running' }).slice(10)}: keep-alive\n\n`), 20);
			setTimeout(() => res.socket?.destroy(), 60);
		} else {
			res.end(sse(3, 'model_turn', { step: 1, text: 'hi\nthere' }) + sse(4, 'final', { answer: 'hi' }) + sse(5, 'status', { status: 'succeeded', result: 'hi' }));
		}
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const items = await collect(client.events('ex-1'));
	client.close();
	assert.deepEqual(lastIds, [undefined, '2']);
	const kinds = items.map((i) => (i.kind === 'event' ? `${i.event.id}:${i.event.type}` : i.kind));
	assert.deepEqual(kinds, ['1:status', '2:status', 'disconnected', 'reconnected', '3:model_turn', '4:final', '5:status']);
	const reconnected = items[3] as Extract<EventStreamItem, { kind: 'reconnected' }>;
	assert.equal(reconnected.after, 2);
	assert.deepEqual((items[4] as Extract<EventStreamItem, { kind: 'event' }>).event.data, { step: 1, text: 'hi\nthere' });
});

test('events: the runner restarting on the same port (connection refused meanwhile) is survived', async () => {
	let first = true;
	const handler: Handler = (req, res) => {
		res.writeHead(200, { 'content-type': 'text/event-stream' });
		if (first) {
			first = false;
			res.write(sse(1, 'status', { status: 'running' }));
			return; // stays open until the server goes down
		}
		assert.equal(req.headers['last-event-id'], '1');
		res.end(sse(2, 'status', { status: 'interrupted', error: 'the agent-runner stopped before this execution finished' }));
	};
	const { server, url, port } = await serve(handler);
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const stream = client.events('ex-1', { giveUpAfterMs: 10_000 });
	const items: EventStreamItem[] = [];
	const done = (async () => {
		for await (const item of stream) {
			items.push(item);
			if (items.length === 1) {
				await close(server);
				setTimeout(() => void serve(handler, port), 400);
			}
		}
	})();
	await done;
	client.close();
	const kinds = items.map((i) => (i.kind === 'event' ? String(i.event.data.status) : i.kind));
	assert.deepEqual(kinds, ['running', 'disconnected', 'reconnected', 'interrupted']);
});

test('events: gives up after giveUpAfterMs when the runner stays gone, never hangs', async () => {
	const { server, url } = await serve((_req, res) => {
		res.writeHead(200, { 'content-type': 'text/event-stream' });
		res.write(sse(1, 'status', { status: 'running' }));
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const started = Date.now();
	const items: EventStreamItem[] = [];
	await assert.rejects(
		(async () => {
			for await (const item of client.events('ex-9', { giveUpAfterMs: 600 })) {
				items.push(item);
				if (items.length === 1) await close(server);
			}
		})(),
		(error: EventStreamLostError) => error instanceof EventStreamLostError && /ex-9/.test(error.message) && /executions show ex-9/.test(error.hint ?? ''),
	);
	assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
	assert.equal(items[1]!.kind, 'disconnected');
	client.close();
});

test('events: a silent connection is dropped after the idle timeout and resumed', async () => {
	let connections = 0;
	const { url } = await serve((_req, res) => {
		connections++;
		res.writeHead(200, { 'content-type': 'text/event-stream' });
		if (connections === 1)
			res.write(sse(1, 'status', { status: 'running' })); // then silence
		else res.end(sse(2, 'status', { status: 'succeeded' }));
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const items = await collect(client.events('ex-1', { idleTimeoutMs: 200 }));
	client.close();
	assert.deepEqual(
		items.map((i) => i.kind),
		['event', 'disconnected', 'reconnected', 'event'],
	);
});

test('events: a stream that ends empty for an ended execution yields its status from GET', async () => {
	const { url } = await serve((req, res) => {
		if (req.url?.endsWith('/events')) return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end('retry: 2000\n\n');
		res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'ex-1', status: 'failed', error: 'boom', result: null, finished_at: '2026-01-01T00:00:00.000Z' }));
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const items = await collect(client.events('ex-1', { after: 7 }));
	client.close();
	assert.equal(items.length, 1);
	assert.deepEqual(items[0], { kind: 'event', event: { id: null, type: 'status', data: { status: 'failed', error: 'boom', time: '2026-01-01T00:00:00.000Z' } } });
});

test('events: 404 for an unknown execution is an error at once', async () => {
	const { url } = await serve((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no execution nope"}'));
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	await assert.rejects(collect(client.events('nope')), /no execution nope/);
	client.close();
});

const summary = (id: string, status: string) => ({ id, agent: 'a', status, steps: 0, tool: null, error: null, created_at: '2026-01-01T00:00:00.000Z', started_at: null, finished_at: null });

test('executionFeed: snapshot, live changes, a drop resumed after the last id, and why it is down', async () => {
	const lastIds: Array<string | undefined> = [];
	let connections = 0;
	let refuse401 = false;
	const { url } = await serve((req, res) => {
		connections++;
		lastIds.push(req.headers['last-event-id'] as string | undefined);
		if (refuse401) {
			res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"missing or wrong bearer token"}');
			return;
		}
		res.writeHead(200, { 'content-type': 'text/event-stream' });
		if (connections === 1) {
			res.write(`retry: 2000\n\nevent: reset\ndata: {"seq":4}\n\nevent: execution\ndata: ${JSON.stringify(summary('ex-1', 'succeeded'))}\n\n${sse(4, 'synced', { seq: 4 })}`);
			setTimeout(() => res.write(sse(6, 'execution', summary('ex-2', 'running'))), 20);
			setTimeout(() => res.socket?.destroy(), 60);
		} else {
			res.write(sse(9, 'execution', summary('ex-2', 'interrupted')));
			setTimeout(() => {
				refuse401 = true;
				res.socket?.destroy();
			}, 20);
		}
	});
	const client = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const controller = new AbortController();
	const seen: string[] = [];
	for await (const item of client.executionFeed({ signal: controller.signal, maxRetryMs: 50 })) {
		seen.push(item.kind === 'execution' ? `${item.summary.id}:${item.summary.status}` : item.kind === 'down' ? `down:${item.problem}` : item.kind);
		if (item.kind === 'down' && item.problem === 'unauthorized') controller.abort();
	}
	client.close();
	assert.deepEqual(lastIds.slice(0, 2), [undefined, '6'], 'resumed after the last id');
	assert.deepEqual(seen.slice(0, 7), ['live', 'reset', 'ex-1:succeeded', 'synced', 'ex-2:running', 'down:unreachable', 'live']);
	assert.deepEqual(seen.slice(7), ['ex-2:interrupted', 'down:unreachable', 'down:unauthorized'], 'each problem reported once, not once per attempt');
});

test('executionFeed: no token file yet is its own reason; nothing listening is unreachable', async () => {
	const missing = new AgentRunnerClient({ baseUrl: 'http://127.0.0.1:9', tokenFile: path.join(dir, 'nope') });
	const controller = new AbortController();
	for await (const item of missing.executionFeed({ signal: controller.signal, maxRetryMs: 20 })) {
		assert.equal(item.kind, 'down');
		assert.equal((item as { problem: string }).problem, 'no-token');
		assert.match((item as { message: string }).message, /the first `stigmer server start` creates it/);
		controller.abort();
	}
	const { server, url } = await serve(() => {});
	await close(server);
	const gone = new AgentRunnerClient({ baseUrl: url, tokenFile });
	const again = new AbortController();
	for await (const item of gone.executionFeed({ signal: again.signal, maxRetryMs: 20 })) {
		assert.deepEqual([item.kind, (item as { problem: string }).problem], ['down', 'unreachable']);
		again.abort();
	}
	gone.close();
});
