// The agent-runner client's transport: node:http with a keep-alive pool, the bearer token (read from its
// file on first use, again after a 401), timeouts, and API errors that say what to do.
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { createRequire } from 'node:module';
import { exitCodes } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';
import { AgentRunnerApiError, AgentRunnerNotRunningError, describeConnectionError, isConnectionError, timeoutCode } from './runnerErrors.js';

// node:http through require: an ES module's `import … from 'node:http'` makes Node read every export of
// it, and http's lazy WebSocket/CloseEvent/MessageEvent getters load undici, with tls, http2, zlib and the
// web streams: 13 MB of RSS in a bare Node 24 (58 against 45 MB), in every process that loads this file,
// the dashboard among them (docs/architecture.md, "Memory"). require() reads no export.
const { Agent, request } = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export interface RunnerResponse {
	status: number;
	headers: http.IncomingHttpHeaders;
	res: http.IncomingMessage;
	req: http.ClientRequest;
}

export interface AgentRunnerClientOptions {
	/** `http://127.0.0.1:7480` */
	baseUrl: string;
	/** the bearer token file ($STIGMER_HOME/secrets/api-token), read on first use */
	tokenFile: string;
	/** the token itself, instead of reading tokenFile */
	token?: string;
	/** per request, until the answer's headers (default 10 s; uploads: an idle timeout) */
	timeoutMs?: number;
}

export class RunnerTransport {
	readonly baseUrl: string;
	readonly tokenFile: string;
	private token: string | undefined;
	/** the token comes from tokenFile (read again after a 401), not from the options */
	private readonly tokenFromFile: boolean;
	readonly timeoutMs: number;
	private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

	constructor(options: AgentRunnerClientOptions) {
		this.baseUrl = options.baseUrl.replace(/\/+$/, '');
		this.tokenFile = options.tokenFile;
		this.token = options.token;
		this.tokenFromFile = options.token === undefined;
		this.timeoutMs = options.timeoutMs ?? 10_000;
	}

	/** Frees pooled connections so the process can exit. */
	close(): void {
		this.agent.destroy();
	}

	/** Opens an event stream of the API after `lastEventId`; an answer other than 200 throws AgentRunnerApiError. */
	async openStream(path: string, lastEventId: string | null, signal: AbortSignal | undefined): Promise<http.IncomingMessage> {
		const headers: Record<string, string> = { Accept: 'text/event-stream' };
		if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
		const response = await this.send('GET', path, { headers, signal, timeoutMs: this.timeoutMs });
		if (response.status >= 400) {
			const error = await this.apiError(response);
			// a token that changed under us is read again on the next attempt
			if (response.status === 401 && this.tokenFromFile) this.token = undefined;
			throw error;
		}
		return response.res;
	}

