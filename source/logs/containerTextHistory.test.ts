// The fast path's encoder against the general path (ContainerLogDecoder → last N → sort → LogFormatter)
// on the same bytes: the same output whenever it succeeds, split at any byte; and it gives up on what
// only the general path handles.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContainerTextEncoder } from './containerTextHistory.js';
import { ContainerLogDecoder } from './LogDecoders.js';
import { LogFormatter } from './LogFormatter.js';
import type { LogLine } from './LogLine.js';
import { dockerFrame } from '../../test/helpers/dockerFrames.js';

const time = (n: number) => `2026-01-22T10:00:00.${String(n).padStart(9, '0')}Z`;

const frame = dockerFrame;

const services = ['agent-runner', 'stigmer-server'];

function general(data: Buffer, tail: number | undefined, timestamps: boolean, color: boolean): string {
	const decoder = new ContainerLogDecoder('agent-runner', true);
	let lines: LogLine[] = [];
	decoder.push(data, lines);
	decoder.flush(lines);
	if (tail !== undefined && lines.length > tail) lines = lines.slice(lines.length - tail);
	lines.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
	return new LogFormatter({ json: false, timestamps, color, services }).formatBatch(lines);
}

function fast(data: Buffer, size: number, tail: number | undefined, timestamps: boolean, color: boolean): string | null {
	const prefix = Buffer.from(new LogFormatter({ json: false, timestamps, color, services }).prefixOf('agent-runner'));
	const encoder = new ContainerTextEncoder(prefix, timestamps, color);
	for (let i = 0; i < data.length; i += size) encoder.push(data.subarray(i, i + size));
	const out = encoder.result(tail);
	return out && Buffer.concat(out).toString('utf8');
}

const plain = Buffer.concat([
	frame(1, `${time(1)} first line\n`),
	frame(2, `${time(2)} err \x1b[31mred\x1b[0m and \x1b[2Kcursor\n`),
	frame(1, `${time(2)} same time, crlf\r\n`),
	frame(1, `${time(3)} tab\tand "quotes" \\ backslash\n`),
	frame(2, Buffer.concat([Buffer.from(`${time(4)} raw `), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(' end\n')])),
	frame(1, `${time(5)} ünïcödé ✓ \u009b31m csi\n`),
	frame(1, `${time(5)} hostile \x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x1b\\\x1bPq\x1b\\\x1b[1A\x1b[32mgreen\x1b[0m\rINFO forged\x07\x7f\n`),
	frame(1, `${time(6)} \n`),
	frame(1, `${time(7)} last\n`),
]);

test('the same bytes as the general path, split at any byte, with and without colour, timestamps and tail', () => {
	const hostile = (out: string) => out.split('\n').find((l) => l.includes('hostile'));
	for (const size of [1, 2, 7, 8, 9, 31, 64, plain.length]) {
		for (const timestamps of [false, true]) {
			for (const color of [false, true]) {
				for (const tail of [undefined, 9, 8]) {
					// Docker was asked for tail + 1 messages: one more than there are lines at most
					const got = fast(plain, size, tail, timestamps, color);
					assert.equal(got, general(plain, tail, timestamps, color), `size ${size} timestamps ${timestamps} color ${color} tail ${tail}`);
				}
			}
		}
	}
	assert.match(fast(plain, 5, undefined, false, false)!, /^agent-runner {3}\| first line\nagent-runner {3}\| err red and cursor\n/);
	// only SGR survives, with colour; a CR, BEL and DEL are shown escaped
	assert.equal(hostile(fast(plain, 5, undefined, false, false)!), 'agent-runner   | hostile green^MINFO forged^G^?');
	assert.equal(hostile(fast(plain, 5, undefined, false, true)!)!.replace(/^.*?\| /, ''), 'hostile \x1b[32mgreen\x1b[0m^MINFO forged^G^?');
});

test('many lines across output buffers, the first one dropped for -n', () => {
	const frames: Buffer[] = [];
	for (let i = 0; i < 30_001; i++) frames.push(frame(i % 7 === 0 ? 2 : 1, `${time(i)} line ${i} ${'x'.repeat(i % 100)}\n`));
	const data = Buffer.concat(frames);
	assert.equal(fast(data, 65_536, 30_000, false, false), general(data, 30_000, false, false));
	assert.equal(fast(data, 65_536, undefined, true, false), general(data, undefined, true, false));
});

test('gives up on what only the general path handles', () => {
	const cases: [string, Buffer][] = [
		['out of order', Buffer.concat([frame(1, `${time(2)} b\n`), frame(2, `${time(1)} a\n`)])],
		['a line cut into messages', Buffer.concat([frame(1, `${time(1)} part`), frame(1, `${time(2)} rest\n`)])],
		['no newline at the end', frame(1, `${time(1)} last`)],
		['two lines in one message', frame(1, `${time(1)} one\ntwo\n`)],
		['another time format', frame(1, `2026-01-22T10:00:00.1Z short time\n`)],
	];
	for (const [name, data] of cases) assert.equal(fast(data, data.length, undefined, false, false), null, name);
	const three = Buffer.concat([frame(1, `${time(1)} a\n`), frame(1, `${time(2)} b\n`), frame(1, `${time(3)} c\n`)]);
	assert.equal(fast(three, 4, 1, false, false), null, 'more lines than tail + 1');
	assert.equal(fast(three, 4, 2, false, false), 'agent-runner   | b\nagent-runner   | c\n');
});
