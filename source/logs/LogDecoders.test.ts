import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerLogDecoder, NativeLogDecoder } from './LogDecoders.js';
import type { LogLine } from './LogLine.js';
import { dockerFrame } from '../../test/helpers/dockerFrames.js';

const t1 = '2026-01-22T10:00:00.000000001Z';
const t2 = '2026-01-22T10:00:00.000000002Z';
const t3 = '2026-01-22T10:00:00.000000003Z';

const frame = dockerFrame;

/** Feeds `data` cut into pieces of `size` bytes (1 = every possible split point). */
function feed(decoder: ContainerLogDecoder | NativeLogDecoder, data: Buffer, size: number): LogLine[] {
	const out: LogLine[] = [];
	for (let i = 0; i < data.length; i += size) decoder.push(data.subarray(i, i + size), out);
	return decoder.flush(out);
}

test('multiplexed frames: streams, timestamps, CRLF and a last line without newline, split anywhere', () => {
	const data = Buffer.concat([frame(1, `${t1} out one\n`), frame(2, `${t2} err one\r\n`), frame(1, `${t3} no newline`)]);
	for (const size of [1, 3, 7, 8, 9, 50, data.length]) {
		const lines = feed(new ContainerLogDecoder('agent-runner', true), data, size);
		assert.deepEqual(
			lines,
			[
				{ service: 'agent-runner', stream: 'stdout', time: t1, line: 'out one' },
				{ service: 'agent-runner', stream: 'stderr', time: t2, line: 'err one' },
				{ service: 'agent-runner', stream: 'stdout', time: t3, line: 'no newline' },
			],
			`chunks of ${size}`,
		);
	}
});

test('messages Docker cut at 16 KB are joined into one line with the first time', () => {
	const big = 'x'.repeat(1024 * 1024);
	const parts: Buffer[] = [];
	for (let i = 0, n = 0; i < big.length; i += 16 * 1024, n++) {
		const last = i + 16 * 1024 >= big.length;
		parts.push(frame(1, `2026-01-22T10:00:00.${String(n).padStart(9, '0')}Z ${big.slice(i, i + 16 * 1024)}${last ? '\n' : ''}`));
	}
	parts.splice(3, 0, frame(2, `${t3} interleaved stderr\n`));
	const lines = feed(new ContainerLogDecoder('c', true), Buffer.concat(parts), 65536);
	assert.equal(lines.length, 2);
	assert.equal(lines[0]!.line, 'interleaved stderr');
	assert.equal(lines[1]!.line.length, big.length);
	assert.equal(lines[1]!.time, '2026-01-22T10:00:00.000000000Z');
});

test('invalid UTF-8 is replaced, ANSI kept, multi-byte characters survive any split', () => {
	const data = Buffer.concat([frame(1, Buffer.concat([Buffer.from(`${t1} bad `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('\n')])), frame(1, `${t2} \x1b[31mrot\x1b[0m é 日本\n`)]);
	const lines = feed(new ContainerLogDecoder('c', true), data, 1);
	assert.equal(lines[0]!.line, 'bad \ufffd\ufffd\ufffd');
	assert.equal(lines[1]!.line, '\x1b[31mrot\x1b[0m é 日本');
});

test('raw (TTY) stream: all stdout, CRLF removed', () => {
	const data = Buffer.from(`${t1} one\r\n${t2} two\r\n${t3} three`);
	for (const size of [1, 5, data.length]) {
		const lines = feed(new ContainerLogDecoder('c', false), data, size);
		assert.deepEqual(
			lines.map((l) => [l.stream, l.time, l.line]),
			[
				['stdout', t1, 'one'],
				['stdout', t2, 'two'],
				['stdout', t3, 'three'],
			],
		);
	}
});

test('native log file records, split anywhere; malformed lines are kept', () => {
	const data = Buffer.from(`${t1} stdout hello world\n${t2} stderr oops\r\n${t2} stdout \nnot a record\n${t3} stderr`);
	for (const size of [1, 2, 13, data.length]) {
		const lines = feed(new NativeLogDecoder('stigmer-server'), data, size);
		assert.deepEqual(
			lines.map((l) => [l.stream, l.time, l.line]),
			[
				['stdout', t1, 'hello world'],
				['stderr', t2, 'oops'],
				['stdout', t2, ''],
				['stdout', t2, 'not a record'],
				['stderr', t3, ''],
			],
			`chunks of ${size}`,
		);
	}
});
