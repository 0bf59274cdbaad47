// One attempt of a `ready` probe of config.yaml. The service polls these while it is `starting`.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

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
		let request: http.ClientRequest;
		try {
			const get = url.startsWith('https:') ? https.get : http.get;
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
