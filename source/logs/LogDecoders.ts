// Byte streams to LogLines, synchronously and a whole chunk at a time (one call per chunk, not per line:
// `server logs -n 100000` spends its time here). Lines may be split across chunks at any byte; LF and
// CRLF both end a line; invalid UTF-8 becomes U+FFFD; each line is decoded on its own so a kept line
// never pins a large chunk in memory.
import type { LogLine, LogStream } from './LogLine.js';
import { normalizeTime } from './LogLine.js';

/** Longest line kept as one; longer runs without a newline are cut (bounds memory on binary output). */
export const maxLineBytes = 4 * 1024 * 1024;

const epochTime = '1970-01-01T00:00:00.000000000Z';

function decodeLine(buffer: Buffer, start: number, end: number): string {
	if (end > start && buffer[end - 1] === 0x0d) end--;
	return buffer.toString('utf8', start, end);
}

/** Reads the timestamp that starts `buffer` at `start`: returns [time, index after the space] or null. */
function readTimestamp(buffer: Buffer, start: number, end: number): [string, number] | null {
	// fast path: fixed width `2026-01-22T10:00:00.123456789Z `
	if (end - start >= 31 && buffer[start + 30] === 0x20 && buffer[start + 29] === 0x5a && buffer[start + 10] === 0x54) {
		return [buffer.toString('latin1', start, start + 30), start + 31];
	}
	const space = buffer.indexOf(0x20, start);
	if (space === -1 || space >= end || space - start > 40) return null;
	const time = normalizeTime(buffer.toString('latin1', start, space));
	return time === null ? null : [time, space + 1];
}

interface PartialLine {
	parts: Buffer[];
	bytes: number;
	time: string;
}

/**
 * Container logs from the Docker API, requested with `timestamps=1`. Multiplexed (no TTY): 8-byte frame
 * headers, one log message per frame, `<time> <text>`; Docker cuts lines longer than 16 KB into several
 * messages, each with its own timestamp, that this decoder joins again (the line keeps the first time).
 * Raw (TTY): one byte stream, all of it stdout.
 */
export class ContainerLogDecoder {
	private pending: Buffer | null = null;
	private readonly partial: Record<LogStream, PartialLine | null> = { stdout: null, stderr: null };
	private lastTime = epochTime;
	/** log messages seen: Docker's `tail` counts these, and a line longer than 16 KB is several */
	messages = 0;

	constructor(
		readonly service: string,
		readonly multiplexed: boolean,
	) {}

	push(chunk: Buffer, out: LogLine[] = []): LogLine[] {
		if (this.pending) {
			chunk = Buffer.concat([this.pending, chunk]);
			this.pending = null;
		}
		if (!this.multiplexed) return this.pushRaw(chunk, out);
		let offset = 0;
		while (chunk.length - offset >= 8) {
			const length = chunk.readUInt32BE(offset + 4);
			if (chunk.length - offset - 8 < length) break;
			const stream: LogStream = chunk[offset] === 2 ? 'stderr' : 'stdout';
			this.messages++;
			this.message(chunk, offset + 8, offset + 8 + length, stream, out);
			offset += 8 + length;
		}
		if (offset < chunk.length) this.pending = Buffer.from(chunk.subarray(offset));
		return out;
	}

	/** The stream ended: lines still waiting for their newline are emitted as they are. */
	flush(out: LogLine[] = []): LogLine[] {
		if (this.pending && !this.multiplexed) {
			const rest = this.pending;
			this.pending = null;
			this.pushRaw(Buffer.concat([rest, Buffer.from('\n')]), out);
		}
		this.pending = null;
		for (const stream of ['stdout', 'stderr'] as const) {
			const partial = this.partial[stream];
			if (partial) {
				this.partial[stream] = null;
				const joined = Buffer.concat(partial.parts, partial.bytes);
				out.push({ service: this.service, stream, time: partial.time, line: decodeLine(joined, 0, joined.length) });
			}
		}
		return out;
	}

