// One row of `stigmer server status --json` (docs/contract.md). The dashboard's services table shows the same.
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
}

/** The status row of a native service, from what the supervisor reports (status and the dashboard alike). */
export function nativeRow(s: NativeStatus): ServiceStatus {
	const row: ServiceStatus = { name: s.name, kind: 'native', state: s.state, health: null, restarts: s.restarts, exitCode: s.exitCode };
	if (s.pid !== undefined) row.pid = s.pid;
	if (s.startedAt) row.startedAt = s.startedAt;
	if (s.lastError) row.message = s.lastError;
	return row;
}
