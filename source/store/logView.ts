// Derived views of the log rings: the lines of the chosen scope that match the filter (kept
// incrementally, so a flood costs O(new lines) per flush, not O(ring)), and the window of them that
// fits the pane (visibleFrom/visibleTo, as cli-kit's scrollable lists).
import { wrapCells } from '../terminal/cellWidth.js';
import type { LogEntry, LogRing } from './LogRing.js';

export interface CompiledFilter {
	/** null when there is no filter */
	test: ((line: string) => boolean) | null;
	error?: string;
}

/** `/regex/flags` is a regular expression; anything else a substring, case-insensitive unless it has a capital. */
export function compileFilter(text: string): CompiledFilter {
	if (text === '') return { test: null };
	const regex = /^\/(.+)\/([a-z]*)$/s.exec(text);
	if (regex) {
		try {
			const re = new RegExp(regex[1]!, regex[2]!.replace(/[gy]/g, ''));
			return { test: (line) => re.test(line) };
		} catch (error) {
			return { test: () => false, error: `invalid regex: ${(error as Error).message.replace(/^Invalid regular expression: /, '')}` };
		}
	}
	if (text !== text.toLowerCase()) return { test: (line) => line.includes(text) };
	const lower = text.toLowerCase();
	return { test: (line) => line.toLowerCase().includes(lower) };
}

/** Indexed, seq-ordered lines: a ring itself, or the filtered subset of one. */
export interface LineList {
	readonly length: number;
	at(index: number): LogEntry | undefined;
	/** index of the first line whose seq is ≥ seq */
	lowerBound(seq: number): number;
}

export function ringList(ring: LogRing): LineList {
	return {
		get length() {
			return ring.size;
		},
		at: (i) => ring.at(i),
		lowerBound: (seq) => ring.lowerBound(seq),
	};
}

/**
 * The lines of one ring that match one filter, updated incrementally: each call scans only the lines
 * that arrived since the last call and forgets those the ring has dropped.
 */
export class FilteredLines implements LineList {
	/** seqs of the matching lines (numbers, not entries: the ring builds an entry only when one is read) */
	private matches: number[] = [];
	private head = 0;
	private scannedSeq = 0;

	constructor(
		readonly ring: LogRing,
		readonly filterText: string,
		private readonly test: (line: string) => boolean,
	) {}

	update(): this {
		const ring = this.ring;
		for (let i = ring.lowerBound(this.scannedSeq + 1); i < ring.size; i++) {
			if (this.test(ring.lineAt(i)!)) this.matches.push(ring.seqAt(i)!);
		}
		this.scannedSeq = Math.max(this.scannedSeq, ring.lastSeq);
		const firstKept = ring.firstSeq;
		while (this.head < this.matches.length && this.matches[this.head]! < firstKept) this.head++;
		if (this.head > 4096 && this.head * 2 > this.matches.length) {
			this.matches = this.matches.slice(this.head);
			this.head = 0;
		}
		return this;
	}

	get length(): number {
		return this.matches.length - this.head;
	}

	at(index: number): LogEntry | undefined {
		if (index < 0 || index >= this.length) return undefined;
		return this.ring.at(this.ring.lowerBound(this.matches[this.head + index]!));
	}

	lowerBound(seq: number): number {
		let lo = 0;
		let hi = this.length;
		while (lo < hi) {
			const mid = (lo + hi) >>> 1;
			if (this.matches[this.head + mid]! < seq) lo = mid + 1;
			else hi = mid;
		}
		return lo;
	}
}

/** Caches one FilteredLines per (ring, filter) so repeated renders reuse the scan. */
export class LogViewCache {
	private cached: FilteredLines | null = null;

	lines(ring: LogRing, filterText: string): { list: LineList; error?: string } {
		const filter = compileFilter(filterText);
		if (!filter.test) return { list: ringList(ring) };
		if (!this.cached || this.cached.ring !== ring || this.cached.filterText !== filterText) {
			this.cached = new FilteredLines(ring, filterText, filter.test);
		}
		return { list: this.cached.update(), ...(filter.error ? { error: filter.error } : {}) };
	}
}

export interface LogRow {
	entry: LogEntry;
	/** the text of this screen row (a slice of the line when wrapping) */
	text: string;
	/** first row of its line: carries the prefix */
	first: boolean;
}

export interface LogWindow {
	/** index range [visibleFrom, visibleTo) in the line list */
	visibleFrom: number;
	visibleTo: number;
	rows: LogRow[];
	/** the newest line is visible */
	atBottom: boolean;
	/** seq of the bottom visible line, null when empty */
	bottomSeq: number | null;
}

export interface WindowOptions {
	follow: boolean;
	anchorSeq: number | null;
	/** screen rows available */
	height: number;
	/** columns available for the text (after any prefix) */
	width: number;
	wrap: boolean;
}

/** Splits a line into screen rows of at most `width` terminal cells, between graphemes (terminal/cellWidth.ts). */
export function wrapRows(line: string, width: number): string[] {
	return wrapCells(line, width);
}

/**
 * The lines that fit the pane, bottom-aligned at the tail (follow) or at the anchor line (paused).
 * Only these are ever turned into rows.
 */
export function visibleWindow(list: LineList, options: WindowOptions): LogWindow {
	const height = Math.max(0, options.height);
	if (list.length === 0 || height === 0) return { visibleFrom: 0, visibleTo: 0, rows: [], atBottom: true, bottomSeq: null };
	let visibleTo = list.length;
	if (!options.follow && options.anchorSeq !== null) {
		// the anchor line, or the last line before it when it has been filtered out
		const index = list.lowerBound(options.anchorSeq);
		const exact = list.at(index)?.seq === options.anchorSeq;
		visibleTo = Math.max(1, Math.min(list.length, exact ? index + 1 : index));
	}
	const rows: LogRow[] = [];
	let visibleFrom = visibleTo;
	while (visibleFrom > 0 && rows.length < height) {
		const entry = list.at(visibleFrom - 1)!;
		const parts = options.wrap ? wrapRows(entry.line, options.width) : [entry.line];
		const room = height - rows.length;
		// the top line may not fit: show its last rows, as a terminal scrolled to there would
		const shown = parts.length > room ? parts.slice(-room) : parts;
		const offset = parts.length - shown.length;
		rows.unshift(...shown.map((text, i) => ({ entry, text, first: offset + i === 0 })));
		visibleFrom--;
	}
	return { visibleFrom, visibleTo, rows, atBottom: visibleTo === list.length, bottomSeq: list.at(visibleTo - 1)?.seq ?? null };
}

/**
 * The anchor after scrolling by `delta` lines (negative: up), or null when that reaches the tail
 * (which resumes following, as `less +F` and lazydocker do).
 */
export function scrollAnchor(list: LineList, window: LogWindow, delta: number): number | null {
	if (list.length === 0) return null;
	const bottom = Math.max(1, window.visibleTo) - 1;
	const target = Math.min(list.length - 1, Math.max(0, bottom + delta));
	// never scroll up past the point where the first line sits at the top of a full pane
	const minBottom = Math.min(list.length - 1, Math.max(0, window.visibleTo - window.visibleFrom - 1));
	const clamped = delta < 0 ? Math.max(target, Math.min(bottom, minBottom)) : target;
	if (clamped >= list.length - 1) return null;
	return list.at(clamped)!.seq;
}
