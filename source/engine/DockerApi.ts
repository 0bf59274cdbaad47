// A small client of the Docker Engine HTTP API (also spoken by Podman, Colima and OrbStack).
// It owns the connection: endpoint, API version negotiation, errors, streams and hijacked
// connections. Loading it costs a few milliseconds, which keeps `stigmer server status` fast.
import { existsSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { exitCodes } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';
import { type Endpoint, EndpointError, endpointUrl, resolveEndpoint } from './endpoint.js';
import { engineInfoFromPing } from './enginePing.js';
import { isPlainEndpoint, rawGet } from './rawHttp.js';

// node:http costs 20–50 ms when imported as ESM (it pulls in undici's lazy getters); through require it
// costs a few, and only the commands that make an ordinary request pay for it.
const require = createRequire(import.meta.url);
const httpModule = (): typeof import('node:http') => require('node:http');
const httpsModule = (): typeof import('node:https') => require('node:https');

/** Oldest API we speak (Docker Engine 20.10); newer engines are asked for at most `maxApiVersion`. */
export const minApiVersion = '1.41';
export const maxApiVersion = '1.47';

export class DockerApiError extends Error {
	constructor(
		readonly statusCode: number,
		message: string,
		readonly method: string,
		readonly path: string,
	) {
		super(message);
		this.name = 'DockerApiError';
	}
}

export class EngineUnreachableError extends UserError {
	constructor(message: string, hint: string) {
		super(message, exitCodes.engineUnreachable, hint);
		this.name = 'EngineUnreachableError';
	}
}

export interface RequestOptions {
	query?: Record<string, string | number | boolean | undefined | string[] | Record<string, unknown>>;
	body?: unknown;
	/** a raw body (e.g. a tar stream for /build); sent as is */
	rawBody?: Readable | Buffer;
	headers?: Record<string, string>;
	timeoutMs?: number;
	signal?: AbortSignal;
}

export function compareApiVersions(a: string, b: string): number {
	const [a1 = 0, a2 = 0] = a.split('.').map(Number);
	const [b1 = 0, b2 = 0] = b.split('.').map(Number);
	return a1 - b1 || a2 - b2;
}

export interface EngineInfo {
	endpoint: string;
	version: string;
	apiVersion: string;
	os: string;
	arch: string;
	/** 'Docker Engine', 'Podman Engine', … as the engine names itself */
	platform: string;
}

export class DockerApi {
	private agentInstance: http.Agent | null = null;
	apiVersion = minApiVersion;
	info: EngineInfo | null = null;

	constructor(readonly endpoint: Endpoint) {}

	private get agent(): http.Agent {
		const endpoint = this.endpoint;
		this.agentInstance ??=
			endpoint.kind === 'tcp' && endpoint.tls
				? new (httpsModule().Agent)({ keepAlive: true, ca: endpoint.tls.ca, cert: endpoint.tls.cert, key: endpoint.tls.key, rejectUnauthorized: endpoint.tls.verify })
				: new (httpModule().Agent)({ keepAlive: true });
		return this.agentInstance;
	}

	private get transport(): typeof import('node:http') | typeof import('node:https') {
		return this.endpoint.kind === 'tcp' && this.endpoint.tls ? httpsModule() : httpModule();
	}

	/** Resolves the endpoint, checks the engine answers, negotiates the API version. Exit 3 when unreachable. */
	static async connect(env: NodeJS.ProcessEnv = process.env, timeoutMs = 3000): Promise<DockerApi> {
		let endpoint: Endpoint;
		try {
			endpoint = resolveEndpoint(env);
		} catch (error) {
			if (error instanceof EndpointError) throw new EngineUnreachableError(error.message, 'fix DOCKER_HOST / DOCKER_CONTEXT, or unset them to use the local engine');
			throw error;
		}
		const api = new DockerApi(endpoint);
		await api.negotiate(timeoutMs);
		return api;
	}

	get endpointUrl(): string {
		return endpointUrl(this.endpoint);
	}

	async negotiate(timeoutMs = 3000): Promise<EngineInfo> {
		let version: { Version: string; ApiVersion: string; MinAPIVersion?: string; Os: string; Arch: string; Platform?: { Name?: string } };
		try {
			// /_ping names the API version and the engine in its headers; /version (slow on Podman: see
			// enginePing.ts) only when they do not, or to word an old engine's refusal
			const ping = await this.request('GET', '/_ping', { timeoutMs, unversioned: true } as RequestOptions);
			ping.resume();
			const pinged = engineInfoFromPing(ping.headers, this.endpointUrl);
			version = pinged && compareApiVersions(pinged.apiVersion, minApiVersion) >= 0
				? { Version: pinged.version, ApiVersion: pinged.apiVersion, Os: pinged.os, Arch: pinged.arch, Platform: { Name: pinged.platform } }
				: await this.json('GET', '/version', { timeoutMs, unversioned: true } as RequestOptions);
		} catch (error) {
			throw diagnoseUnreachable(this.endpoint, error);
		}
		if (compareApiVersions(version.ApiVersion, minApiVersion) < 0) {
			throw new EngineUnreachableError(
				`the engine at ${this.endpointUrl} speaks Docker API ${version.ApiVersion}; stigmer needs ${minApiVersion} or later`,
				'upgrade Docker Engine to 20.10 or later (or Podman to 4 or later)',
			);
		}
		this.apiVersion = compareApiVersions(version.ApiVersion, maxApiVersion) > 0 ? maxApiVersion : version.ApiVersion;
		this.info = {
			endpoint: this.endpointUrl,
			version: version.Version,
			apiVersion: this.apiVersion,
			os: version.Os,
			arch: version.Arch,
			platform: version.Platform?.Name || 'Docker Engine',
		};
		return this.info;
	}

	close(): void {
		this.agentInstance?.destroy();
	}

	buildPath(p: string, query?: RequestOptions['query'], unversioned = false): string {
		let full = unversioned ? p : `/v${this.apiVersion}${p}`;
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

	private requestOptions(method: string, fullPath: string, headers: Record<string, string>): http.RequestOptions {
		const base: http.RequestOptions = { method, path: fullPath, headers: { Host: 'docker', ...headers }, agent: this.agent };
		if (this.endpoint.kind === 'unix') return { ...base, socketPath: this.endpoint.socketPath };
		return { ...base, host: this.endpoint.host, port: this.endpoint.port };
	}

	/** Sends a request and resolves with the response once headers arrive; status ≥ 400 rejects with DockerApiError. */
	request(method: string, p: string, options: RequestOptions & { unversioned?: boolean } = {}): Promise<http.IncomingMessage> {
		const headers: Record<string, string> = { ...options.headers };
		let payload: Buffer | undefined;
		if (options.body !== undefined) {
			payload = Buffer.from(JSON.stringify(options.body));
			headers['Content-Type'] = 'application/json';
			headers['Content-Length'] = String(payload.length);
		} else if (Buffer.isBuffer(options.rawBody)) {
			payload = options.rawBody;
			headers['Content-Length'] = String(payload.length);
		}
		const fullPath = this.buildPath(p, options.query, options.unversioned);
		const transport = this.transport;
		return new Promise((resolve, reject) => {
			const req = transport.request(this.requestOptions(method, fullPath, headers), (res) => {
				const status = res.statusCode ?? 0;
				if (status >= 400) {
					readAll(res).then(
						(body) => reject(new DockerApiError(status, apiErrorMessage(body, status), method, p)),
						reject,
					);
					return;
				}
				resolve(res);
			});
			req.on('error', reject);
			if (options.timeoutMs) {
				req.setTimeout(options.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer from the engine within ${options.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
			}
			if (options.signal) {
				if (options.signal.aborted) req.destroy(new Error('aborted'));
				options.signal.addEventListener('abort', () => req.destroy(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })), { once: true });
			}
			if (payload) req.end(payload);
			else if (options.rawBody && !Buffer.isBuffer(options.rawBody)) options.rawBody.pipe(req);
			else req.end();
		});
	}

	async json<T = unknown>(method: string, p: string, options: RequestOptions & { unversioned?: boolean } = {}): Promise<T> {
		const res = await this.request(method, p, options);
		const body = await readAll(res);
		if (body.length === 0) return undefined as T;
		const type = String(res.headers['content-type'] ?? '');
		if (!type.includes('json')) return body.toString('utf8') as T;
		return JSON.parse(body.toString('utf8')) as T;
	}

	/** Like json(), but a 404 resolves to null. */
	async jsonOrNull<T = unknown>(method: string, p: string, options: RequestOptions = {}): Promise<T | null> {
		try {
			return await this.json<T>(method, p, options);
		} catch (error) {
			if (error instanceof DockerApiError && error.statusCode === 404) return null;
			throw error;
		}
	}

	/**
	 * A GET whose body is read straight off the socket: an HTTP/1.0 request makes the engine send the
	 * body unchunked, so a log of many small messages arrives in large reads instead of one HTTP chunk
	 * per message (Node's parser then costs more than the logs themselves). TLS endpoints use request().
	 */
	async rawGet(p: string, options: Pick<RequestOptions, 'query' | 'signal'> = {}): Promise<Readable> {
		if (!isPlainEndpoint(this.endpoint)) return this.request('GET', p, options);
		const res = await rawGet(this.endpoint, this.buildPath(p, options.query), { signal: options.signal, headerTimeoutMs: 30_000 });
		if (res.status >= 400) {
			const body = await readAll(res.body);
			throw new DockerApiError(res.status, apiErrorMessage(body, res.status), 'GET', p);
		}
		return res.body;
	}

	/** A hijacked connection (exec and attach with stdin): the raw socket after `101 UPGRADED`. */
	hijack(p: string, body: unknown): Promise<{ socket: Duplex; head: Buffer }> {
		const payload = Buffer.from(JSON.stringify(body));
		const headers = { 'Content-Type': 'application/json', 'Content-Length': String(payload.length), Connection: 'Upgrade', Upgrade: 'tcp' };
		const transport = this.transport;
		return new Promise((resolve, reject) => {
			const opts = this.requestOptions('POST', this.buildPath(p), headers);
			opts.agent = false as unknown as http.Agent;
			const req = transport.request(opts);
			req.on('upgrade', (_res, socket, head) => resolve({ socket, head }));
			req.on('response', (res) => {
				// Engines that do not upgrade answer 200 and stream on the response itself.
				const status = res.statusCode ?? 0;
				if (status >= 400) {
					readAll(res).then((b) => reject(new DockerApiError(status, apiErrorMessage(b, status), 'POST', p)), reject);
					return;
				}
				resolve({ socket: res.socket, head: Buffer.alloc(0) });
			});
			req.on('error', reject);
			req.end(payload);
		});
	}
}

export function readAll(stream: Readable): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		stream.on('data', (c: Buffer) => chunks.push(c));
		stream.on('end', () => resolve(Buffer.concat(chunks)));
		stream.on('error', reject);
	});
}

