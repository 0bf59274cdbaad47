import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LogLine } from './LogLine.js';
import { LiveMerge, mergeByTime } from './mergeByTime.js';

const at = (n: number) => `2026-01-22T10:00:00.${String(n).padStart(9, '0')}Z`;
const line = (service: string, n: number, text = `${service}${n}`): LogLine => ({ service, stream: 'stdout', time: at(n), line: text });

test('k-way merge in time order; ties keep the earlier list first; each list keeps its order', () => {
	const a = [line('a', 1), line('a', 4), line('a', 4, 'a4bis'), line('a', 9)];
	const b = [line('b', 2), line('b', 4), line('b', 10)];
	const c: LogLine[] = [];
	const d = [line('d', 0)];
	assert.deepEqual(
		mergeByTime([a, b, c, d]).map((l) => l.line),
		['d0', 'a1', 'b2', 'a4', 'a4bis', 'b4', 'a9', 'b10'],
	);
	assert.deepEqual(mergeByTime([]), []);
});

test('live lines are released after the window, sorted by time', async () => {
	const live = new LiveMerge({ windowMs: 20 });
	const batches: string[][] = [];
	const consumer = (async () => {
		for await (const batch of live) batches.push(batch.map((l) => l.line));
	})();
	live.push([line('b', 5)]);
	live.push([line('a', 3), line('a', 6)]);
	await new Promise((r) => setTimeout(r, 60));
	live.push([line('a', 7)]);
	await new Promise((r) => setTimeout(r, 60));
	live.end();
	await consumer;
	assert.deepEqual(batches, [['a3', 'b5', 'a6'], ['a7']]);
});

test('producers wait once highWater lines are held, until the consumer takes them', async () => {
	const live = new LiveMerge({ windowMs: 1000, highWater: 3 });
	assert.equal(live.push([line('a', 1), line('a', 2)]), undefined);
	const waiting = live.push([line('a', 3)]);
	assert.ok(waiting instanceof Promise);
	let released = false;
	void waiting.then(() => (released = true));
	await new Promise((r) => setTimeout(r, 10));
	assert.equal(released, false);
	const iterator = live[Symbol.asyncIterator]();
	const first = await iterator.next();
	assert.equal((first.value as LogLine[]).length, 3);
	await new Promise((r) => setTimeout(r, 0));
	assert.equal(released, true);
	live.end();
	assert.equal((await iterator.next()).done, true);
});
