// Newline-delimited JSON, as the engine streams events, stats, build and pull progress. dockerode hands
// these over as raw byte streams (its followProgress decodes chunk by chunk, so a character split
// across two chunks comes out as `Gr��ße`): lines are cut on bytes here and decoded whole.
import type { Readable } from 'node:stream';

export type StdStream = 'stdout' | 'stderr';

const newline = 0x0a;

export async function* jsonLines<T = unknown>(stream: Readable | AsyncIterable<Buffer>): AsyncGenerator<T> {
	let pending: Buffer = Buffer.alloc(0);
	for await (const chunk of stream as AsyncIterable<Buffer>) {
		let buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
		let index: number;
		while ((index = buffer.indexOf(newline)) >= 0) {
			const line = buffer.toString('utf8', 0, index).trim();
			buffer = buffer.subarray(index + 1);
			if (line) yield JSON.parse(line) as T;
		}
		// a copy: the rest must not pin the whole chunk
		pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
	}
	const rest = pending.toString('utf8').trim();
	if (rest) yield JSON.parse(rest) as T;
}
