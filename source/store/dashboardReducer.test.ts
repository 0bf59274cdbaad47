import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ServiceStatus } from '../serviceStatus.js';
import { dashboardReducer as reduce, type DashboardAction } from './dashboardReducer.js';
import { type DashboardState, type ResourceSample, historyCellMs, historySeconds, initialDashboardState } from './dashboardState.js';

const native = (name: string, state: ServiceStatus['state'] = 'running'): ServiceStatus => ({ name, kind: 'native', state, health: null, restarts: 0, exitCode: null });
const container = (state: ServiceStatus['state'] = 'running'): ServiceStatus => ({ name: 'agent-runner', kind: 'container', state, health: 'healthy', restarts: 0, exitCode: null, oomKilled: false });
const run = (state: DashboardState, ...actions: DashboardAction[]) => actions.reduce(reduce, state);
const withServices = () => run(initialDashboardState, { type: 'services/replaced', services: [container(), native('stigmer-server'), native('workflow-runner')] });

test('orders natives before containers and selects the first row', () => {
	const state = withServices();
	assert.deepEqual(
		state.services.map((s) => s.name),
		['stigmer-server', 'workflow-runner', 'agent-runner'],
	);
	assert.equal(state.selected, 'stigmer-server');
});

test('the first row stays selected when the container answers before the natives, until the user moves', () => {
	// the engine's answer first: the container is the only row, and selected
	let state = run(initialDashboardState, { type: 'services/replaced', kind: 'container', services: [container()] });
	assert.equal(state.selected, 'agent-runner');
	// the natives come and are put above it: the pointer goes with the first row, as on any other start
	state = run(state, { type: 'services/replaced', kind: 'native', services: [native('stigmer-server')] });
	assert.equal(state.selected, 'stigmer-server');
	// once the user chose a row, rows coming and going leave it there
	state = run(state, { type: 'select/move', delta: 1 }, { type: 'service/updated', status: native('workflow-runner') });
	assert.deepEqual(
		state.services.map((s) => s.name),
		['stigmer-server', 'workflow-runner', 'agent-runner'],
	);
	assert.equal(state.selected, 'agent-runner');
});

test('replacing one kind keeps the other', () => {
	const state = run(withServices(), { type: 'services/replaced', kind: 'container', services: [container('exited')] });
	assert.equal(state.services.length, 3);
	assert.equal(state.services.find((s) => s.name === 'agent-runner')?.state, 'exited');
});

test('an update upserts one row and keeps the selection by name', () => {
	let state = run(withServices(), { type: 'select/name', name: 'agent-runner' });
	state = run(state, { type: 'service/updated', status: container('restarting') });
	assert.equal(state.selected, 'agent-runner');
	assert.equal(state.services[2]?.state, 'restarting');
	state = run(state, { type: 'services/replaced', services: [native('only')] });
	assert.equal(state.selected, 'only');
});

test('an update or engine report equal to what is shown returns the same state (no redraw)', () => {
	const state = run(withServices(), { type: 'engine/changed', engine: { reachable: true, endpoint: 'unix:///x', version: '1' } });
	assert.equal(run(state, { type: 'service/updated', status: container() }), state);
	assert.equal(run(state, { type: 'engine/changed', engine: { reachable: true, endpoint: 'unix:///x', version: '1' } }), state);
	assert.notEqual(run(state, { type: 'service/updated', status: { ...container(), restarts: 1 } }), state);
});

test('selection moves within bounds', () => {
	let state = withServices();
	state = run(state, { type: 'select/move', delta: -1 });
	assert.equal(state.selected, 'stigmer-server');
	state = run(state, { type: 'select/move', delta: 1 }, { type: 'select/move', delta: 1 }, { type: 'select/move', delta: 1 });
	assert.equal(state.selected, 'agent-runner');
	assert.equal(run(initialDashboardState, { type: 'select/move', delta: 1 }), initialDashboardState);
});

