// resumableSse against a real HTTP server on 127.0.0.1 (node:http): reconnects spaced by a growing
// backoff when the server accepts and closes at once, resume with Last-Event-ID without a loss or a
// repeat, `retry:` honoured, abort. Delays are read from an injected sleep, never from a stopwatch.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { type ResumableSseOptions, type SseItem, resumableSse, sleep } from './resumableSse.js';

const servers: http.Server[] = [];
after(() => {
	for (const server of servers) {
		server.closeAllConnections();
		server.close();
	}
});

interface Served {
	/** the Last-Event-ID of every request, null when it sent none */
	requests: (string | null)[];
	connect: ResumableSseOptions['connect'];
}

async function serve(handler: (res: http.ServerResponse, lastEventId: string | null, n: number) => void): Promise<Served> {
	const requests: (string | null)[] = [];
	const server = http.createServer((req, res) => {
		const header = req.headers['last-event-id'];
		const lastEventId = typeof header === 'string' ? header : null;
		requests.push(lastEventId);
		res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
		handler(res, lastEventId, requests.length);
	});
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	const connect: ResumableSseOptions['connect'] = (lastEventId, signal) =>
		new Promise((resolve, reject) => {
			const headers: Record<string, string> = { Accept: 'text/event-stream' };
			if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
			const req = http.get({ host: '127.0.0.1', port, path: '/events', headers, agent: false, signal }, (res) => {
				if (res.statusCode === 200) resolve(res);
				else {
					res.resume();
					reject(new Error(`HTTP ${res.statusCode}`));
				}
			});
			req.on('error', reject);
		});
	return { requests, connect };
}

/** A sleep that only records what it was asked to wait (the clock of these tests). */
function recordingSleep(): { delays: number[]; sleep: ResumableSseOptions['sleep'] } {
	const delays: number[] = [];
	return { delays, sleep: async (ms) => void delays.push(ms) };
}

async function take(stream: AsyncGenerator<SseItem>, stop: (item: SseItem, items: SseItem[]) => boolean): Promise<SseItem[]> {
	const items: SseItem[] = [];
	for await (const item of stream) {
		items.push(item);
		if (stop(item, items)) break;
	}
	return items;
}

const closes = (items: SseItem[]) => items.filter((item) => item.kind === 'closed').length;

test('a server that accepts and closes at once: every reconnect waits, 100 ms doubling up to the cap', async () => {
	const server = await serve((res) => res.end());
	const clock = recordingSleep();
	const items = await take(resumableSse({ connect: server.connect, sleep: clock.sleep }), (_, all) => closes(all) === 8);
	assert.equal(server.requests.length, 8);
	assert.deepEqual(clock.delays, [100, 200, 400, 800, 1600, 2000, 2000]);
	assert.deepEqual(
		items.filter((item) => item.kind === 'closed'),
		Array.from({ length: 8 }, () => ({ kind: 'closed', error: null, messages: 0 })),
	);
});

test('a server that sends its picture and closes at once: data alone does not reset the backoff', async () => {
	const server = await serve((res) => res.end('event: reset\ndata: {}\n\nevent: synced\ndata: {}\n\n'));
	const clock = recordingSleep();
	const items = await take(resumableSse({ connect: server.connect, sleep: clock.sleep, maxDelayMs: 1000 }), (_, all) => closes(all) === 6);
	assert.deepEqual(clock.delays, [100, 200, 400, 800, 1000]);
	assert.equal(items.filter((item) => item.kind === 'message').length, 12);
});

test('with the real clock, a server that closes at once is reconnected to a few times a second, not in a loop', async () => {
	const server = await serve((res) => res.end());
	const signal = AbortSignal.timeout(1000);
	for await (const _ of resumableSse({ connect: server.connect, signal })) {
		// the waits of 100, 200, 400, 800 ms leave room for at most 4 connections in the first second
	}
	assert.ok(server.requests.length >= 1 && server.requests.length <= 5, `${server.requests.length} connections in 1 s`);
});

test('a connection that stayed up healthyAfterMs starts the backoff over', async () => {
	const server = await serve((res) => res.end());
	const clock = recordingSleep();
	let now = 0;
	let opened = 0;
	await take(resumableSse({ connect: server.connect, sleep: clock.sleep, now: () => now, healthyAfterMs: 5000 }), (item, all) => {
		// the 4th connection lasts 10 s by this clock
		if (item.kind === 'open' && ++opened === 4) now += 10_000;
		return closes(all) === 6;
	});
	assert.deepEqual(clock.delays, [100, 200, 400, 100, 200]);
});

test("the server's retry: caps the backoff", async () => {
	const server = await serve((res) => res.end('retry: 300\n\n'));
	const clock = recordingSleep();
	await take(resumableSse({ connect: server.connect, sleep: clock.sleep }), (_, all) => closes(all) === 5);
	assert.deepEqual(clock.delays, [100, 200, 300, 300]);
});

test('after each drop it resumes with Last-Event-ID: every event once, none lost', async () => {
	// 10 events; each connection sends the next 3 after Last-Event-ID, then the socket is destroyed mid-stream
	const server = await serve((res, lastEventId) => {
		const from = lastEventId === null ? 1 : Number(lastEventId) + 1;
		const ids = [from, from + 1, from + 2].filter((id) => id <= 10);
		res.write(ids.map((id) => `id: ${id}\nevent: step\ndata: {"n":${id}}\n\n`).join(''));
		// half an event, then the drop: never delivered, so never skipped
		res.write(`id: ${from + 3}\nevent: step\ndata: {"n":`, () => res.destroy());
	});
	const clock = recordingSleep();
	const items = await take(resumableSse({ connect: server.connect, sleep: clock.sleep, lastEventId: null }), (item) => item.kind === 'message' && item.message.id === '10');
	const ids = items.flatMap((item) => (item.kind === 'message' ? [Number(item.message.id)] : []));
	assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
	assert.deepEqual(server.requests, [null, '3', '6', '9']);
	assert.deepEqual(
		items.filter((item) => item.kind === 'open').map((item) => (item.kind === 'open' ? item.lastEventId : undefined)),
		[null, '3', '6', '9'],
	);
});

test('abort: while waiting to reconnect, and while connected, ends the stream and connects no more', async () => {
	const closing = await serve((res) => res.end());
	const controller = new AbortController();
	const items: SseItem[] = [];
	for await (const item of resumableSse({
		connect: closing.connect,
		signal: controller.signal,
		sleep: (ms, signal) => {
			// after the second connection, abort while the wait is under way
			if (closes(items) === 2) controller.abort();
			return sleep(ms, signal);
		},
	})) {
		items.push(item);
	}
	assert.equal(closing.requests.length, 2);

	let held: http.ServerResponse | undefined;
	const open = await serve((res) => {
		held = res;
		res.write(': keep-alive\n\n');
	});
	const connected = new AbortController();
	const seen: SseItem['kind'][] = [];
	for await (const item of resumableSse({ connect: open.connect, signal: connected.signal })) {
		seen.push(item.kind);
		if (item.kind === 'open') connected.abort();
	}
	assert.deepEqual(seen, ['open']);
	assert.equal(open.requests.length, 1);
	await new Promise<void>((resolve) => (held!.destroyed || held!.writableEnded ? resolve() : held!.on('close', () => resolve())));
});
