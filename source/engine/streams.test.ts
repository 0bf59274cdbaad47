import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import Docker from 'dockerode';
import { jsonLines } from './streams.ts';
import { dockerFrame } from '../../test/helpers/dockerFrames.ts';

const frame = dockerFrame;

async function* chunks(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
	for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

// `stigmer shell` and `doctor` demultiplex exec output with docker-modem's demuxStream
test('demux (docker-modem): frames split across chunks at every size', () => {
	// (docker-modem concatenates its buffer per chunk: a large frame in 1-byte chunks is quadratic, so 5000 bytes)
	const all = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'x'.repeat(5000))]);
	const modem = new Docker({ socketPath: '/nonexistent.sock' }).modem;
	for (const size of [1, 3, 7, 8, 9, 100, all.length]) {
		const got: Record<'stdout' | 'stderr', number> = { stdout: 0, stderr: 0 };
		const sink = (name: 'stdout' | 'stderr') =>
			new Writable({
				write(chunk: Buffer, _encoding, done) {
					got[name] += chunk.length;
					done();
				},
			});
		const input = new PassThrough();
		modem.demuxStream(input, sink('stdout'), sink('stderr'));
		for (let i = 0; i < all.length; i += size) input.write(all.subarray(i, i + size));
		assert.deepEqual(got, { stdout: 8 + 5000, stderr: 4 }, `chunk size ${size}`);
	}
});

test('json lines: split objects and a last line without newline', async () => {
	const text = Buffer.from('{"a":1}\n\n{"b":"x\\ny"}\n{"c":3}');
	for (const size of [1, 5, 100]) {
		const got: unknown[] = [];
		for await (const o of jsonLines(chunks(text, size))) got.push(o);
		assert.deepEqual(got, [{ a: 1 }, { b: 'x\ny' }, { c: 3 }]);
	}
});

test('json lines: a character split across chunks stays whole (UTF-8)', async () => {
	// ß is 2 bytes, 😀 4, 中 3: every chunk size cuts some of them in the middle
	const objects = [{ stream: 'Größe 😀 中文\n' }, { status: 'ß'.repeat(100) }, { id: 'ünïcödé' }];
	const text = Buffer.from(objects.map((o) => JSON.stringify(o)).join('\n'));
	for (const size of [1, 2, 3, 5, 7, 64]) {
		const got: unknown[] = [];
		for await (const o of jsonLines(chunks(text, size))) got.push(o);
		assert.deepEqual(got, objects, `chunk size ${size}`);
	}
});
