import { exitCodes } from './contract.js';

/**
 * An error the user can act on: printed as one line (plus optional hint lines), never with a stack
 * trace, and mapped to the exit code of docs/contract.md.
 */
export class UserError extends Error {
	constructor(
		message: string,
		readonly exitCode: number = exitCodes.failure,
		readonly hint?: string,
	) {
		super(message);
		this.name = 'UserError';
	}
}

export class UsageError extends UserError {
	constructor(message: string, hint?: string) {
		super(message, exitCodes.usage, hint);
		this.name = 'UsageError';
	}
}

export class TimeoutError extends UserError {
	constructor(message: string, hint?: string) {
		super(message, exitCodes.timeout, hint);
		this.name = 'TimeoutError';
	}
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
