// One attempt of a `ready` probe of config.yaml. The service polls these while it is `starting`.
import type { ClientRequest } from 'node:http';
import net from 'node:net';
import { nodeHttp, nodeHttps } from '../lazyBuiltins.js';

// node:http and node:https on first use (lazyBuiltins.ts), when a probe runs: an ESM import of
// node:http reads every export, and its lazy WebSocket/MessageEvent getters load undici (≈23 ms on
// every `server status`).
// A plain-http probe of this machine (the agent-runner's /readyz that `server status` asks, a native's
// `ready: { http }`) needs neither: one HTTP/1.0 GET on a socket, read to its status line, spares
// loading node:http (≈8 ms of `server status` with a running container).

const attemptTimeoutMs = 2000;

/** Resolves true when 127.0.0.1:port accepts a TCP connection. */
export function probeTcp(port: number, host = '127.0.0.1'): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = net.connect({ host, port });
		const done = (ok: boolean) => {
			socket.destroy();
			resolve(ok);
		};
		socket.setTimeout(attemptTimeoutMs, () => done(false));
		socket.once('connect', () => done(true));
		socket.once('error', () => done(false));
	});
}

/** The status code a GET of `url` answers with, or null when nothing answers within the timeout. */
export function httpStatus(url: string, timeoutMs = attemptTimeoutMs): Promise<number | null> {
	const loopback = loopbackHttp(url);
	if (loopback) return plainStatus(loopback, timeoutMs);
	return new Promise((resolve) => {
		let request: ClientRequest;
		try {
			const get = url.startsWith('https:') ? nodeHttps().get : nodeHttp().get;
			request = get(url, { timeout: timeoutMs, agent: false }, (response) => {
				response.resume();
				resolve(response.statusCode ?? null);
			});
		} catch {
			resolve(null);
			return;
		}
		request.once('timeout', () => request.destroy());
		request.once('error', () => resolve(null));
	});
}

/** Where a plain-http `url` of this machine (127.0.0.0/8, ::1, localhost) points; null for any other. */
export function loopbackHttp(url: string): { host: string; port: number; path: string; hostHeader: string } | null {
	let parsed: URL;
	try {
		parsed = new URL(url);
	} catch {
		return null;
	}
	// credentials in the URL: node:http sends them (an Authorization header), this path does not
	if (parsed.protocol !== 'http:' || parsed.username || parsed.password) return null;
	const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
	if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) && host !== '::1' && host !== 'localhost') return null;
	return { host, port: Number(parsed.port || 80), path: `${parsed.pathname}${parsed.search}`, hostHeader: parsed.host };
}

/** The status line's code of one HTTP/1.0 GET (the server closes the connection after it), or null. */
function plainStatus(to: { host: string; port: number; path: string; hostHeader: string }, timeoutMs: number): Promise<number | null> {
	return new Promise((resolve) => {
		const socket = net.connect({ host: to.host, port: to.port });
		let head = '';
		const done = (status: number | null) => {
			socket.destroy();
			resolve(status);
		};
		socket.setTimeout(timeoutMs, () => done(null));
		socket.once('error', () => done(null));
		socket.once('close', () => done(null));
		socket.once('connect', () => socket.write(`GET ${to.path} HTTP/1.0\r\nHost: ${to.hostHeader}\r\nConnection: close\r\n\r\n`));
		socket.on('data', (chunk: Buffer) => {
			head += chunk.toString('latin1');
			const end = head.indexOf('\r\n');
			if (end < 0 && head.length < 8192) return;
			const status = /^HTTP\/\d\.\d (\d{3})(?: |$)/.exec(end < 0 ? head : head.slice(0, end));
			done(status ? Number(status[1]) : null);
		});
	});
}

/** Resolves true when a GET of `url` answers 2xx. */
export async function probeHttp(url: string, timeoutMs = attemptTimeoutMs): Promise<boolean> {
	const status = await httpStatus(url, timeoutMs);
	return status !== null && status >= 200 && status < 300;
}
