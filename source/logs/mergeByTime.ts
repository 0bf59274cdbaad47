// Merging the lines of several services in time order. History: a k-way merge of per-service lists
// that keeps each service's own order. Live: lines are held for a short reorder window, then released
// as one batch sorted by time (stable, so lines with equal times keep their arrival order). A line that
// arrives after a later line of another service was already released is printed late rather than lost.
import type { LogLine } from './LogLine.js';

/** Merges lists that are each in time order; ties go to the earlier list. */
export function mergeByTime(lists: LogLine[][]): LogLine[] {
	const sources = lists.filter((list) => list.length > 0);
	if (sources.length === 0) return [];
	if (sources.length === 1) return sources[0]!;
	const total = sources.reduce((sum, list) => sum + list.length, 0);
	const out: LogLine[] = new Array(total);
	const index = new Array<number>(sources.length).fill(0);
	for (let k = 0; k < total; k++) {
		let best = -1;
		let bestTime = '';
		for (let s = 0; s < sources.length; s++) {
			const i = index[s]!;
			const list = sources[s]!;
			if (i >= list.length) continue;
			const time = list[i]!.time;
			if (best === -1 || time < bestTime) {
				best = s;
				bestTime = time;
			}
		}
		out[k] = sources[best]![index[best]!]!;
		index[best]!++;
	}
	return out;
}

export interface LiveMergeOptions {
	/** how long a line may wait for earlier lines of other services (ms) */
	windowMs?: number;
	/** lines held before producers are made to wait (backpressure) and a batch is released at once */
	highWater?: number;
}

/**
 * Producers `await push(lines)`; the consumer iterates batches. push() resolves immediately until
 * `highWater` lines are waiting, then only once the consumer has taken a batch, which pauses the
 * producers' reads (and so the engine's and the file's).
 */
export class LiveMerge implements AsyncIterable<LogLine[]> {
	private buffer: LogLine[] = [];
	private timer: NodeJS.Timeout | null = null;
	private ready = false;
	private ended = false;
	private wakeConsumer: (() => void) | null = null;
	private waitingProducers: (() => void)[] = [];
	private readonly windowMs: number;
	private readonly highWater: number;

	constructor(options: LiveMergeOptions = {}) {
		this.windowMs = options.windowMs ?? 30;
		this.highWater = options.highWater ?? 20_000;
	}

	push(lines: LogLine[]): Promise<void> | undefined {
		if (this.ended || lines.length === 0) return undefined;
		for (const line of lines) this.buffer.push(line);
		if (this.buffer.length >= this.highWater) {
			this.release();
			return new Promise((resolve) => this.waitingProducers.push(resolve));
		}
		if (!this.timer && !this.ready) this.timer = setTimeout(() => this.release(), this.windowMs);
		return undefined;
	}

	end(): void {
		this.ended = true;
		this.release();
		for (const resolve of this.waitingProducers.splice(0)) resolve();
	}

	private release(): void {
		if (this.timer) clearTimeout(this.timer);
		this.timer = null;
		this.ready = true;
		const wake = this.wakeConsumer;
		this.wakeConsumer = null;
		wake?.();
	}

	async *[Symbol.asyncIterator](): AsyncGenerator<LogLine[]> {
		for (;;) {
			if (!this.ready) await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
			this.ready = false;
			const batch = this.buffer;
			this.buffer = [];
			for (const resolve of this.waitingProducers.splice(0)) resolve();
			if (batch.length > 0) {
				batch.sort(byTime);
				yield batch;
			}
			if (this.ended && this.buffer.length === 0) return;
		}
	}
}

function byTime(a: LogLine, b: LogLine): number {
	return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}
