import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { LogLine } from './LogLine.js';
import { NativeLogSource, tailStart } from './NativeLogSource.js';

const at = (n: number) => `2026-01-22T10:00:00.${String(n).padStart(9, '0')}Z`;
const record = (n: number) => `${at(n)} stdout line ${n}\n`;

test('tailStart finds the last N lines and stops at --since', () => {
	const buffer = Buffer.from([1, 2, 3, 4, 5].map(record).join(''));
	const lastTwo = tailStart(buffer, buffer.length, 2, undefined);
	assert.equal(buffer.subarray(lastTwo.start).toString(), record(4) + record(5));
	assert.equal(lastTwo.complete, true);
	const all = tailStart(buffer, buffer.length, 10, undefined);
	assert.deepEqual([all.start, all.count, all.complete], [0, 5, false]);
	const since = tailStart(buffer, buffer.length, undefined, at(3));
	assert.equal(buffer.subarray(since.start).toString(), record(3) + record(4) + record(5));
	assert.equal(since.complete, true);
	assert.deepEqual(tailStart(Buffer.alloc(0), 0, 5, undefined), { start: 0, count: 0, complete: false });
});

function source(file: string, signal: AbortSignal) {
	return new NativeLogSource({ file, service: 'svc', signal, onNotice: () => undefined, pollMs: 50 });
}

test('history reads rotated files when -n needs them', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-logs-'));
	try {
		const file = path.join(dir, 'svc.log');
		writeFileSync(`${file}.2`, record(1) + record(2));
		writeFileSync(`${file}.1`, record(3) + record(4));
		writeFileSync(file, record(5));
		const lines = await source(file, new AbortController().signal).history(4, undefined, false);
		assert.deepEqual(
			lines.map((l) => l.line),
			['line 2', 'line 3', 'line 4', 'line 5'],
		);
		const since = await source(file, new AbortController().signal).history(undefined, at(4), false);
		assert.deepEqual(
			since.map((l) => l.line),
			['line 4', 'line 5'],
		);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
});

test('follow continues across rotation and truncation without loss or duplicates', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-logs-'));
	const controller = new AbortController();
	try {
		const file = path.join(dir, 'svc.log');
		writeFileSync(file, record(1));
		const src = source(file, controller.signal);
		assert.deepEqual(
			(await src.history(undefined, undefined, true)).map((l) => l.line),
			['line 1'],
		);
		const got: LogLine[] = [];
		const following = src.follow((lines) => {
			got.push(...lines);
			return undefined;
		});
		const waitFor = async (count: number) => {
			for (let i = 0; i < 100 && got.length < count; i++) await new Promise((r) => setTimeout(r, 20));
			assert.equal(got.length, count);
		};
		appendFileSync(file, `${record(2)}${at(3)} stdout half`);
		await waitFor(1);
		appendFileSync(file, ' done\n');
		await waitFor(2);
		appendFileSync(file, record(4));
		renameSync(file, `${file}.1`); // rotation: the old file ends, a new one appears
		writeFileSync(file, record(5));
		await waitFor(4);
		writeFileSync(file, ''); // truncation (a file that shrinks), then more lines
		await new Promise((r) => setTimeout(r, 200));
		appendFileSync(file, record(6));
		await waitFor(5);
		controller.abort();
		await following;
		assert.deepEqual(
			got.map((l) => l.line),
			['line 2', 'half done', 'line 4', 'line 5', 'line 6'],
		);
	} finally {
		controller.abort();
		rmSync(dir, { recursive: true, force: true });
	}
});

test('with paceMs, writes after a read wait for the pace (none read during it) and abort ends the pause at once; without, each is read', async () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-logs-'));
	const controller = new AbortController();
	try {
		const file = path.join(dir, 'svc.log');
		writeFileSync(file, '');
		const src = new NativeLogSource({ file, service: 'svc', signal: controller.signal, onNotice: () => undefined, pollMs: 50, paceMs: 60_000 });
		await src.history(undefined, undefined, true);
		const batches: string[][] = [];
		const following = src.follow((lines) => {
			batches.push(lines.map((l) => l.line));
			return undefined;
		});
		// the first write is read as it comes; the 40 after it wait for the pace (a minute): none is read
		appendFileSync(file, record(1));
		const deadline = Date.now() + 10_000;
		while (batches.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
		assert.deepEqual(batches, [['line 1']]);
		for (let n = 2; n <= 41; n++) {
			appendFileSync(file, record(n));
			await new Promise((resolve) => setImmediate(resolve));
		}
		assert.deepEqual(batches, [['line 1']], 'nothing read while the pace holds');
		controller.abort();
		await following; // ends at once: the pause is not waited out
		assert.deepEqual(batches, [['line 1']]);
		// without a pace, the same writes are all read
		const again = new AbortController();
		const unpaced = new NativeLogSource({ file, service: 'svc', signal: again.signal, onNotice: () => undefined, pollMs: 50 });
		await unpaced.history(undefined, undefined, true);
		const seen: string[] = [];
		const followingAgain = unpaced.follow((lines) => {
			seen.push(...lines.map((l) => l.line));
			return undefined;
		});
		for (let n = 42; n <= 61; n++) appendFileSync(file, record(n));
		while (seen.length < 20 && Date.now() < deadline + 10_000) await new Promise((resolve) => setTimeout(resolve, 10));
		again.abort();
		await followingAgain;
		assert.deepEqual(
			seen,
			Array.from({ length: 20 }, (_, i) => `line ${42 + i}`),
		);
	} finally {
		controller.abort();
		rmSync(dir, { recursive: true, force: true });
	}
});
