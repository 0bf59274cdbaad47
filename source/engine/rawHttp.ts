// The engine's plain-HTTP GET, below dockerode: every GET stigmer makes without dockerode goes here
// (`server status`'s negotiation and queries through DockerApi.getJson, the logs fast path, Podman's
// events). Two wires, one answer (status, headers, a body stream):
// - no agent: HTTP/1.0 on a fresh connection. The engine then sends the body unchunked, so a log of many
//   small messages arrives in large reads instead of one HTTP chunk per message (Node's HTTP parser
//   would cost more than the logs themselves), and nothing here loads node:http (≈7 ms of a short
//   command's start-up) or dockerode. A unix socket's connection costs a syscall, so DockerApi sends its
//   small GETs there this way too.
// - an agent (DockerApi's keep-alive agent, for tcp, TLS and ssh, where a connection costs a handshake or
//   an ssh session): HTTP/1.1 through node:http on that agent's kept connections.
// Same endpoint as DockerApi, dialed the same way on every kind (engineDialer.ts: unix, tcp, TLS, ssh).
import type { Agent } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import type { Endpoint } from './endpoint.js';
import { engineDialer } from './engineDialer.js';
import { nodeHttp, nodeHttps } from '../lazyBuiltins.js';

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

/** Response headers by lower-case name (a repeated header's values joined by ", "). */
export type RawHeaders = Record<string, string | undefined>;

export interface RawResponse {
	status: number;
	headers: RawHeaders;
	body: Readable;
}

export interface RawGetOptions {
	signal?: AbortSignal;
	/** the time allowed until the headers are in (the body may take as long as it takes) */
	headerTimeoutMs?: number;
	/** a keep-alive agent whose connections are this endpoint's (DockerApi's); none: a fresh connection, HTTP/1.0 */
	agent?: Agent;
}

/** Resolves once the status line and headers are in; the body streams after. `path` is versioned already (versionedPath). */
export async function rawGet(endpoint: Endpoint, path: string, options: RawGetOptions = {}): Promise<RawResponse> {
	options.signal?.throwIfAborted();
	if (options.agent) return agentGet(endpoint, options.agent, path, options);
	const socket = (await engineDialer(endpoint).dial()) as import('node:net').Socket;
	// as node:http's: an AbortError whose cause is the signal's reason (a TimeoutError for AbortSignal.timeout)
	const abort = () => socket.destroy(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR', cause: signal?.reason }));
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
			const statusAndHeaders = head.toString('latin1', 0, end);
			const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusAndHeaders)?.[1] ?? 0);
			const headers = parseHeaders(statusAndHeaders);
			if (status === 0 || /chunked/i.test(headers['transfer-encoding'] ?? '')) {
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

/** The header block after the status line, by lower-case name. */
export function parseHeaders(block: string): RawHeaders {
	const headers: RawHeaders = {};
	for (const line of block.split('\r\n').slice(1)) {
		const colon = line.indexOf(':');
		if (colon <= 0) continue;
		const name = line.slice(0, colon).trim().toLowerCase();
		const value = line.slice(colon + 1).trim();
		headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
	}
	return headers;
}

/** HTTP/1.1 through node:http on the agent's connections (the endpoint's kind says where: its socket, host and TLS). */
function agentGet(endpoint: Endpoint, agent: Agent, path: string, options: RawGetOptions): Promise<RawResponse> {
	const tls = endpoint.kind === 'tcp' ? endpoint.tls : null;
	const http = tls ? nodeHttps() : nodeHttp();
	const where =
		endpoint.kind === 'unix'
			? { socketPath: endpoint.socketPath }
			: endpoint.kind === 'ssh'
				? { host: 'docker' } // the agent dials ssh (DockerApi's agentFor)
				: { host: endpoint.host, port: endpoint.port, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify } : {}) };
	return new Promise((resolve, reject) => {
		const request = http.request({ ...where, path, method: 'GET', agent, signal: options.signal }, (response) => {
			request.setTimeout(0);
			const headers: RawHeaders = {};
			for (const [name, value] of Object.entries(response.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
			resolve({ status: response.statusCode ?? 0, headers, body: response });
		});
		if (options.headerTimeoutMs) {
			const ms = options.headerTimeoutMs;
			request.setTimeout(ms, () => request.destroy(Object.assign(new Error(`no answer from the engine within ${ms} ms`), { code: 'ETIMEDOUT' })));
		}
		request.on('error', reject);
		request.end();
	});
}

/** A GET's whole body when the engine answered 2xx; its refusal as an error with `statusCode` and the engine's words otherwise. */
export async function rawGetBody(endpoint: Endpoint, path: string, options: RawGetOptions = {}): Promise<Buffer> {
	const response = await rawGet(endpoint, path, options);
	const body = await readAll(response.body);
	if (response.status < 200 || response.status > 299) throw rawError(response.status, body);
	return body;
}
