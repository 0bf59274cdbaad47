// One attempt of a `ready` probe of config.yaml. The service polls these while it is `starting`.
import type { ClientRequest } from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';

// node:http and node:https through require, when a probe runs: an ESM import of node:http reads every
// export, and its lazy WebSocket/MessageEvent getters load undici (≈23 ms on every `server status`).
const require = createRequire(import.meta.url);

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
	return new Promise((resolve) => {
		let request: ClientRequest;
		try {
			const get = url.startsWith('https:') ? (require('node:https') as typeof import('node:https')).get : (require('node:http') as typeof import('node:http')).get;
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

/** Resolves true when a GET of `url` answers 2xx. */
export async function probeHttp(url: string, timeoutMs = attemptTimeoutMs): Promise<boolean> {
	const status = await httpStatus(url, timeoutMs);
	return status !== null && status >= 200 && status < 300;
}