function apiErrorMessage(body: Buffer, status: number): string {
	const text = body.toString('utf8').trim();
	try {
		const parsed = JSON.parse(text) as { message?: string };
		if (parsed.message) return parsed.message;
	} catch {
		// not JSON: use the text
	}
	return text || `HTTP ${status}`;
}

function onPath(program: string): boolean {
	return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, program)));
}

const isMac = process.platform === 'darwin';

/** Turns a failed first contact into "not installed", "not running" or "permission denied", with the fix. */
export function diagnoseUnreachable(endpoint: Endpoint, error: unknown): EngineUnreachableError {
	const code = (error as NodeJS.ErrnoException).code;
	const where = endpointUrl(endpoint);
	if (code === 'EACCES' || code === 'EPERM') {
		return new EngineUnreachableError(
			`permission denied on the Docker socket ${where}`,
			isMac
				? 'restart Docker Desktop (or Colima) so it recreates the socket with your permissions'
				: 'add yourself to the docker group: sudo usermod -aG docker $USER, then log out and in (or run rootless Docker and set DOCKER_HOST)',
		);
	}
	const installed = onPath('dockerd') || onPath('docker') || onPath('podman') || onPath('colima') || existsSync('/Applications/Docker.app');
	if ((code === 'ENOENT' || code === 'ECONNREFUSED') && installed) {
		return new EngineUnreachableError(
			`the container engine is installed but not running (nothing answers on ${where}, ${endpoint.source})`,
			isMac
				? 'start Docker Desktop, or `colima start`, or OrbStack; or point DOCKER_HOST at a running engine'
				: 'start it: sudo systemctl start docker (or `sudo dockerd &`); for Podman: systemctl --user start podman.socket and DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock',
		);
	}
	if (code === 'ENOENT' || code === 'ECONNREFUSED') {
		return new EngineUnreachableError(
			`no container engine found (nothing answers on ${where}, ${endpoint.source})`,
			isMac
				? 'install Docker Desktop, Colima (brew install colima docker) or OrbStack, and start it'
				: 'install Docker: sudo apt-get install docker.io (Debian/Ubuntu) or see https://docs.docker.com/engine/install/, then sudo systemctl start docker',
		);
	}
	return new EngineUnreachableError(
		`cannot reach the container engine at ${where} (${endpoint.source}): ${errorMessage(error)}`,
		'check that the engine is running and DOCKER_HOST / DOCKER_CONTEXT point at it; `stigmer doctor` checks each step',
	);
}