test('selection in selected-logs scope resumes following', () => {
	let state = run(withServices(), { type: 'logs/toggleScope' }, { type: 'scroll/to', anchorSeq: 5 });
	assert.equal(state.follow, false);
	state = run(state, { type: 'select/move', delta: 1 });
	assert.equal(state.follow, true);
	assert.equal(state.anchorSeq, null);
});

test('follow toggles between the tail and an anchor', () => {
	let state = run(initialDashboardState, { type: 'follow/toggle', bottomSeq: 42 });
	assert.deepEqual([state.follow, state.anchorSeq], [false, 42]);
	state = run(state, { type: 'follow/toggle', bottomSeq: 50 });
	assert.deepEqual([state.follow, state.anchorSeq], [true, null]);
	// nothing to pause on: stays following
	assert.equal(run(initialDashboardState, { type: 'follow/toggle', bottomSeq: null }).follow, true);
	state = run(state, { type: 'scroll/to', anchorSeq: 7 }, { type: 'scroll/to', anchorSeq: null });
	assert.equal(state.follow, true);
});

test('filter editing, applying and cancelling', () => {
	let state = run(initialDashboardState, { type: 'help/toggle' }, { type: 'filter/open' }, { type: 'filter/input', text: 'err' });
	assert.deepEqual(state.filter, { text: 'err', editing: true });
	assert.equal(state.help, false);
	state = run(state, { type: 'filter/apply' });
	assert.deepEqual(state.filter, { text: 'err', editing: false });
	state = run(state, { type: 'filter/open' }, { type: 'filter/cancel' });
	assert.deepEqual(state.filter, { text: '', editing: false });
});

test('toggles', () => {
	const state = run(initialDashboardState, { type: 'timestamps/toggle' }, { type: 'wrap/toggle' }, { type: 'help/toggle' });
	assert.deepEqual([state.timestamps, state.wrap, state.help], [true, true, true]);
});

test('the terminal handover keeps typed keys in order until attached, and ends', () => {
	let state = run(initialDashboardState, { type: 'help/toggle' }, { type: 'handover/begin', service: 'agent-runner', waitingFor: 'agent-runner to restart' });
	assert.equal(state.help, false, 'no help over a handover');
	assert.deepEqual(state.handover, { service: 'agent-runner', phase: 'waiting', waitingFor: 'agent-runner to restart', typed: '' });
	state = run(state, { type: 'handover/typed', text: 'ec' }, { type: 'handover/typed', text: 'ho' }, { type: 'handover/typed', text: '\r' });
	assert.equal(state.handover?.typed, 'echo\r');
	state = run(state, { type: 'handover/phase', phase: 'opening', waitingFor: null });
	assert.deepEqual([state.handover?.phase, state.handover?.waitingFor, state.handover?.typed], ['opening', null, 'echo\r']);
	assert.equal(reduce(state, { type: 'handover/phase', phase: 'opening' }), state, 'the same phase again is no change');
	state = run(state, { type: 'handover/phase', phase: 'attached' }, { type: 'handover/typed', text: 'x' });
	assert.equal(state.handover?.typed, 'echo\r', 'once attached the shell reads the terminal itself');
	state = run(state, { type: 'handover/end' });
	assert.equal(state.handover, null);
	assert.equal(reduce(state, { type: 'handover/typed', text: 'x' }), state, 'no handover: nothing kept');
});

