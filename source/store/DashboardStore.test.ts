import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { DashboardStore } from './DashboardStore.js';

const sample = { timeMs: 0, cpuPercent: 1, memoryBytes: 2, memoryLimitBytes: 3, networkRxBytes: 4, networkTxBytes: 5, pids: 6 };

test('dispatch notifies subscribers with a new snapshot; no-op actions do not', () => {
	const store = new DashboardStore();
	let calls = 0;
	const unsubscribe = store.subscribe(() => calls++);
	const before = store.getSnapshot();
	store.dispatch({ type: 'wrap/toggle' });
	assert.equal(calls, 1);
	assert.notEqual(store.getSnapshot(), before);
	store.dispatch({ type: 'stats/cleared', service: 'none' });
	assert.equal(calls, 1);
	unsubscribe();
	store.dispatch({ type: 'wrap/toggle' });
	assert.equal(calls, 1);
});

test('log lines and samples are batched into one notification per flush', async () => {
	const store = new DashboardStore({ flushMs: 20 });
	let calls = 0;
	store.subscribe(() => calls++);
	for (let i = 0; i < 1000; i++) store.appendLogs([{ service: 'a', stream: 'stdout', time: '', timeMs: i, line: `\x1b[32m${i}\x1b[0m` }]);
	store.recordSample('a', sample);
	store.recordSample('a', { ...sample, cpuPercent: 9 });
	assert.equal(calls, 0);
	assert.equal(store.logs.all.size, 0);
	await sleep(60);
	assert.equal(calls, 1);
	assert.equal(store.logs.all.size, 1000);
	assert.equal(store.logs.all.at(999)?.line, '999');
	assert.equal(store.getSnapshot().logsVersion, 1);
	assert.equal(store.getSnapshot().resources.a?.latest.cpuPercent, 9);
	assert.equal(store.getSnapshot().resources.a?.cpuHistory.length, 1);
	store.dispose();
});

test('flush applies at once and leaves no timer behind', () => {
	const store = new DashboardStore({ flushMs: 10_000 });
	store.appendLogs([{ service: 'a', stream: 'stderr', time: '', timeMs: 0, line: 'x' }]);
	store.flush();
	assert.equal(store.logs.ring('a').size, 1);
	store.flush();
	assert.equal(store.getSnapshot().logsVersion, 1);
	store.dispose();
});

test('samples alone are applied at most once per stats interval; a log line brings them along sooner', async () => {
	const store = new DashboardStore({ flushMs: 5, statsIntervalMs: 200 });
	let calls = 0;
	store.subscribe(() => calls++);
	store.recordSample('a', sample);
	await sleep(30);
	assert.equal(calls, 1, 'the first sample shows at once');
	store.recordSample('b', sample);
	await sleep(30);
	assert.equal(calls, 1, 'a second source within the interval waits');
	store.recordSample('a', { ...sample, cpuPercent: 7 });
	await sleep(250);
	assert.equal(calls, 2, 'both land in one notification');
	assert.equal(store.getSnapshot().resources.a?.latest.cpuPercent, 7);
	assert.ok(store.getSnapshot().resources.b);
	store.recordSample('a', { ...sample, cpuPercent: 8 });
	store.appendLogs([{ service: 'a', stream: 'stdout', time: '', timeMs: 0, line: 'x' }]);
	await sleep(30);
	assert.equal(calls, 3);
	assert.equal(store.getSnapshot().resources.a?.latest.cpuPercent, 8);
	store.dispose();
});
