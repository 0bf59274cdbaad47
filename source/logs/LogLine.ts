// One log line of one service, as the log sources produce it and `server logs` and the dashboard
// consume it. `time` is always normalised to the fixed-width UTC form
// `2026-01-22T10:00:00.123456789Z` (30 characters), so that comparing two times is a plain string
// comparison: no Date parsing per line on the hot path.
import type { StdStream } from '../engine/streams.js';

export type LogStream = StdStream;

export interface LogLine {
	service: string;
	stream: LogStream;
	/** RFC 3339, UTC, exactly 9 fractional digits; sortable as a string */
	time: string;
	/** the text without its line terminator (LF or CRLF); invalid UTF-8 replaced by U+FFFD; ANSI kept */
	line: string;
}

const fixedLength = 30; // 2026-01-22T10:00:00.123456789Z

/**
 * Brings an RFC 3339 time to the fixed-width UTC form. Docker and the supervisor already write it
 * (fast path); other engines may trim trailing zeros or use an offset. Returns null when unparsable.
 */
export function normalizeTime(text: string): string | null {
	if (text.length === fixedLength && text.charCodeAt(29) === 0x5a /* Z */ && text.charCodeAt(19) === 0x2e /* . */) return text;
	const match = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})$/.exec(text);
	if (!match) return null;
	const [, date, clock, fraction = '', zone] = match;
	const nanos = fraction.slice(0, 9).padEnd(9, '0');
	if (zone === 'Z' || zone === 'z') return `${date}T${clock}.${nanos}Z`;
	const ms = Date.parse(`${date}T${clock}${zone!.length === 5 ? `${zone!.slice(0, 3)}:${zone!.slice(3)}` : zone}`);
	if (Number.isNaN(ms)) return null;
	return `${new Date(ms).toISOString().slice(0, 19)}.${nanos}Z`;
}

/** Milliseconds since the epoch of a normalised time (for display and arithmetic, not for ordering). */
export function timeMs(time: string): number {
	return Date.parse(`${time.slice(0, 23)}Z`);
}

/** The normalised time of a millisecond instant. */
export function timeFromMs(ms: number): string {
	return `${new Date(ms).toISOString().slice(0, 23)}000000Z`;
}

/** The `since` parameter of the Docker API (seconds.nanoseconds since the epoch) for a normalised time. */
export function dockerSince(time: string): string {
	const seconds = Math.floor(Date.parse(`${time.slice(0, 19)}Z`) / 1000);
	return `${seconds}.${time.slice(20, 29)}`;
}
