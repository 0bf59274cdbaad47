// What the supervisor, its clients and the state file agree on. The supervisor listens on
// `home.supervisorSocket` and speaks JSON lines: a client sends one request line and reads one response
// line (a `subscribe` request instead receives a `state` event line now and on every change, until it
// closes the connection).
import type { NativeServiceConfig } from '../config/types.js';
import { defaultTimeouts } from '../contract.js';
import type { ApiForwardSpec, ApiForwardStatus } from './ApiForward.js';
import type { LlmForwardSpec, LlmForwardStatus } from './LlmForward.js';

export type NativeState = 'running' | 'starting' | 'restarting' | 'stopped' | 'exited' | 'failed' | 'not-installed';

/** A row of `stigmer server status --json` for a native service (docs/contract.md). */
export interface NativeStatus {
	name: string;
	kind: 'native';
	state: NativeState;
	health: null;
	pid?: number;
	/** RFC 3339, when the current (or last) process started */
	startedAt?: string;
	/** automatic restarts since the service was last started by request */
	restarts: number;
	/** of the last process that ended: its code, or 128 + signal number like docker */
	exitCode: number | null;
	lastError?: string;
	/** the resolved argv */
	command?: string[];
}

/** Identifies a running process beyond its pid (see platform/ProcessFacts.ts); kept in the state file. */
export interface ProcessGuard {
	pid: number;
	/** start time as platform/ProcessFacts.ts reads it (opaque) */
	startTime: string;
}

/** `home.nativeStateFile`, rewritten (atomically) on every change. */
export interface NativeStateFile {
	supervisor: { pid: number; startTime: string | null; startedAt: string } | null;
	updatedAt: string;
	services: NativeStatus[];
	/** process groups to signal for cleanup, by service name */
	guards: Record<string, ProcessGuard>;
	/** the agent-runner's path to an LLM on the host's loopback, while it is open */
	forward?: LlmForwardStatus | null;
	/** the CLI's path to the agent-runner's API on a remote engine, while it is open */
	apiForward?: ApiForwardStatus | null;
}

export type SupervisorRequest =
	| { cmd: 'ping' }
	| { cmd: 'status' }
	/**
	 * Starts the named services (all configured ones when omitted) in config order. `configs` replaces the
	 * supervisor's view of config.yaml (otherwise it reloads the file). With `wait` (default true) the
	 * response comes when each is ready, or at the first one that fails or is not ready after `timeout`
	 * seconds (`timedOut: true`).
	 */
	| { cmd: 'start'; services?: string[]; configs?: NativeServiceConfig[]; wait?: boolean; timeout?: number }
	/** Stops in reverse order: SIGTERM to each process group, SIGKILL after `timeout` seconds (default defaultStopTimeoutSeconds). */
	| { cmd: 'stop'; services?: string[]; timeout?: number }
	| { cmd: 'restart'; services?: string[]; configs?: NativeServiceConfig[]; wait?: boolean; timeout?: number }
	/** Stops everything, answers, then the supervisor exits. */
	| { cmd: 'shutdown'; timeout?: number }
	/** Opens (or keeps, when unchanged) the LLM forward of the agent-runner; the answer carries its status. */
	| ({ cmd: 'forward' } & LlmForwardSpec)
	/** Closes the LLM forward (the agent-runner stopped). */
	| { cmd: 'unforward' }
	/**
	 * Remote engines: opens (or keeps, when unchanged) the forward from this machine's 127.0.0.1:port to the
	 * agent-runner's API, through an exec'd bridge per connection; the answer carries its status.
	 */
	| ({ cmd: 'apiForward' } & ApiForwardSpec)
	/** Closes the API forward (the agent-runner stopped). */
	| { cmd: 'apiUnforward' }
	| { cmd: 'subscribe' };

export type SupervisorResponse =
	| { ok: true; services: NativeStatus[]; supervisorPid: number; forward?: LlmForwardStatus | null; apiForward?: ApiForwardStatus | null }
	| { ok: false; error: string; service?: string; timedOut?: boolean; services?: NativeStatus[] };

export interface SupervisorStateEvent {
	event: 'state';
	services: NativeStatus[];
}

/** A request's `timeout` when it names none: stop as `stigmer server stop` (contract.ts), readiness 60 s. */
export const defaultStopTimeoutSeconds = defaultTimeouts.stopSeconds;
export const defaultReadyTimeoutSeconds = 60;
