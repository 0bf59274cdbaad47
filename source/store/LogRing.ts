// A bounded ring buffer of log entries: O(1) push, O(1) indexed read, oldest entries overwritten.
// The dashboard keeps one per service plus one for all services together, so a log flood costs a
// fixed amount of memory however long it lasts.

export interface LogEntry {
	/** global arrival order, strictly increasing across all rings: identifies a line for scrolling */
	seq: number;
	service: string;
	stream: 'stdout' | 'stderr';
	/** epoch ms (the source's RFC 3339 text is not kept: a ring holds tens of thousands of entries) */
	timeMs: number;
	/** the text, without ANSI sequences and without the trailing newline */
	line: string;
}

export const defaultRingCapacity = 10_000;

export class LogRing {
	private readonly items: (LogEntry | undefined)[];
	private start = 0;
	private count = 0;

	constructor(readonly capacity: number = defaultRingCapacity) {
		if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LogRing capacity must be a positive integer, got ${capacity}`);
		this.items = new Array(capacity);
	}

	get size(): number {
		return this.count;
	}

	push(entry: LogEntry): void {
		if (this.count < this.capacity) {
			this.items[(this.start + this.count) % this.capacity] = entry;
			this.count++;
		} else {
			this.items[this.start] = entry;
			this.start = (this.start + 1) % this.capacity;
		}
	}

	/** 0 is the oldest entry kept. */
	at(index: number): LogEntry | undefined {
		if (index < 0 || index >= this.count) return undefined;
		return this.items[(this.start + index) % this.capacity];
	}

	/** seq of the oldest entry kept, or Infinity when empty */
	get firstSeq(): number {
		return this.at(0)?.seq ?? Number.POSITIVE_INFINITY;
	}

	/** seq of the newest entry, or -1 when empty */
	get lastSeq(): number {
		return this.at(this.count - 1)?.seq ?? -1;
	}

	/** Index of the first entry whose seq is ≥ `seq` (binary search: seqs increase along the ring). */
	lowerBound(seq: number): number {
		let lo = 0;
		let hi = this.count;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.at(mid)!.seq < seq) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	clear(): void {
		this.items.fill(undefined);
		this.start = 0;
		this.count = 0;
	}
}
