import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeTime, dockerSince, timeMs } from './LogLine.js';
import { parseSince } from './parseSince.js';

const now = Date.parse('2026-01-22T10:00:00.000Z');

test('durations count back from now', () => {
	assert.equal(parseSince('30s', now), '2026-01-22T09:59:30.000000000Z');
	assert.equal(parseSince('10m', now), '2026-01-22T09:50:00.000000000Z');
	assert.equal(parseSince('2h', now), '2026-01-22T08:00:00.000000000Z');
	assert.equal(parseSince('1d', now), '2026-01-21T10:00:00.000000000Z');
	assert.equal(parseSince('1h30m', now), '2026-01-22T08:30:00.000000000Z');
});

test('RFC 3339 times are normalised to 9 fractional digits in UTC', () => {
	assert.equal(parseSince('2026-01-22T10:00:00Z', now), '2026-01-22T10:00:00.000000000Z');
	assert.equal(parseSince('2026-01-22T10:00:00.5Z', now), '2026-01-22T10:00:00.500000000Z');
	assert.equal(parseSince('2026-01-22T12:00:00.123456789+02:00', now), '2026-01-22T10:00:00.123456789Z');
	assert.equal(parseSince('2026-01-22', now), '2026-01-22T00:00:00.000000000Z');
});

test('anything else is refused', () => {
	for (const bad of ['', '10', 'ten minutes', '10x', '2026-13-45T99:00:00Z', 'yesterday']) assert.equal(parseSince(bad, now), null, bad);
});

test('normalised times compare as strings and convert for the Docker API', () => {
	assert.equal(normalizeTime('2026-01-22T10:00:00.1234Z'), '2026-01-22T10:00:00.123400000Z');
	assert.equal(normalizeTime('garbage'), null);
	assert.equal(dockerSince('2026-01-22T10:00:00.123456789Z'), `${Date.parse('2026-01-22T10:00:00Z') / 1000}.123456789`);
	assert.equal(timeMs('2026-01-22T10:00:00.123456789Z'), Date.parse('2026-01-22T10:00:00.123Z'));
});
