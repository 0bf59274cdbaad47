import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureExecutions } from '../../dashboard/fixtureExecutions.js';
import { dashboardReducer } from '../../store/dashboardReducer.js';
import { type DashboardState, initialDashboardState } from '../../store/dashboardState.js';
import { visibleChange } from './useDashboardState.js';

const sample = { timeMs: 0, cpuPercent: 1, memoryBytes: 2, memoryLimitBytes: 3, networkRxBytes: 4, networkTxBytes: 5, pids: 6 };
const rows = fixtureExecutions(Date.now());
const base = dashboardReducer(initialDashboardState, { type: 'executions/upserted', summaries: rows });
const executionsView = dashboardReducer(base, { type: 'view/toggle' });
const after = (state: DashboardState, ...actions: Parameters<typeof dashboardReducer>[1][]) => actions.reduce(dashboardReducer, state);

test('stats are not drawn in the executions view, and are in the services view', () => {
	const stats = { type: 'stats/sampled', samples: { 'agent-runner': sample } } as const;
	assert.equal(visibleChange(executionsView, after(executionsView, stats)), false);
	assert.equal(visibleChange(base, after(base, stats)), true);
	// with anything else that shows, the change is drawn
	assert.equal(visibleChange(executionsView, after(executionsView, stats, { type: 'logs/appended' })), true);
});

test('logs are not drawn while an execution fills the pane', () => {
	const open = after(executionsView, { type: 'executions/open', id: rows[0]!.id });
	assert.equal(visibleChange(open, after(open, { type: 'logs/appended' })), false);
	assert.equal(visibleChange(open, after(open, { type: 'executionLog/appended' })), true);
	assert.equal(visibleChange(executionsView, after(executionsView, { type: 'logs/appended' })), true);
});

test("executions' rows are not drawn in the services view, unless one is open or a cancellation is asked", () => {
	const changed = [{ ...rows[0]!, steps: 9 }];
	const upsert = { type: 'executions/upserted', summaries: changed } as const;
	assert.equal(visibleChange(base, after(base, upsert)), false);
	assert.equal(visibleChange(executionsView, after(executionsView, upsert)), true);
	const open = after(executionsView, { type: 'executions/open', id: rows[0]!.id }, { type: 'view/toggle' });
	assert.equal(open.view, 'services');
	assert.equal(visibleChange(open, after(open, upsert)), true, 'the pane title shows the open one');
	const asking = after(base, { type: 'executions/confirmCancel', id: rows[0]!.id });
	assert.equal(visibleChange(asking, after(asking, upsert)), true);
	assert.equal(visibleChange(base, after(base, { type: 'executions/runner', runner: { state: 'down', problem: 'unreachable' } })), true);
});

test('keys are always drawn', () => {
	for (const state of [base, executionsView]) {
		assert.equal(visibleChange(state, after(state, { type: 'timestamps/toggle' })), true);
		assert.equal(visibleChange(state, after(state, { type: 'view/toggle' })), true);
	}
});
