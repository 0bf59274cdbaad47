import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demuxFrames, jsonLines } from '../../source/engine/streams.ts';
import { dockerFrame } from '../helpers/dockerFrames.ts';

const frame = dockerFrame;

async function* chunks(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
	for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
}

test('demux: frames split across chunks at every size', async () => {
	const all = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err\n'), frame(1, ''), frame(1, 'x'.repeat(70_000))]);
	for (const size of [1, 3, 7, 8, 9, 100, 65_536, all.length]) {
		const got: string[] = [];
		for await (const f of demuxFrames(chunks(all, size))) got.push(`${f.stream}:${f.payload.length}`);
		assert.deepEqual(got, ['stdout:8', 'stderr:4', 'stdout:0', 'stdout:70000'], `chunk size ${size}`);
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