test('stats keep 60 s of history, one cell per 5 s of the clock: the peak CPU and the last memory of its samples', () => {
	const sample = (i: number, cpu = i): ResourceSample => ({ timeMs: i * 1000, cpuPercent: cpu, memoryBytes: i * 10, memoryLimitBytes: 1000, networkRxBytes: 0, networkTxBytes: 0, pids: 3 });
	let state = initialDashboardState;
	for (let i = 0; i < 100; i++) state = reduce(state, { type: 'stats/sampled', samples: { a: sample(i, i % 5 === 2 ? 50 : i) } });
	const a = state.resources.a!;
	assert.equal(a.cpuHistory.length, historySeconds / (historyCellMs / 1000));
	assert.equal(a.cpuHistory.length, 12);
	assert.deepEqual(a.cpuHistory.slice(-3), [89, 94, 99], 'the peak of each cell');
	assert.deepEqual(a.memoryHistory.slice(-2), [940, 990], 'the last memory of each cell');
	// a sample within the last cell changes that cell, not the history's length
	const before = a.cpuHistory;
	state = reduce(state, { type: 'stats/sampled', samples: { a: { ...sample(99), timeMs: 99_500, cpuPercent: 120 } } });
	assert.equal(state.resources.a!.cpuHistory.length, before.length);
	assert.equal(state.resources.a!.cpuHistory.at(-1), 120);
	assert.deepEqual(state.resources.a!.cpuHistory.slice(0, -1), before.slice(0, -1));
	// a first frame with no CPU figure leaves no mark
	state = reduce(state, { type: 'stats/sampled', samples: { b: { ...sample(0), cpuPercent: Number.NaN } } });
	assert.deepEqual(state.resources.b!.cpuHistory, []);
	state = reduce(state, { type: 'stats/sampled', samples: { b: sample(1, 7) } });
	assert.deepEqual(state.resources.b!.cpuHistory, [7]);
	state = reduce(state, { type: 'stats/sampled', samples: { a: sample(100) } });
	assert.equal(a.latest.pids, 3);
	state = reduce(state, { type: 'stats/cleared', service: 'a' });
	assert.equal(state.resources.a, undefined);
	assert.equal(reduce(state, { type: 'stats/cleared', service: 'a' }), state);
});

test('actions show while running, errors land in the status line', () => {
	let state = run(withServices(), { type: 'action/started', service: 'agent-runner', kind: 'restart' });
	assert.deepEqual(state.actions['agent-runner'], { kind: 'restart' });
	assert.match(state.status!.text, /Restarting agent-runner/);
	state = run(state, { type: 'action/progress', service: 'agent-runner', progress: 'Step 2/9' });
	assert.equal(state.actions['agent-runner']?.progress, 'Step 2/9');
	state = run(state, { type: 'action/finished', service: 'agent-runner', error: 'port 7480 is taken' });
	assert.equal(state.actions['agent-runner'], undefined);
	assert.deepEqual(state.status, { kind: 'error', text: 'restarting agent-runner failed: port 7480 is taken' });
	state = run(state, { type: 'action/started', service: 'x', kind: 'stop' }, { type: 'action/finished', service: 'x' });
	assert.deepEqual(state.status, { kind: 'info', text: 'Stopped x' });
});

test('engine changes merge', () => {
	let state = run(initialDashboardState, { type: 'engine/changed', engine: { reachable: true, endpoint: 'unix:///var/run/docker.sock' } });
	state = run(state, { type: 'engine/changed', engine: { reachable: false, error: 'ECONNREFUSED' } });
	assert.deepEqual(state.engine, { reachable: false, endpoint: 'unix:///var/run/docker.sock', error: 'ECONNREFUSED' });
});

test('log appends bump the version', () => {
	assert.equal(run(initialDashboardState, { type: 'logs/appended' }, { type: 'logs/appended' }).logsVersion, 2);
});

test('an engine that answers again drops the old error', () => {
	const state = run(initialDashboardState, { type: 'engine/changed', engine: { reachable: false, error: 'gone' } }, { type: 'engine/changed', engine: { reachable: true } });
	assert.deepEqual(state.engine, { reachable: true });
});

test('an unreachable engine makes the container unknown, as server status does; natives stay', () => {
	const state = run(withServices(), { type: 'engine/changed', engine: { reachable: false, error: 'connect ENOENT' } });
	const row = state.services.find((s) => s.name === 'agent-runner');
	assert.equal(row?.state, 'unknown');
	assert.equal(row?.health, null);
	assert.equal(state.services.find((s) => s.name === 'stigmer-server')?.state, 'running');
	const back = run(state, { type: 'engine/changed', engine: { reachable: true, version: '1' } }, { type: 'service/updated', status: container() });
	assert.equal(back.services.find((s) => s.name === 'agent-runner')?.state, 'running');
});
