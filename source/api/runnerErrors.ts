// The errors of the agent-runner's client, each saying what to do: the runner not running (exit 1), a
// refused token or another answer of the API, an event stream lost for too long.
import { exitCodes } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';

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
export const timeoutCode = 'STIGMER_TIMEOUT';

const connectionErrorCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EADDRNOTAVAIL']);

/** A failure to talk to the runner at all (as opposed to an answer from it). */
export function isConnectionError(error: unknown): boolean {
	const code = (error as NodeJS.ErrnoException | undefined)?.code;
	return (code !== undefined && connectionErrorCodes.has(code)) || (error as Error | undefined)?.message === 'socket hang up';
}

export function describeConnectionError(error: unknown): string {
	if (error instanceof AgentRunnerNotRunningError) return error.hint ?? error.message;
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ECONNREFUSED') return 'connection refused';
	if (code === 'ECONNRESET' || (error as Error).message === 'socket hang up') return 'connection reset';
	return errorMessage(error);
}
