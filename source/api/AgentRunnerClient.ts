// The client of the agent-runner's HTTP API (docs/contract.md, "HTTP API"), used by `stigmer run`,
// `stigmer executions` and the dashboard's executions panel. Plain node:http, no dependency.
//
// Errors a user can act on are UserErrors: the runner not running (exit 1), a rejected token, an
// execution that does not exist. The event stream survives the runner going away for a while: it
// reconnects with Last-Event-ID and gives up, with a clear error, after a bounded time.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { loadConfig } from '../config/loadConfig.js';
import { exitCodes } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { AgentSpec } from '../agents/agentSpec.js';
import { buildMultipart, type MultipartPart } from './multipart.js';
import { SseParser, type SseMessage } from './SseParser.js';

export type ExecutionStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export const terminalStatuses: ReadonlySet<string> = new Set<ExecutionStatus>(['succeeded', 'failed', 'cancelled', 'interrupted']);

export function isTerminal(status: string | undefined | null): boolean {
	return status != null && terminalStatuses.has(status);
}

/** `GET /v1/executions/{id}` */
export interface Execution {
	id: string;
	status: ExecutionStatus;
	agent: AgentSpec;
	input: string;
	files: string[];
	result: string | null;
	error: string | null;
	created_at: string;
	started_at: string | null;
	finished_at: string | null;
}

/** One SSE event of `GET /v1/executions/{id}/events`: `status`, `model_turn`, `tool_call`, `tool_result`, `final`. */
export interface ExecutionEvent {
	/** the event's sequence number (SSE `id:`); null for a status the client read with GET after the stream ended */
	id: number | null;
	type: string;
	data: Record<string, unknown>;
}

/** One execution as `GET /v1/events` summarises it (the dashboard's executions view). */
export interface ExecutionSummary {
	id: string;
	agent: string | null;
	status: ExecutionStatus;
	/** model turns so far */
	steps: number;
	/** the tool being called, null between calls */
	tool: string | null;
	error: string | null;
	created_at: string;
	started_at: string | null;
	finished_at: string | null;
}

/** Why the all-executions stream is not live, as a user reads it. */
export type RunnerProblem = 'unreachable' | 'no-token' | 'unauthorized' | 'unavailable';

export type ExecutionFeedItem =
	/** a fresh picture follows: forget the executions known so far */
	| { kind: 'reset' }
	| { kind: 'execution'; summary: ExecutionSummary }
	/** the picture is complete; changes follow */
	| { kind: 'synced' }
	/** connected (again): what follows is live */
	| { kind: 'live' }
	/** the stream is down; the client retries by itself (reported once per problem) */
	| { kind: 'down'; problem: RunnerProblem; message: string };

export interface ExecutionFeedOptions {
	signal: AbortSignal;
	/** executions in the first picture (1-1000, default 100) */
	limit?: number;
	/** a connection silent this long is dead; the server sends a comment every 15 s (default 45 s) */
	idleTimeoutMs?: number;
	/** longest wait between two attempts while the runner is down (default 2 s) */
	maxRetryMs?: number;
}

export type EventStreamItem =
	| { kind: 'event'; event: ExecutionEvent }
	/** the stream dropped; the client is retrying (reported once per outage) */
	| { kind: 'disconnected'; reason: string }
	/** the stream is back; events after `after` follow */
	| { kind: 'reconnected'; after: number | null; downMs: number };

export interface EventStreamOptions {
	/** resume after this event id (Last-Event-ID) */
	after?: number | null;
	signal?: AbortSignal;
	/** give up when the runner stays unreachable this long (default 60 s) */
	giveUpAfterMs?: number;
	/** a connection silent this long is dead; the server sends a keep-alive every 15 s (default 45 s) */
	idleTimeoutMs?: number;
}

export interface SubmitRequest {
	agent: AgentSpec;
	input: string;
	/** paths on the host, uploaded as `files` parts (multipart) */
	files?: string[];
}

export const notRunningMessage = 'agent-runner is not running — start it with `stigmer server start`';

export class AgentRunnerNotRunningError extends UserError {
	constructor(
		hint?: string,
		/** nothing answered (as opposed to: no token yet) */
		readonly unreachable = false,
	) {
		super(notRunningMessage, exitCodes.failure, hint);
		this.name = 'AgentRunnerNotRunningError';
	}
}

