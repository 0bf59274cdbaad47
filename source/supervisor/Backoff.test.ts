import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, CrashLoopDetector } from './Backoff.js';

test('doubles from the initial delay up to the cap', () => {
	const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 });
	const delays = Array.from({ length: 9 }, () => backoff.next(100));
	assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
});

test('a run that lasted long enough resets the delay', () => {
	const backoff = new Backoff({ initialMs: 500, maxMs: 30_000, resetAfterMs: 30_000 });
	backoff.next(0);
	backoff.next(0);
	assert.equal(backoff.next(0), 2000);
	assert.equal(backoff.next(30_000), 500);
	assert.equal(backoff.next(10), 1000);
});

test('a crash loop is that many failures within the window', () => {
	const detector = new CrashLoopDetector({ failures: 3, windowMs: 60_000 });
	assert.equal(detector.record(0), false);
	assert.equal(detector.record(30_000), false);
	assert.equal(detector.record(70_000), false); // the first one left the window
	assert.equal(detector.record(71_000), true);
	detector.reset();
	assert.equal(detector.record(72_000), false);
});
