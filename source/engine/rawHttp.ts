// The engine's wire for bulk log reads, below dockerode: a GET over HTTP/1.0 on a fresh connection.
// The engine then sends the body unchunked, so a log of many small messages arrives in large reads
// instead of one HTTP chunk per message (Node's HTTP parser would cost more than the logs themselves),
// and nothing here loads node:http or dockerode, which keeps `server logs -n` fast. Same endpoint as
// DockerApi, dialed the same way on every kind (engineDialer.ts: unix, tcp, TLS, ssh), at the
// negotiated API version (apiVersion.ts).
import { PassThrough, type Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';
import { engineDialer } from './engineDialer.js';

/** `/v1.xx/path?query`: objects in the query are JSON (filters), undefined values left out. */
export function versionedPath(apiVersion: string, p: string, query?: Record<string, string | number | boolean | undefined | object>): string {
	let full = `/v${apiVersion}${p}`;
	if (query) {
		const params = new URLSearchParams();
		for (const [k, v] of Object.entries(query)) {
			if (v === undefined) continue;
			params.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
		}
		const qs = params.toString();
		if (qs) full += `?${qs}`;
	}
	return full;
}

/** An engine error answer: `statusCode` as dockerode's errors have it, the engine's message. */
export function rawError(status: number, body: Buffer): Error & { statusCode: number } {
	const text = body.toString('utf8').trim();
	let message = text || `HTTP ${status}`;
	try {
		const parsed = JSON.parse(text) as { message?: string };
		if (parsed.message) message = parsed.message;
	} catch {
		// not JSON: the text
	}
	return Object.assign(new Error(message), { statusCode: status });
}

export async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of stream) chunks.push(chunk);
	return Buffer.concat(chunks);
}

export interface RawResponse {
	status: number;
	headers: string;
	body: Readable;
}

/** Resolves once the status line and headers are in; the body streams after. */
export async function rawGet(endpoint: Endpoint, path: string, options: { signal?: AbortSignal; headerTimeoutMs?: number } = {}): Promise<RawResponse> {
	options.signal?.throwIfAborted();
	const socket = (await engineDialer(endpoint).dial()) as import('node:net').Socket;
	const abort = () => socket.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' }));
	const { signal } = options;
	if (signal?.aborted) abort();
	signal?.addEventListener('abort', abort, { once: true });
	socket.on('close', () => signal?.removeEventListener('abort', abort));
	if (options.headerTimeoutMs) {
		const ms = options.headerTimeoutMs;
		socket.setTimeout(ms, () => socket.destroy(Object.assign(new Error(`no answer from the engine within ${ms} ms`), { code: 'ETIMEDOUT' })));
	}
	socket.write(`GET ${path} HTTP/1.0\r\nHost: docker\r\n\r\n`);
	return new Promise((resolve, reject) => {
		let head: Buffer = Buffer.alloc(0);
		const onData = (chunk: Buffer) => {
			head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
			const end = head.indexOf('\r\n\r\n');
			if (end < 0) return;
			socket.off('data', onData);
			socket.off('error', reject);
			socket.off('close', onEarlyClose);
			socket.setTimeout(0);
			socket.pause();
			const headers = head.toString('latin1', 0, end);
			const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(headers)?.[1] ?? 0);
			if (status === 0 || /^transfer-encoding:\s*chunked/im.test(headers)) {
				socket.destroy();
				reject(new Error('unexpected response from the engine'));
				return;
			}
			const body = new PassThrough({ highWaterMark: 1024 * 1024 });
			socket.on('error', (error) => body.destroy(error));
			const rest = head.subarray(end + 4);
			if (rest.length > 0) body.write(rest);
			socket.pipe(body);
			resolve({ status, headers, body });
		};
		const onEarlyClose = () => reject(new Error('the engine closed the connection'));
		socket.on('data', onData);
		socket.once('error', reject);
		socket.once('close', onEarlyClose);
	});
}