	private readToken(): string {
		if (this.token !== undefined) return this.token;
		let token: string;
		try {
			token = readFileSync(this.tokenFile, 'utf8').trim();
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'ENOENT') throw new AgentRunnerNotRunningError(`no API token at ${this.tokenFile} (the first \`stigmer server start\` creates it)`);
			throw new UserError(`cannot read the agent-runner API token ${this.tokenFile}: ${errorMessage(error)}`, exitCodes.failure, 'it must be readable by you (mode 0600)');
		}
		if (!token) throw new UserError(`the agent-runner API token file ${this.tokenFile} is empty`, exitCodes.failure, 'restart the stack with `stigmer server restart` to write a new one');
		this.token = token;
		return token;
	}

	send(
		method: string,
		path: string,
		options: {
			body?: Buffer;
			stream?: NodeJS.ReadableStream;
			contentLength?: number;
			contentType?: string;
			headers?: Record<string, string>;
			signal?: AbortSignal | undefined;
			timeoutMs?: number;
			auth?: boolean;
			/** the timeout is an idle timeout (uploads of any size) */
			idle?: boolean;
		} = {},
	): Promise<RunnerResponse> {
		const headers: Record<string, string> = { ...options.headers };
		if (options.auth !== false) headers.Authorization = `Bearer ${this.readToken()}`;
		if (options.contentType) headers['Content-Type'] = options.contentType;
		if (options.body) headers['Content-Length'] = String(options.body.length);
		else if (options.contentLength !== undefined) headers['Content-Length'] = String(options.contentLength);
		else if (method === 'POST') headers['Content-Length'] = '0';
		const url = new URL(path, `${this.baseUrl}/`);
		const timeoutMs = options.timeoutMs ?? this.timeoutMs;
		return new Promise((resolve, reject) => {
			let settled = false;
			const req = request(url, { method, headers, agent: this.agent }, (res) => {
				settled = true;
				clearTimeout(timer);
				resolve({ status: res.statusCode ?? 0, headers: res.headers, res, req });
			});
			const fail = (error: Error) => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				if ((error as NodeJS.ErrnoException).code === timeoutCode) {
					reject(
						Object.assign(new UserError(error.message, exitCodes.failure, 'the agent-runner is overloaded or stuck; `stigmer server logs agent-runner` shows what it does'), { code: timeoutCode }),
					);
				} else if (isConnectionError(error) && !options.signal?.aborted) {
					reject(new AgentRunnerNotRunningError(`nothing answers on ${this.baseUrl} (${describeConnectionError(error)})`, true));
				} else reject(error);
			};
			req.on('error', fail);
			// Until the answer's headers: an overall timeout, or an idle one for uploads.
			const timer = options.idle
				? undefined
				: setTimeout(() => req.destroy(Object.assign(new Error(`the agent-runner at ${this.baseUrl} did not answer within ${timeoutMs / 1000} s`), { code: timeoutCode })), timeoutMs);
			if (options.idle)
				req.setTimeout(timeoutMs * 6, () => req.destroy(Object.assign(new Error(`the upload to the agent-runner at ${this.baseUrl} stalled for ${(timeoutMs * 6) / 1000} s`), { code: timeoutCode })));
			if (options.signal) {
				const abort = () => req.destroy(Object.assign(new Error('aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
				if (options.signal.aborted) abort();
				else options.signal.addEventListener('abort', abort, { once: true });
				req.on('close', () => options.signal!.removeEventListener('abort', abort));
			}
			if (options.body) req.end(options.body);
			else if (options.stream) {
				options.stream.on('error', (error: Error) => req.destroy(error));
				options.stream.pipe(req);
			} else req.end();
		});
	}

	async json<T>(method: string, path: string, options: Parameters<RunnerTransport['send']>[2] = {}): Promise<T> {
		const response = await this.send(method, path, options);
		if (response.status >= 400) throw await this.apiError(response);
		const body = await readBody(response.res);
		try {
			return JSON.parse(body) as T;
		} catch {
			throw new UserError(`agent-runner: ${method} ${path} answered something that is not JSON: ${body.slice(0, 200)}`);
		}
	}

	private async apiError(response: RunnerResponse): Promise<AgentRunnerApiError> {
		const text = await readBody(response.res).catch(() => '');
		let message = text.trim() || `HTTP ${response.status}`;
		let field: string | null = null;
		try {
			const parsed = JSON.parse(text) as { error?: unknown; field?: unknown };
			if (typeof parsed.error === 'string') message = parsed.error;
			if (typeof parsed.field === 'string') field = parsed.field;
		} catch {
			// not JSON: keep the text
		}
		if (response.status === 401) {
			return new AgentRunnerApiError(
				401,
				`the agent-runner refused the API token in ${this.tokenFile} (${message})`,
				null,
				'the token file changed since the container started; restart it with `stigmer server restart agent-runner`',
			);
		}
		return new AgentRunnerApiError(response.status, message, field);
	}
}

function readBody(res: http.IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		res.on('data', (c: Buffer) => chunks.push(c));
		res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		res.on('error', reject);
	});
}
