import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogRing, type LogEntry } from './LogRing.js';

const entry = (seq: number): LogEntry => ({ seq, service: 'a', stream: 'stdout', timeMs: seq, line: `line ${seq}` });

test('keeps entries in order until full', () => {
	const ring = new LogRing(3);
	assert.equal(ring.size, 0);
	assert.equal(ring.at(0), undefined);
	ring.push(entry(1));
	ring.push(entry(2));
	assert.equal(ring.size, 2);
	assert.deepEqual([ring.at(0)?.seq, ring.at(1)?.seq], [1, 2]);
	assert.equal(ring.firstSeq, 1);
	assert.equal(ring.lastSeq, 2);
});

test('overwrites the oldest entries when full', () => {
	const ring = new LogRing(3);
	for (let i = 1; i <= 7; i++) ring.push(entry(i));
	assert.equal(ring.size, 3);
	assert.deepEqual(
		[0, 1, 2].map((i) => ring.at(i)?.seq),
		[5, 6, 7],
	);
	assert.equal(ring.at(3), undefined);
	assert.equal(ring.at(-1), undefined);
});

test('lowerBound finds a seq after wrapping', () => {
	const ring = new LogRing(4);
	for (let i = 10; i <= 20; i += 2) ring.push(entry(i)); // keeps 14 16 18 20
	assert.equal(ring.lowerBound(0), 0);
	assert.equal(ring.lowerBound(14), 0);
	assert.equal(ring.lowerBound(15), 1);
	assert.equal(ring.lowerBound(20), 3);
	assert.equal(ring.lowerBound(21), 4);
});

// (how fast a push is belongs to bench/dashboard.ts's flood, not to a threshold here: it failed under load)
test('holds 10,000 lines by default, the oldest pushed out', () => {
	const ring = new LogRing();
	assert.equal(ring.capacity, 10_000);
	for (let i = 0; i < 200_000; i++) ring.push(entry(i));
	assert.equal(ring.size, 10_000);
	assert.equal(ring.at(0)?.seq, 190_000);
});

test('rejects a bad capacity', () => {
	assert.throws(() => new LogRing(0), RangeError);
});

test('a line is a slice of its chunk, read cleaned', () => {
	const ring = new LogRing(2);
	const chunk = 'first\x1b[1mbold\x1b[0m\tsecond\r\n';
	ring.pushText(1, 'a', 'stderr', 5, chunk, 0, 5);
	ring.pushText(2, 'a', 'stdout', 6, chunk, 5, chunk.length);
	assert.deepEqual(ring.at(0), { seq: 1, service: 'a', stream: 'stderr', timeMs: 5, line: 'first' });
	assert.deepEqual(ring.at(1), { seq: 2, service: 'a', stream: 'stdout', timeMs: 6, line: 'bold    second' });
	assert.equal(ring.lineAt(1), 'bold    second');
	assert.equal(ring.seqAt(0), 1);
	assert.equal(ring.seqAt(2), undefined);
});
