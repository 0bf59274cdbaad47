import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { ExecutionSummary } from '../api/AgentRunnerClient.js';
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
	// the lines are in the rings at once (no line waits as an object), announced with the flush
	assert.equal(calls, 0);
	assert.equal(store.logs.all.size, 1000);
	assert.equal(store.getSnapshot().logsVersion, 0);
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

const summary = (id: string, status: ExecutionSummary['status'], steps: number): ExecutionSummary => ({
	id,
	agent: 'bench',
	status,
	steps,
	tool: status === 'running' ? 'run_command' : null,
	error: null,
	created_at: `2026-11-30T10:00:0${id.length % 10}.000Z`,
	started_at: '2026-11-30T10:00:10.000Z',
	finished_at: status === 'running' ? null : '2026-11-30T10:00:20.000Z',
});

/** A store whose executions are watched: each notification's rows, and every executions/upserted action it applied. */
function watchedStore() {
	const store = new DashboardStore({ flushMs: 75 });
	const applied: ExecutionSummary[][] = [];
	const dispatch = store.dispatch;
	store.dispatch = (action) => {
		if (action.type === 'executions/upserted') applied.push(action.summaries);
		dispatch(action);
	};
	let notifications = 0;
	store.subscribe(() => notifications++);
	return { store, applied, notifications: () => notifications };
}

test('executions: the first change after a quiet spell is applied at once; a busy spell is one update per window, with the last state of each execution', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const { store, applied, notifications } = watchedStore();
	store.upsertExecutions([summary('ex-a', 'running', 0)]);
	assert.equal(notifications(), 1, 'at once');
	// 20 executions, 10 changes each, within 50 ms
	for (let step = 1; step <= 10; step++) {
		t.mock.timers.tick(5);
		for (let i = 0; i < 20; i++) store.upsertExecutions([summary(`ex-${i}`, 'running', step)]);
	}
	assert.equal(notifications(), 1, 'nothing more before the window ends');
	t.mock.timers.tick(100);
	assert.equal(notifications(), 2, 'one update for 200 changes');
	assert.equal(applied.length, 2);
	assert.equal(applied[1]!.length, 20, 'one summary per execution');
	assert.ok(
		applied[1]!.every((s) => s.steps === 10),
		'the last state of each',
	);
	const rows = store.getSnapshot().executions.rows;
	assert.equal(rows.length, 21);
	assert.ok(rows.filter((r) => r.id !== 'ex-a').every((r) => r.steps === 10));
	t.mock.timers.tick(1000);
	assert.equal(notifications(), 2, 'no timer left behind');
	store.dispose();
});

test('executions: a terminal state in a batch is never lost nor overtaken, and a reset drops what was queued before it', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const { store, applied } = watchedStore();
	store.upsertExecutions([summary('ex-a', 'running', 1)]);
	// within one window: a finishes, b runs on, c fails; b's and a's order interleaved
	store.upsertExecutions([summary('ex-b', 'running', 1)]);
	store.upsertExecutions([summary('ex-a', 'running', 2)]);
	store.upsertExecutions([summary('ex-a', 'succeeded', 3), summary('ex-b', 'running', 2)]);
	store.upsertExecutions([summary('ex-c', 'running', 1), summary('ex-c', 'failed', 1)]);
	store.upsertExecutions([summary('ex-b', 'running', 3)]);
	t.mock.timers.tick(100);
	assert.equal(applied.length, 2);
	const byId = new Map(store.getSnapshot().executions.rows.map((r) => [r.id, r]));
	assert.equal(byId.get('ex-a')?.status, 'succeeded');
	assert.equal(byId.get('ex-a')?.steps, 3);
	assert.equal(byId.get('ex-b')?.steps, 3);
	assert.equal(byId.get('ex-c')?.status, 'failed');
	// a terminal state that arrives last in a window is the one applied, whatever came before
	t.mock.timers.tick(200);
	store.upsertExecutions([summary('ex-d', 'running', 1)]);
	store.upsertExecutions([summary('ex-d', 'running', 2), summary('ex-d', 'cancelled', 2)]);
	t.mock.timers.tick(100);
	assert.equal(store.getSnapshot().executions.rows.find((r) => r.id === 'ex-d')?.status, 'cancelled');
	// queued changes from before a reset never come back after it
	store.upsertExecutions([summary('ex-e', 'running', 1)]);
	store.dispatch({ type: 'executions/reset' });
	store.upsertExecutions([summary('ex-f', 'running', 1)]);
	t.mock.timers.tick(100);
	assert.deepEqual(
		store.getSnapshot().executions.rows.map((r) => r.id),
		['ex-f'],
	);
	store.dispose();
});

