import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NanoClock, formatRfc3339Nano } from './NanoClock.js';

test('formats nanoseconds since the epoch as RFC 3339 UTC', () => {
	assert.equal(formatRfc3339Nano(1769076000123456789n), '2026-01-22T10:00:00.123456789Z');
	assert.equal(formatRfc3339Nano(0n), '1970-01-01T00:00:00.000000000Z');
	assert.equal(formatRfc3339Nano(1769076000000000005n), '2026-01-22T10:00:00.000000005Z');
});

test('anchors the monotonic clock to the wall clock', () => {
	const clock = new NanoClock(1769076000000, 1000n);
	assert.equal(formatRfc3339Nano(clock.nowNs(1001n + 123_456_788n)), '2026-01-22T10:00:00.123456789Z');
});

test('never goes back, even for equal readings', () => {
	const clock = new NanoClock(1769076000000, 0n);
	const a = clock.nowNs(500n);
	const b = clock.nowNs(500n);
	const c = clock.nowNs(100n);
	assert.ok(a < b && b < c);
	const now = new NanoClock();
	const first = now.now();
	assert.match(first, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
	assert.ok(now.now() > first);
});
