// One row of `stigmer server status --json` (docs/contract.md). The dashboard's services table shows the same.
import type { LlmForwardStatus } from '../supervisor/LlmForward.js';
import type { NativeStatus } from '../supervisor/protocol.js';
import type { ImageSourceStatus } from './agentRunnerImage.js';

/** `unknown`: the container engine does not answer, so what the container does cannot be told. */
export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'exited' | 'failed' | 'not-installed' | 'unknown';
export type ServiceHealth = 'healthy' | 'unhealthy' | 'starting' | null;

export interface ServiceStatus {
	name: string;
	kind: 'container' | 'native';
	state: ServiceState;
	health?: ServiceHealth;
	/** container id (containers) */
	id?: string;
	/** process id (natives) */
	pid?: number;
	image?: string;
	endpoint?: string;
	/** RFC 3339 */
	startedAt?: string | null;
	restarts?: number;
	exitCode?: number | null;
	oomKilled?: boolean;
	/**
	 * RFC 3339: when the kernel's OOM killer ended the container's main process. Kept (in the home) after
	 * the restart policy started it again, until the user starts or restarts it (stack/oomStatus.ts).
	 */
	oomKilledAt?: string;
	/** processes inside the container the OOM killer ended while it lived on: how many, the last when */
	oomKills?: { count: number; lastAt: string };
	/** why it is failed / not-installed, for humans */
	message?: string;
	/** agent-runner on a remote engine: the home's named volumes (workspace, data) that exist */
	volumes?: Array<{ name: string; holds: string }>;
	/** agent-runner: the source hash of its image, the one this stigmer needs, and whether they match */
	imageSource?: ImageSourceStatus;
}

export interface EngineStatus {
	reachable: boolean;
	endpoint: string;
	version: string | null;
	error?: string;
}

export interface StackStatus {
	engine: EngineStatus;
	services: ServiceStatus[];
	/**
	 * Present when config.yaml is invalid: its first problem as `file:line: key: problem`. The rows then come
	 * from what runs (the supervisor's state, the engine's labels), not from the configuration.
	 */
	configError?: string;
	/** the native services supervisor; pid null when it is not running (it runs the natives and the LLM forward) */
	supervisor?: { pid: number | null };
	/**
	 * The agent-runner's path to an LLM on the host's loopback (supervisor/LlmForward.ts), when it has one:
	 * `forward`, `direct`, `pending` or `failed` as the supervisor reports it, `down` when the supervisor that
	 * ran it is gone (agents cannot reach the LLM until `stigmer server start`).
	 */
	llmForward?: { state: 'forward' | 'direct' | 'pending' | 'failed' | 'down'; listen: string; target: string; error?: string };
}

/** The status's llmForward from what the supervisor reports (or, dead, what it last recorded). */
export function llmForwardRow(forward: LlmForwardStatus | null, supervisorAlive: boolean, containerUp: boolean): StackStatus['llmForward'] {
	if (!forward) return undefined;
	const listen = `${forward.listenHost}:${forward.boundPort}`;
	const target = `${forward.targetHost}:${forward.targetPort}`;
	if (!supervisorAlive) return containerUp ? { state: 'down', listen, target, error: 'the supervisor that runs it is not running' } : undefined;
	return { state: forward.mode, listen, target, ...(forward.error ? { error: forward.error } : {}) };
}

/** The status row of a native service, from what the supervisor reports (status and the dashboard alike). */
export function nativeRow(s: NativeStatus): ServiceStatus {
	const row: ServiceStatus = { name: s.name, kind: 'native', state: s.state, health: null, restarts: s.restarts, exitCode: s.exitCode };
	if (s.pid !== undefined) row.pid = s.pid;
	if (s.startedAt) row.startedAt = s.startedAt;
	if (s.lastError) row.message = s.lastError;
	return row;
}