test('executions: a row that did not change keeps its object (memoised rows are not redrawn)', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const { store } = watchedStore();
	store.upsertExecutions([summary('ex-a', 'running', 1), summary('ex-b', 'running', 1)]);
	const before = store.getSnapshot().executions.rows;
	t.mock.timers.tick(200);
	store.upsertExecutions([summary('ex-a', 'running', 2), summary('ex-b', 'running', 1)]);
	const after = store.getSnapshot().executions.rows;
	assert.notEqual(after, before);
	assert.equal(
		after.find((r) => r.id === 'ex-b'),
		before.find((r) => r.id === 'ex-b'),
	);
	assert.notEqual(
		after.find((r) => r.id === 'ex-a'),
		before.find((r) => r.id === 'ex-a'),
	);
	store.dispose();
});

test('while changes keep coming, a batch every busyFlushMs; a state change keeps the short window; quiet again, the short one', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const store = new DashboardStore({ flushMs: 100, busyFlushMs: 200 });
	const at: number[] = [];
	store.subscribe(() => at.push(Date.now() - 1_000_000));
	// in 10 ms steps: a mocked Date reads the end of a tick in the timers that tick fires
	const advance = (ms: number) => {
		for (let done = 0; done < ms; done += 10) t.mock.timers.tick(10);
	};
	const line = (i: number) => ({ service: 'a', stream: 'stdout' as const, time: '', timeMs: i, line: `l${i}` });
	// a flood: a line every 10 ms for 1 s
	for (let ms = 0; ms < 1000; ms += 10) {
		store.appendLogs([line(ms)]);
		t.mock.timers.tick(10);
	}
	assert.deepEqual(at, [100, 300, 500, 700, 900], 'the first batch 100 ms after the first line, then one each 200 ms');
	advance(500);
	assert.deepEqual(at.slice(5), [1100], 'the rest of the flood');
	assert.equal(store.logs.all.size, 100);
	// quiet: one line shows 100 ms after it arrives
	at.length = 0;
	store.appendLogs([line(2000)]);
	advance(100);
	assert.deepEqual(at, [1600]);

	// 3 running executions changing every 10 ms (steps), then one of them finishes mid-window
	at.length = 0;
	advance(1000);
	store.upsertExecutions([summary('ex-a', 'running', 0), summary('ex-b', 'running', 0), summary('ex-c', 'running', 0)]);
	assert.deepEqual(at, [2600], 'the first change after a quiet spell: at once');
	for (let step = 1; step <= 30; step++) {
		t.mock.timers.tick(10);
		store.upsertExecutions([summary('ex-a', 'running', step), summary('ex-b', 'running', step)]);
		if (step === 25) store.upsertExecutions([summary('ex-c', 'succeeded', 1)]);
	}
	advance(1000);
	assert.deepEqual(at, [2600, 2800, 2900, 3100], 'steps at the busy beat; the state change (at 2850) 100 ms after the last batch (2800)');
	const rows = new Map(store.getSnapshot().executions.rows.map((r) => [r.id, r]));
	assert.equal(rows.get('ex-c')?.status, 'succeeded');
	assert.equal(rows.get('ex-a')?.steps, 30);
	store.dispose();
});

test('changes in clumps (20 executions whose model answers every 150 ms): the busy beat holds, whatever their rhythm', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const store = new DashboardStore({ flushMs: 100, busyFlushMs: 250 });
	const at: number[] = [];
	store.subscribe(() => at.push(Date.now() - 1_000_000));
	const line = (i: number) => ({ service: 'a', stream: 'stdout' as const, time: '', timeMs: i, line: `l${i}` });
	// a clump every 150 ms for 3 s: each comes 50-150 ms after a batch, which was a "quiet spell" of
	// flushMs to the rule before (batches 200 ms apart, 5 a second, with a beat of 250)
	for (let ms = 0; ms < 3000; ms += 10) {
		if (ms % 150 === 0) store.appendLogs([line(ms)]);
		t.mock.timers.tick(10);
	}
	t.mock.timers.tick(1000);
	assert.equal(at[0], 100, 'the first clump after a quiet spell: flushMs after it');
	const gaps = at.slice(1).map((time, i) => time - at[i]!);
	assert.ok(
		gaps.every((gap) => gap >= 250),
		`batches at least busyFlushMs apart: ${at.join(' ')}`,
	);
	assert.equal(store.logs.all.size, 20, 'no line lost');
	store.dispose();
});
