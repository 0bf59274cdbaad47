// The status rows of what the supervisor runs (`server status` and the dashboard alike): a native
// service's row and the LLM forward's line, from what the supervisor reports.
import type { ServiceStatus, StackStatus } from '../serviceStatus.js';
import type { LlmForwardStatus } from '../supervisor/LlmForward.js';
import type { NativeStatus } from '../supervisor/protocol.js';

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
