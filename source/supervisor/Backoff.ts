// Restart timing for native services: exponential backoff that resets once a run lasted long enough,
// and a crash-loop detector (too many failures in a sliding window → give up, state `failed`).

export interface BackoffOptions {
	initialMs: number;
	maxMs: number;
	/** a run that lasted this long resets the delay to initialMs */
	resetAfterMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 };

export class Backoff {
	private nextMs: number;

	constructor(private readonly options: BackoffOptions = defaultBackoff) {
		this.nextMs = options.initialMs;
	}

	/** Delay before the next restart, given how long the run that just ended lasted. */
	next(uptimeMs: number): number {
		if (uptimeMs >= this.options.resetAfterMs) this.nextMs = this.options.initialMs;
		const delay = this.nextMs;
		this.nextMs = Math.min(this.nextMs * 2, this.options.maxMs);
		return delay;
	}

	reset(): void {
		this.nextMs = this.options.initialMs;
	}
}

export interface CrashLoopOptions {
	failures: number;
	windowMs: number;
}

export const defaultCrashLoop: CrashLoopOptions = { failures: 5, windowMs: 60_000 };

export class CrashLoopDetector {
	private times: number[] = [];

	constructor(private readonly options: CrashLoopOptions = defaultCrashLoop) {}

	/** Records a failure at `nowMs`; true when it makes a crash loop. */
	record(nowMs: number): boolean {
		this.times = this.times.filter((t) => nowMs - t < this.options.windowMs);
		this.times.push(nowMs);
		return this.times.length >= this.options.failures;
	}

	reset(): void {
		this.times = [];
	}
}