/** A 4xx/5xx answer of the API, with its `error` message and the `field` at fault when it names one. */
export class AgentRunnerApiError extends UserError {
	constructor(
		readonly statusCode: number,
		readonly apiMessage: string,
		readonly field: string | null,
		hint?: string,
	) {
		super(`agent-runner: ${apiMessage}`, exitCodes.failure, hint);
		this.name = 'AgentRunnerApiError';
	}
}

export class EventStreamLostError extends UserError {
	constructor(executionId: string, seconds: number, reason: string) {
		super(
			`lost the agent-runner for ${seconds} s while following ${executionId} (${reason})`,
			exitCodes.failure,
			`the execution's state is unknown; check it with \`stigmer executions show ${executionId}\` once \`stigmer server status\` shows agent-runner running`,
		);
		this.name = 'EventStreamLostError';
	}
}

/** code of the errors of this client's own timers */
const timeoutCode = 'STIGMER_TIMEOUT';

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** A failure to talk to the runner at all (as opposed to an answer from it). */
export function isConnectionError(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return (code !== undefined && connectionErrorCodes.has(code)) || (error as Error | undefined)?.message === 'socket hang up';
}

interface Response {
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

export class AgentRunnerClient {
	readonly baseUrl: string;
	readonly tokenFile: string;
	private token: string | undefined;
	/** the token comes from tokenFile (read again after a 401), not from the options */
	private readonly tokenFromFile: boolean;
	private timeoutMs: number;
	private agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

	constructor(options: AgentRunnerClientOptions) {
		this.baseUrl = options.baseUrl.replace(/\/+$/, '');
		this.tokenFile = options.tokenFile;
		this.token = options.token;
		this.tokenFromFile = options.token === undefined;
		this.timeoutMs = options.timeoutMs ?? 10_000;
	}

	/** The runner of a home: loopback, `agentRunner.port` of its config.yaml, token from its secrets. */
	static forHome(home: StigmerHome, port: number = loadConfig(home).agentRunner.port): AgentRunnerClient {
		return new AgentRunnerClient({ baseUrl: `http://127.0.0.1:${port}`, tokenFile: home.apiTokenFile });
	}

	/** Frees pooled connections so the process can exit. */
	close(): void {
		this.agent.destroy();
	}

	/** `GET /readyz`: true when the runner takes work; false when it answers 503 or not at all. */
	async ready(timeoutMs = 2000): Promise<boolean> {
		try {
			const { status, res } = await this.send('GET', '/readyz', { auth: false, timeoutMs });
			res.resume();
			return status === 200;
		} catch {
			return false;
		}
	}

	async submit(request: SubmitRequest, signal?: AbortSignal): Promise<{ id: string; status: ExecutionStatus }> {
		const execution = JSON.stringify({ agent: request.agent, input: request.input });
		const files = request.files ?? [];
		if (files.length === 0) {
			return this.json('POST', '/v1/executions', { body: Buffer.from(execution), contentType: 'application/json', signal });
		}
		const parts: MultipartPart[] = [{ name: 'execution', value: execution, contentType: 'application/json' }, ...files.map((file) => ({ name: 'files', file }))];
		const body = buildMultipart(parts);
		return this.json('POST', '/v1/executions', { stream: body.stream(), contentLength: body.contentLength, contentType: body.contentType, signal, idle: true });
	}

	async list(limit = 100, signal?: AbortSignal): Promise<Execution[]> {
		const answer = await this.json<{ executions: Execution[] }>('GET', `/v1/executions?limit=${limit}`, { signal });
		return answer.executions;
	}

	async get(id: string, signal?: AbortSignal): Promise<Execution> {
		return this.json('GET', `/v1/executions/${encodeURIComponent(id)}`, { signal });
	}

	/** Asks the runner to cancel; a 409 (already ended) rejects with AgentRunnerApiError. */
	async cancel(id: string, signal?: AbortSignal): Promise<{ id: string; status: string }> {
		return this.json('POST', `/v1/executions/${encodeURIComponent(id)}/cancel`, { signal });
	}

