// The engine's small JSON answers (/_ping, a container list, an inspection, a finite events query),
// through DockerApi's own keep-alive agent, without dockerode: loading dockerode and docker-modem
// (their bundle, readable-stream, debug, …) was the largest part of `server status`'s start-up after
// Node itself (≈25 ms CPU at load 9), for four GETs. Same agent, so the same connections on every
// endpoint kind (unix, tcp, TLS, ssh's dialer); failures as dockerode's are (engineErrors.ts): a non-2xx
// answer carries `statusCode` and the engine's message, a connection's error is Node's own.
import type { Agent, IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { Endpoint } from './endpoint.js';
import { rawError } from './rawHttp.js';

// required, not imported: ESM's view of node:http reads every export, and its getters load undici
const require = createRequire(import.meta.url);

export interface EngineAnswer {
	status: number;
	headers: IncomingHttpHeaders;
	body: Buffer;
}

/** GET `path` (already versioned) on the engine; resolves with the whole answer, whatever its status. */
export function engineGet(endpoint: Endpoint, agent: Agent, path: string, signal?: AbortSignal): Promise<EngineAnswer> {
	const tls = endpoint.kind === 'tcp' ? endpoint.tls : null;
	const http: typeof import('node:http') = require(tls ? 'node:https' : 'node:http');
	const where =
		endpoint.kind === 'unix'
			? { socketPath: endpoint.socketPath }
			: endpoint.kind === 'ssh'
				? { host: 'docker' } // the agent dials ssh (DockerApi's agentFor)
				: { host: endpoint.host, port: endpoint.port, ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: tls.verify } : {}) };
	return new Promise((resolve, reject) => {
		const request = http.request({ ...where, path, method: 'GET', agent, signal }, (response) => {
			const chunks: Buffer[] = [];
			response.on('data', (chunk: Buffer) => chunks.push(chunk));
			response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
			response.on('error', reject);
		});
		request.on('error', reject);
		request.end();
	});
}

/** The body of a GET answered 2xx, or the engine's refusal as an error with its `statusCode`. */
export async function engineGetBody(endpoint: Endpoint, agent: Agent, path: string, signal?: AbortSignal): Promise<Buffer> {
	const answer = await engineGet(endpoint, agent, path, signal);
	if (answer.status < 200 || answer.status > 299) throw rawError(answer.status, answer.body);
	return answer.body;
}
