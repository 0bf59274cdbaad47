import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatUptime, uptimeChangesInMs, uptimeLateMs, uptimeRedrawInMs } from './format.js';

const started = '2026-12-07T00:00:00.000Z';
const at = (ms: number) => Date.parse(started) + ms;

test('uptimes read as docker ps and pm2 show them, and say when their text next changes', () => {
	assert.equal(formatUptime(started, at(45_400)), '45s');
	assert.equal(uptimeChangesInMs(started, at(45_400)), 600);
	assert.equal(formatUptime(started, at(7 * 60_000 + 46_000)), '7m');
	assert.equal(uptimeChangesInMs(started, at(7 * 60_000 + 46_000)), 14_000);
	assert.equal(formatUptime(started, at(3 * 3_600_000 + 7 * 60_000)), '3h07m');
	assert.equal(formatUptime(started, at(50 * 3_600_000)), '2d02h');
	assert.equal(uptimeChangesInMs(started, at(50 * 3_600_000 + 1000)), 3_599_000);
	// the text is the same until then, and another one right after
	for (const now of [at(59_999), at(7 * 60_000 + 46_000), at(5 * 3_600_000 + 1234)]) {
		const next = now + uptimeChangesInMs(started, now);
		assert.equal(formatUptime(started, next - 1), formatUptime(started, now));
		assert.notEqual(formatUptime(started, next), formatUptime(started, now));
	}
	assert.equal(formatUptime(null, at(0)), '-');
	assert.equal(uptimeChangesInMs(null, at(0)), Number.POSITIVE_INFINITY);
});

test('the clock wakes for an uptime in minutes up to uptimeLateMs late, for seconds on time', () => {
	const started = '2026-01-01T00:00:00.000Z';
	const at = (ms: number) => Date.parse(started) + ms;
	assert.equal(uptimeRedrawInMs(started, at(45_400)), 600);
	assert.equal(uptimeRedrawInMs(started, at(59_500)), 500, 'the turn to 1m: on time');
	assert.equal(uptimeRedrawInMs(started, at(7 * 60_000 + 46_000)), 14_000 + uptimeLateMs);
	assert.equal(uptimeRedrawInMs(null, at(0)), Number.POSITIVE_INFINITY);
});