	/**
	 * The execution's events, from the start or after `options.after`, until its terminal status.
	 * When the connection drops (the container restarts) it reconnects with Last-Event-ID, so no
	 * event is lost or repeated; after `giveUpAfterMs` without the runner it throws EventStreamLostError.
	 */
	async *events(id: string, options: EventStreamOptions = {}): AsyncGenerator<EventStreamItem> {
		const giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
		const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
		const signal = options.signal;
		let after = options.after ?? null;
		let downSince: number | null = null;
		let reason = '';
		let attempt = 0;
		let retryMs = 2000;

		const lost = (why: string): EventStreamItem | null => {
			reason = why;
			if (downSince !== null) return null;
			downSince = Date.now();
			return { kind: 'disconnected', reason: why };
		};

		while (!signal?.aborted) {
			if (downSince !== null) {
				if (Date.now() - downSince >= giveUpAfterMs) throw new EventStreamLostError(id, Math.round(giveUpAfterMs / 1000), reason);
				attempt++;
				await sleep(Math.min(retryMs, 100 * 2 ** Math.min(attempt, 5)), signal);
				if (signal?.aborted) return;
			}
			let response: Response;
			try {
				const headers: Record<string, string> = { Accept: 'text/event-stream' };
				if (after !== null) headers['Last-Event-ID'] = String(after);
				response = await this.send('GET', `/v1/executions/${encodeURIComponent(id)}/events`, { headers, signal, timeoutMs: this.timeoutMs });
			} catch (error) {
				if (signal?.aborted) return;
				const transient = (error instanceof AgentRunnerNotRunningError && error.unreachable) || isConnectionError(error) || (error as NodeJS.ErrnoException).code === timeoutCode;
				if (!transient) throw error;
				const item = lost(describeConnectionError(error));
				if (item) yield item;
				continue;
			}
			if (response.status >= 400) {
				const error = await this.apiError(response);
				// 5xx while the runner starts or stops: wait for it like for a refused connection.
				if (response.status < 500) throw error;
				const item = lost(error.apiMessage);
				if (item) yield item;
				continue;
			}
			if (downSince !== null) {
				yield { kind: 'reconnected', after, downMs: Date.now() - downSince };
				downSince = null;
				attempt = 0;
			}

			const parser = new SseParser();
			let terminal = false;
			let received = 0;
			const { req, res } = response;
			req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
			try {
				for await (const chunk of res as AsyncIterable<Buffer>) {
					if (parser.retryMs !== null) retryMs = parser.retryMs;
					for (const message of parser.push(chunk)) {
						const event = toEvent(message);
						if (event.id !== null) after = event.id;
						received++;
						yield { kind: 'event', event };
						if (event.type === 'status' && isTerminal(event.data.status as string)) terminal = true;
					}
					if (terminal) return;
				}
				parser.end();
			} catch (error) {
				if (signal?.aborted) return;
				const item = lost(errorMessage(error));
				if (item) yield item;
				continue;
			} finally {
				res.destroy();
			}
			if (terminal) return;
			// The server ended the stream without the terminal status: it is stopping. When it ended
			// without sending anything the execution may already be over; ask rather than loop.
			if (received === 0) {
				const execution = await this.get(id, signal).catch(() => null);
				if (execution && isTerminal(execution.status)) {
					yield { kind: 'event', event: { id: null, type: 'status', data: statusData(execution) } };
					return;
				}
			}
			const item = lost('the agent-runner closed the event stream');
			if (item) yield item;
		}
	}

