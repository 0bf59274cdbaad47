// The shapes of the agent-runner's HTTP API (docs/http-api.md) as this client reads and writes them,
// and what its two streams yield. Types and pure functions only: the UI and the store may import them.
import { type ExecutionStatus, isTerminal } from '../contract.js';
import type { SseMessage } from './SseParser.js';

export { type ExecutionStatus, isTerminal };

export const agentToolNames = ['list_files', 'read_file', 'write_file', 'run_command'] as const;
export type AgentToolName = (typeof agentToolNames)[number];

/** The `agent` object of `POST /v1/executions` (docs/contract.md, "Agent spec"; agents/agentSpec.ts reads it from a file). */
export interface AgentSpec {
	name: string;
	instructions: string;
	model?: string;
	tools?: AgentToolName[];
	max_steps?: number;
	/** the execution's network policy, narrower than the runner's (agentRunner.sandbox.network's spelling) */
	network?: string;
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

/** Parses one SSE message of the runner; data that is not a JSON object is kept under `text`. */
export function toEvent(message: SseMessage): ExecutionEvent {
	let data: Record<string, unknown>;
	try {
		const parsed: unknown = JSON.parse(message.data);
		data = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
	} catch {
		data = { text: message.data };
	}
	return { id: eventId(message.id), type: message.event, data };
}

/** An SSE id as the runner's event sequence number; null when it is none. */
export function eventId(id: string | null): number | null {
	return id !== null && /^\d+$/.test(id) ? Number(id) : null;
}

/** The `status` event an ended execution's stream would have carried, from `GET /v1/executions/{id}`. */
export function statusData(execution: Execution): Record<string, unknown> {
	const data: Record<string, unknown> = { status: execution.status };
	if (execution.finished_at) data.time = execution.finished_at;
	if (execution.result !== null) data.result = execution.result;
	if (execution.error !== null) data.error = execution.error;
	return data;
}
