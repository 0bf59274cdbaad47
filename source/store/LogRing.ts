// A bounded ring buffer of log lines: O(1) push, O(1) indexed read, oldest lines overwritten.
// The dashboard keeps one per service plus one for all services together, so a log flood costs a
// fixed amount of memory however long it lasts.
//
// The ring holds no object per line. A line is numbers in typed arrays (seq, time, stream, and where
// its text lies) plus two pointers: its service's name and the chunk its text is a slice of (LogBook
// joins a batch's lines of one service into one string). The text is cut out, cleaned (no ANSI, tabs
// as spaces) and made a LogEntry only when `at` asks for it: for the lines on screen, and for the
// lines a filter scans. Under a 5,000 lines/s flood each line used to be an entry object plus a string
// that lived 2 s, long enough to be promoted to the old generation and collected there; now a batch
// of a few hundred lines is one string.
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';

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

/** Columns start this long and double up to the capacity: an idle service's ring stays small. */
const initialSlots = 256;

export class LogRing {
	private slots: number;
	private seqs: Float64Array;
	private times: Float64Array;
	private starts: Uint32Array;
	private ends: Uint32Array;
	/** 1 for stderr */
	private errs: Uint8Array;
	private services: string[];
	private chunks: (string | undefined)[];
	private start = 0;
	private count = 0;

	constructor(readonly capacity: number = defaultRingCapacity) {
		if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LogRing capacity must be a positive integer, got ${capacity}`);
		this.slots = Math.min(capacity, initialSlots);
		this.seqs = new Float64Array(this.slots);
		this.times = new Float64Array(this.slots);
		this.starts = new Uint32Array(this.slots);
		this.ends = new Uint32Array(this.slots);
		this.errs = new Uint8Array(this.slots);
		this.services = new Array(this.slots);
		this.chunks = new Array(this.slots);
	}

	get size(): number {
		return this.count;
	}

	push(entry: LogEntry): void {
		this.pushText(entry.seq, entry.service, entry.stream, entry.timeMs, entry.line, 0, entry.line.length);
	}

	/** A line whose raw text is chunk[start, end) (ANSI and a trailing newline are removed when it is read). */
	pushText(seq: number, service: string, stream: 'stdout' | 'stderr', timeMs: number, chunk: string, start: number, end: number): void {
		let slot: number;
		if (this.count < this.capacity) {
			// not wrapped yet: the ring starts at 0 until it is full
			if (this.count === this.slots) this.grow();
			slot = this.count++;
		} else {
			slot = this.start;
			this.start = this.start + 1 === this.capacity ? 0 : this.start + 1;
		}
		this.seqs[slot] = seq;
		this.times[slot] = timeMs;
		this.starts[slot] = start;
		this.ends[slot] = end;
		this.errs[slot] = stream === 'stderr' ? 1 : 0;
		this.services[slot] = service;
		this.chunks[slot] = chunk;
	}

	/** 0 is the oldest entry kept; a new object each call (callers keep only the visible ones). */
	at(index: number): LogEntry | undefined {
		if (index < 0 || index >= this.count) return undefined;
		const slot = this.slot(index);
		return { seq: this.seqs[slot]!, service: this.services[slot]!, stream: this.errs[slot] === 1 ? 'stderr' : 'stdout', timeMs: this.times[slot]!, line: this.lineOf(slot) };
	}

	/** The cleaned text of the entry at `index` (what at(index).line is), for filters. */
	lineAt(index: number): string | undefined {
		if (index < 0 || index >= this.count) return undefined;
		return this.lineOf(this.slot(index));
	}

	seqAt(index: number): number | undefined {
		if (index < 0 || index >= this.count) return undefined;
		return this.seqs[this.slot(index)];
	}

	/** seq of the oldest entry kept, or Infinity when empty */
	get firstSeq(): number {
		return this.count === 0 ? Number.POSITIVE_INFINITY : this.seqs[this.slot(0)]!;
	}

	/** seq of the newest entry, or -1 when empty */
	get lastSeq(): number {
		return this.count === 0 ? -1 : this.seqs[this.slot(this.count - 1)]!;
	}

	/** Index of the first entry whose seq is ≥ `seq` (binary search: seqs increase along the ring). */
	lowerBound(seq: number): number {
		let lo = 0;
		let hi = this.count;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.seqs[this.slot(mid)]! < seq) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}

	clear(): void {
		this.services.fill(undefined as unknown as string);
		this.chunks.fill(undefined);
		this.start = 0;
		this.count = 0;
	}

	private slot(index: number): number {
		const slot = this.start + index;
		return slot >= this.capacity ? slot - this.capacity : slot;
	}

	private lineOf(slot: number): string {
		const chunk = this.chunks[slot]!;
		const start = this.starts[slot]!;
		const end = this.ends[slot]!;
		return cleanLine(start === 0 && end === chunk.length ? chunk : chunk.slice(start, end));
	}

	/** Only before the ring first fills, when it starts at slot 0. */
	private grow(): void {
		const slots = Math.min(this.capacity, this.slots * 2);
		const widen = <T extends Float64Array | Uint32Array | Uint8Array>(from: T, to: T): T => {
			to.set(from);
			return to;
		};
		this.seqs = widen(this.seqs, new Float64Array(slots));
		this.times = widen(this.times, new Float64Array(slots));
		this.starts = widen(this.starts, new Uint32Array(slots));
		this.ends = widen(this.ends, new Uint32Array(slots));
		this.errs = widen(this.errs, new Uint8Array(slots));
		this.services.length = slots;
		this.chunks.length = slots;
		this.slots = slots;
	}
}

/** No ANSI, no trailing CR/LF, tabs as spaces; other control characters shown escaped (`^M`). */
export function cleanLine(line: string): string {
	const text = sanitizeForTerminal(line.replace(/\r?\n$/, ''), false);
	return text.includes('\t') ? text.replace(/\t/g, '    ') : text;
}
