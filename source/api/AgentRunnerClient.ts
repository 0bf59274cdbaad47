// The client of the agent-runner's HTTP API (docs/contract.md, "HTTP API"), used by `stigmer run`,
// `stigmer executions` and the dashboard's executions panel. Plain node:http (runnerTransport.ts).
//
// Errors a user can act on are UserErrors (runnerErrors.ts): the runner not running (exit 1), a
// rejected token, an execution that does not exist. Both event streams are resumableSse.ts's: they
// reconnect with Last-Event-ID after a drop, with a backoff that holds while the runner flaps; the
// stream of one execution gives up, with a clear error, after a bounded time.
import { loadConfig } from '../config/loadConfig.js';
import { errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import {
	type EventStreamItem,
	type EventStreamOptions,
	type Execution,
	type ExecutionFeedItem,
	type ExecutionFeedOptions,
	type ExecutionStatus,
	type ExecutionSummary,
	type RunnerProblem,
	type SubmitRequest,
	eventId,
	isTerminal,
	statusData,
	toEvent,
} from './executionTypes.js';
import { buildMultipart, type MultipartPart } from './multipart.js';
import { resumableSse } from './resumableSse.js';
import { AgentRunnerApiError, AgentRunnerNotRunningError, EventStreamLostError, describeConnectionError, isConnectionError, timeoutCode } from './runnerErrors.js';
import { type AgentRunnerClientOptions, RunnerTransport } from './runnerTransport.js';

// What other modules import from here, wherever it lives now.
export * from './executionTypes.js';
export * from './runnerErrors.js';

export type { AgentRunnerClientOptions } from './runnerTransport.js';

export class AgentRunnerClient {
	readonly baseUrl: string;
	readonly tokenFile: string;
	private readonly http: RunnerTransport;

	constructor(options: AgentRunnerClientOptions) {
		this.http = new RunnerTransport(options);
		this.baseUrl = this.http.baseUrl;
		this.tokenFile = this.http.tokenFile;
	}

	/** The runner of a home: loopback, `agentRunner.port` of its config.yaml, token from its secrets. */
	static forHome(home: StigmerHome, port: number = loadConfig(home).agentRunner.port): AgentRunnerClient {
		return new AgentRunnerClient({ baseUrl: `http://127.0.0.1:${port}`, tokenFile: home.apiTokenFile });
	}

	/** Frees pooled connections so the process can exit. */
	close(): void {
		this.http.close();
	}

	/** `GET /readyz`: true when the runner takes work; false when it answers 503 or not at all. */
	async ready(timeoutMs = 2000): Promise<boolean> {
		try {
			const { status, res } = await this.http.send('GET', '/readyz', { auth: false, timeoutMs });
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
			return this.http.json('POST', '/v1/executions', { body: Buffer.from(execution), contentType: 'application/json', signal });
		}
		const parts: MultipartPart[] = [{ name: 'execution', value: execution, contentType: 'application/json' }, ...files.map((file) => ({ name: 'files', file }))];
		const body = buildMultipart(parts);
		return this.http.json('POST', '/v1/executions', { stream: body.stream(), contentLength: body.contentLength, contentType: body.contentType, signal, idle: true });
	}

	async list(limit = 100, signal?: AbortSignal): Promise<Execution[]> {
		const answer = await this.http.json<{ executions: Execution[] }>('GET', `/v1/executions?limit=${limit}`, { signal });
		return answer.executions;
	}

	async get(id: string, signal?: AbortSignal): Promise<Execution> {
		return this.http.json('GET', `/v1/executions/${encodeURIComponent(id)}`, { signal });
	}

	/** Asks the runner to cancel; a 409 (already ended) rejects with AgentRunnerApiError. */
	async cancel(id: string, signal?: AbortSignal): Promise<{ id: string; status: string }> {
		return this.http.json('POST', `/v1/executions/${encodeURIComponent(id)}/cancel`, { signal });
	}

	/**
	 * The execution's events, from the start or after `options.after`, until its terminal status.
	 * When the connection drops (the container restarts) it reconnects with Last-Event-ID, so no
	 * event is lost or repeated; after `giveUpAfterMs` without the runner it throws EventStreamLostError.
	 */
	async *events(id: string, options: EventStreamOptions = {}): AsyncGenerator<EventStreamItem> {
		const giveUpAfterMs = options.giveUpAfterMs ?? 60_000;
		const { signal } = options;
		let downSince: number | null = null;
		const lost = (reason: string): EventStreamItem | null => {
			if (downSince === null) {
				downSince = Date.now();
				return { kind: 'disconnected', reason };
			}
			if (Date.now() - downSince >= giveUpAfterMs) throw new EventStreamLostError(id, Math.round(giveUpAfterMs / 1000), reason);
			return null;
		};
		const stream = resumableSse({
			connect: (lastEventId, signal) => this.http.openStream(`/v1/executions/${encodeURIComponent(id)}/events`, lastEventId, signal),
			lastEventId: options.after == null ? null : String(options.after),
			signal,
			idleTimeoutMs: options.idleTimeoutMs,
		});
		for await (const item of stream) {
			let problem: EventStreamItem | null = null;
			if (item.kind === 'open') {
				if (downSince !== null) yield { kind: 'reconnected', after: eventId(item.lastEventId), downMs: Date.now() - downSince };
				downSince = null;
			} else if (item.kind === 'message') {
				const event = toEvent(item.message);
				yield { kind: 'event', event };
				if (event.type === 'status' && isTerminal(event.data.status as string)) return;
			} else if (item.kind === 'failed') {
				const { error } = item;
				// 5xx while the runner starts or stops: wait for it like for a refused connection.
				if (error instanceof AgentRunnerApiError) {
					if (error.statusCode < 500) throw error;
					problem = lost(error.apiMessage);
				} else if ((error instanceof AgentRunnerNotRunningError && error.unreachable) || isConnectionError(error) || (error as NodeJS.ErrnoException).code === timeoutCode) {
					problem = lost(describeConnectionError(error));
				} else throw error;
			} else if (item.error !== null) {
				problem = lost(errorMessage(item.error));
			} else {
				// The server ended the stream without the terminal status: it is stopping. When it ended
				// without sending anything the execution may already be over; ask rather than loop.
				if (item.messages === 0) {
					const execution = await this.get(id, signal).catch(() => null);
					if (execution && isTerminal(execution.status)) {
						yield { kind: 'event', event: { id: null, type: 'status', data: statusData(execution) } };
						return;
					}
				}
				problem = lost('the agent-runner closed the event stream');
			}
			if (problem) yield problem;
		}
	}

	/**
	 * All executions' changes (`GET /v1/events`) until `signal` aborts: never gives up. After a drop it
	 * resumes after the last id it saw (Last-Event-ID), so a restarted runner's news (interrupted
	 * runs) arrive without a repeat; a runner with another store answers with a fresh picture (reset).
	 * While the runner is down it retries with a backoff up to `maxRetryMs` and says why once.
	 */
	async *executionFeed(options: ExecutionFeedOptions): AsyncGenerator<ExecutionFeedItem> {
		let reported: string | null = null;
		const down = (problem: RunnerProblem, message: string): ExecutionFeedItem | null => {
			const key = `${problem}:${message}`;
			if (reported === key) return null;
			reported = key;
			return { kind: 'down', problem, message };
		};
		const stream = resumableSse({
			connect: (lastEventId, signal) => this.http.openStream(`/v1/events?limit=${options.limit ?? 100}`, lastEventId, signal),
			signal: options.signal,
			idleTimeoutMs: options.idleTimeoutMs,
			maxDelayMs: options.maxRetryMs,
		});
		for await (const item of stream) {
			let problem: ExecutionFeedItem | null = null;
			if (item.kind === 'open') {
				reported = null;
				yield { kind: 'live' };
			} else if (item.kind === 'message') {
				const { message } = item;
				if (message.event === 'reset') yield { kind: 'reset' };
				else if (message.event === 'synced') yield { kind: 'synced' };
				else if (message.event === 'execution') {
					const summary = toEvent(message).data as unknown as ExecutionSummary;
					if (typeof summary.id === 'string') yield { kind: 'execution', summary };
				}
			} else if (item.kind === 'closed') {
				problem = down('unreachable', item.error === null ? 'the agent-runner closed the stream' : errorMessage(item.error));
			} else {
				const { error } = item;
				if (error instanceof AgentRunnerNotRunningError && !error.unreachable) problem = down('no-token', error.hint ?? error.message);
				else if (error instanceof AgentRunnerApiError) problem = down(error.statusCode === 401 ? 'unauthorized' : 'unavailable', error.message);
				else problem = down(isConnectionError(error) || error instanceof AgentRunnerNotRunningError ? 'unreachable' : 'unavailable', describeConnectionError(error));
			}
			if (problem) yield problem;
		}
	}
}
