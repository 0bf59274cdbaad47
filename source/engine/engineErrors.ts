// What a failed engine call says: dockerode rejects with `statusCode` (the engine's HTTP status) and
// `json.message` (the engine's own words; its message reads "(HTTP code 404) no such container - …").
// The fast path's raw requests (rawHttp.ts) fail the same way. No dependencies: main.ts loads it.
import { errorMessage } from '../errors.js';

/** The HTTP status of a failed engine call (undefined when the engine was not reached). */
export function engineStatus(error: unknown): number | undefined {
	const status = (error as { statusCode?: unknown } | null)?.statusCode;
	return typeof status === 'number' ? status : undefined;
}

/** The engine's own words ("No such container: x"), not dockerode's "(HTTP code 404) no such container - …". */
export function engineMessage(error: unknown): string {
	const json = (error as { json?: { message?: unknown } } | null)?.json;
	if (typeof json?.message === 'string') return json.message.trim();
	const message = errorMessage(error);
	return /^\(HTTP code \d+\) [^-]*- (.*)$/s.exec(message)?.[1]?.trim() || message.trim();
}

/** The call's result, or null for a 404; any other failure is thrown. */
export async function orNull<T>(call: Promise<T>): Promise<T | null> {
	try {
		return await call;
	} catch (error) {
		if (engineStatus(error) === 404) return null;
		throw error;
	}
}