	/**
	 * All executions' changes (`GET /v1/events`) until `signal` aborts: never gives up. After a drop it
	 * resumes after the last id it saw (Last-Event-ID), so a restarted runner's news (interrupted
	 * runs) arrive without a repeat; a runner with another store answers with a fresh picture (reset).
	 * While the runner is down it retries with a backoff up to `maxRetryMs` and says why once.
	 */
	async *executionFeed(options: ExecutionFeedOptions): AsyncGenerator<ExecutionFeedItem> {
		const { signal } = options;
		const idleTimeoutMs = options.idleTimeoutMs ?? 45_000;
		const maxRetryMs = options.maxRetryMs ?? 2000;
		let after: string | null = null;
		let attempt = 0;
		let reported: string | null = null;
		const down = (problem: RunnerProblem, message: string): ExecutionFeedItem | null => {
			const key = `${problem}:${message}`;
			if (reported === key) return null;
			reported = key;
			return { kind: 'down', problem, message };
		};
		while (!signal.aborted) {
			if (attempt > 0) {
				await sleep(Math.min(maxRetryMs, 100 * 2 ** Math.min(attempt, 5)), signal);
				if (signal.aborted) return;
			}
			attempt++;
			let response: Response;
			try {
				const headers: Record<string, string> = { Accept: 'text/event-stream' };
				if (after !== null) headers['Last-Event-ID'] = after;
				response = await this.send('GET', `/v1/events?limit=${options.limit ?? 100}`, { headers, signal, timeoutMs: this.timeoutMs });
			} catch (error) {
				if (signal.aborted) return;
				const item =
					error instanceof AgentRunnerNotRunningError && !error.unreachable
						? down('no-token', error.hint ?? error.message)
						: down(isConnectionError(error) || error instanceof AgentRunnerNotRunningError ? 'unreachable' : 'unavailable', describeConnectionError(error));
				if (item) yield item;
				continue;
			}
			if (response.status >= 400) {
				const error = await this.apiError(response);
				// a token that changed under us is read again on the next attempt
				if (response.status === 401 && this.tokenFromFile) this.token = undefined;
				const item = down(response.status === 401 ? 'unauthorized' : 'unavailable', error.message);
				if (item) yield item;
				continue;
			}
			const parser = new SseParser();
			const { req, res } = response;
			req.setTimeout(idleTimeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${idleTimeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
			attempt = 0;
			reported = null;
			try {
				yield { kind: 'live' };
				for await (const chunk of res as AsyncIterable<Buffer>) {
					for (const message of parser.push(chunk)) {
						if (message.event === 'reset') yield { kind: 'reset' };
						else if (message.event === 'synced') yield { kind: 'synced' };
						else if (message.event === 'execution') {
							const summary = toEvent(message).data as unknown as ExecutionSummary;
							if (typeof summary.id === 'string') yield { kind: 'execution', summary };
						}
						if (message.id !== null) after = message.id;
					}
				}
				parser.end();
				if (signal.aborted) return;
				const item = down('unreachable', 'the agent-runner closed the stream');
				if (item) yield item;
			} catch (error) {
				if (signal.aborted) return;
				const item = down('unreachable', errorMessage(error));
				if (item) yield item;
			} finally {
				res.destroy();
			}
		}
	}

	// -- transport ------------------------------------------------------------------------------

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

	private send(
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
	): Promise<Response> {
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
			const req = http.request(url, { method, headers, agent: this.agent }, (res) => {
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

	private async json<T>(method: string, path: string, options: Parameters<AgentRunnerClient['send']>[2] = {}): Promise<T> {
		const response = await this.send(method, path, options);
		if (response.status >= 400) throw await this.apiError(response);
		const body = await readBody(response.res);
		try {
			return JSON.parse(body) as T;
		} catch {
			throw new UserError(`agent-runner: ${method} ${path} answered something that is not JSON: ${body.slice(0, 200)}`);
		}
	}

	private async apiError(response: Response): Promise<AgentRunnerApiError> {
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

/** Parses one SSE message of the runner; data that is not a JSON object is kept under `text`. */
export function toEvent(message: SseMessage): ExecutionEvent {
	let data: Record<string, unknown>;
	try {
		const parsed: unknown = JSON.parse(message.data);
		data = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
	} catch {
		data = { text: message.data };
	}
	const id = message.id !== null && /^\d+$/.test(message.id) ? Number(message.id) : null;
	return { id, type: message.event, data };
}

function statusData(execution: Execution): Record<string, unknown> {
	const data: Record<string, unknown> = { status: execution.status };
	if (execution.finished_at) data.time = execution.finished_at;
	if (execution.result !== null) data.result = execution.result;
	if (execution.error !== null) data.error = execution.error;
	return data;
}

function describeConnectionError(error: unknown): string {
	if (error instanceof AgentRunnerNotRunningError) return error.hint ?? error.message;
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ECONNREFUSED') return 'connection refused';
	if (code === 'ECONNRESET' || (error as Error).message === 'socket hang up') return 'connection reset';
	return errorMessage(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal?.removeEventListener('abort', done);
			resolve();
		}
		signal?.addEventListener('abort', done, { once: true });
	});
}