	private message(buffer: Buffer, start: number, end: number, stream: LogStream, out: LogLine[]): void {
		const stamp = readTimestamp(buffer, start, end);
		let time: string;
		if (stamp) {
			[time, start] = stamp;
			this.lastTime = time;
		} else {
			time = this.lastTime;
		}
		// usually exactly one line per message; split anyway in case an engine sends more
		while (start < end) {
			const newline = buffer.indexOf(0x0a, start);
			const lineEnd = newline === -1 || newline >= end ? -1 : newline;
			const partial = this.partial[stream];
			if (lineEnd === -1) {
				const piece = Buffer.from(buffer.subarray(start, end));
				if (partial) {
					partial.parts.push(piece);
					partial.bytes += piece.length;
					if (partial.bytes >= maxLineBytes) this.flushPartial(stream, out);
				} else {
					this.partial[stream] = { parts: [piece], bytes: piece.length, time };
				}
				return;
			}
			if (partial) {
				partial.parts.push(buffer.subarray(start, lineEnd));
				const joined = Buffer.concat(partial.parts);
				this.partial[stream] = null;
				out.push({ service: this.service, stream, time: partial.time, line: decodeLine(joined, 0, joined.length) });
			} else {
				out.push({ service: this.service, stream, time, line: decodeLine(buffer, start, lineEnd) });
			}
			start = lineEnd + 1;
		}
	}

	private flushPartial(stream: LogStream, out: LogLine[]): void {
		const partial = this.partial[stream]!;
		this.partial[stream] = null;
		const joined = Buffer.concat(partial.parts, partial.bytes);
		out.push({ service: this.service, stream, time: partial.time, line: decodeLine(joined, 0, joined.length) });
	}

	private pushRaw(chunk: Buffer, out: LogLine[]): LogLine[] {
		let start = 0;
		for (;;) {
			const newline = chunk.indexOf(0x0a, start);
			if (newline === -1) break;
			const stamp = readTimestamp(chunk, start, newline);
			if (stamp) this.lastTime = stamp[0];
			this.messages++;
			out.push({ service: this.service, stream: 'stdout', time: this.lastTime, line: decodeLine(chunk, stamp ? stamp[1] : start, newline) });
			start = newline + 1;
		}
		if (start < chunk.length) {
			if (chunk.length - start >= maxLineBytes) {
				const stamp = readTimestamp(chunk, start, chunk.length);
				out.push({ service: this.service, stream: 'stdout', time: stamp ? stamp[0] : this.lastTime, line: decodeLine(chunk, stamp ? stamp[1] : start, chunk.length) });
			} else {
				this.pending = Buffer.from(chunk.subarray(start));
			}
		}
		return out;
	}
}

/**
 * A native log file written by the supervisor: `<time> <stdout|stderr> <text>` per line. A line that
 * does not have that shape (written by hand, or cut) is kept, as stdout, with the previous line's time.
 */
export class NativeLogDecoder {
	private pending: Buffer | null = null;
	private lastTime = epochTime;

	constructor(readonly service: string) {}

	push(chunk: Buffer, out: LogLine[] = []): LogLine[] {
		if (this.pending) {
			chunk = Buffer.concat([this.pending, chunk]);
			this.pending = null;
		}
		const end = this.decodeRange(chunk, 0, chunk.length, out);
		if (end < chunk.length) {
			if (chunk.length - end >= maxLineBytes) this.decodeRange(Buffer.concat([chunk.subarray(end), Buffer.from('\n')]), 0, chunk.length - end + 1, out);
			else this.pending = Buffer.from(chunk.subarray(end));
		}
		return out;
	}

	/** End of file reached for good (not following): a last line without newline is emitted. */
	flush(out: LogLine[] = []): LogLine[] {
		if (this.pending) {
			const rest = Buffer.concat([this.pending, Buffer.from('\n')]);
			this.pending = null;
			this.decodeRange(rest, 0, rest.length, out);
		}
		return out;
	}

	/** Decodes the complete lines of buffer[start, end); returns where the incomplete rest begins. */
	decodeRange(buffer: Buffer, start: number, end: number, out: LogLine[]): number {
		const service = this.service;
		for (;;) {
			const newline = buffer.indexOf(0x0a, start);
			if (newline === -1 || newline >= end) return start;
			out.push(this.parse(buffer, start, newline, service));
			start = newline + 1;
		}
	}

	parse(buffer: Buffer, start: number, end: number, service: string): LogLine {
		const stamp = readTimestamp(buffer, start, end);
		if (stamp) {
			const at = stamp[1];
			// `stdout ` / `stderr ` (7 bytes): check the distinguishing bytes only
			if (end - at >= 6 && buffer[at] === 0x73 && buffer[at + 1] === 0x74 && buffer[at + 2] === 0x64 && (end - at === 6 || buffer[at + 6] === 0x20)) {
				const isOut = buffer[at + 3] === 0x6f;
				const isErr = buffer[at + 3] === 0x65;
				if (isOut || isErr) {
					this.lastTime = stamp[0];
					return { service, stream: isErr ? 'stderr' : 'stdout', time: stamp[0], line: decodeLine(buffer, Math.min(at + 7, end), end) };
				}
			}
		}
		return { service, stream: 'stdout', time: this.lastTime, line: decodeLine(buffer, start, end) };
	}
}
