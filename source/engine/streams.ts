// Decoders for the Docker API's streaming bodies.
import type { Readable } from 'node:stream';

export type StdStream = 'stdout' | 'stderr';

/**
 * Demultiplexes a non-TTY attach/logs stream: 8-byte headers (stream type, 3 zero bytes, big-endian
 * length) followed by the payload. Frames may be split across chunks in any way.
 */
export async function* demuxFrames(stream: AsyncIterable<Buffer>): AsyncGenerator<{ stream: StdStream; payload: Buffer }> {
	let pending: Buffer = Buffer.alloc(0);
	for await (const chunk of stream) {
		pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
		while (pending.length >= 8) {
			const length = pending.readUInt32BE(4);
			if (pending.length < 8 + length) break;
			const type = pending[0];
			yield { stream: type === 2 ? 'stderr' : 'stdout', payload: pending.subarray(8, 8 + length) };
			pending = pending.subarray(8 + length);
		}
	}
}

/** Newline-delimited JSON objects (events, stats, build and pull progress). */
export async function* jsonLines<T = unknown>(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<T> {
	let pending = '';
	for await (const chunk of stream as AsyncIterable<Buffer>) {
		pending += chunk.toString('utf8');
		let index: number;
		while ((index = pending.indexOf('\n')) >= 0) {
			const line = pending.slice(0, index).trim();
			pending = pending.slice(index + 1);
			if (line) yield JSON.parse(line) as T;
		}
	}
	const rest = pending.trim();
	if (rest) yield JSON.parse(rest) as T;
}
