import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureExecutions } from '../../dashboard/fixtureExecutions.js';
import { dashboardReducer } from '../../store/dashboardReducer.js';
import { type DashboardState, initialDashboardState } from '../../store/dashboardState.js';
import type { ServiceStatus } from '../../serviceStatus.js';
import { visibleChange } from './useDashboardState.js';

const sample = { timeMs: 0, cpuPercent: 1, memoryBytes: 2, memoryLimitBytes: 3, networkRxBytes: 4, networkTxBytes: 5, pids: 6 };
const rows = fixtureExecutions(Date.now());
const after = (state: DashboardState, ...actions: Parameters<typeof dashboardReducer>[1][]) => actions.reduce(dashboardReducer, state);
const running: ServiceStatus = { name: 'agent-runner', kind: 'container', state: 'running', health: 'healthy', restarts: 0, exitCode: null };
const base = after(initialDashboardState, { type: 'services/replaced', services: [running] }, { type: 'executions/upserted', summaries: rows });
const executionsView = dashboardReducer(base, { type: 'view/toggle' });

test('stats are not drawn in the executions view, and are in the services view', () => {
	const stats = { type: 'stats/sampled', samples: { 'agent-runner': sample } } as const;
	assert.equal(visibleChange(executionsView, after(executionsView, stats)), false);
	assert.equal(visibleChange(base, after(base, stats)), true);
	// with anything else that shows, the change is drawn
	assert.equal(visibleChange(executionsView, after(executionsView, stats, { type: 'logs/appended' })), true);
});

test('a sample that the services table shows as it shows the last one is not drawn', () => {
	const at = (timeMs: number, cpuPercent: number, memoryBytes: number, networkRxBytes: number | null = 4) => ({
		type: 'stats/sampled' as const,
		samples: {
			'agent-runner': { ...sample, timeMs, cpuPercent, memoryBytes: memoryBytes * 2 ** 20, memoryLimitBytes: 2 ** 30, networkRxBytes, networkTxBytes: networkRxBytes === null ? null : 5 },
		},
	});
	const shown = after(base, at(1000, 0.01, 32));
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.02, 32.01))), false, '0.0 % and 32M again, in the same sparkline cell');
	assert.equal(visibleChange(shown, after(shown, at(3000, 5.5, 32))), true, 'the CPU figure changed');
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.01, 48))), true, 'the memory changed');
	// a small change of a figure (CPU below 5 %, memory by less than 2 %) waits up to a cell too
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.3, 32))), false, 'CPU 0.0 → 0.3 %: it waits');
	assert.equal(visibleChange(shown, after(shown, at(3000, 3.2, 32))), false, 'CPU 0.0 → 3.2 % (a health check): it waits');
	assert.equal(visibleChange(shown, after(shown, at(11_000, 0.3, 32))), true, 'CPU 0.0 → 0.3 %, two cells on: drawn');
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.01, 32.5))), false, 'memory 32M → 33M (+1.6 %): it waits');
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.01, 33))), true, 'memory +3 %: drawn');
	const morePids = { type: 'stats/sampled' as const, samples: { 'agent-runner': { ...at(3000, 0.01, 32).samples['agent-runner'], pids: 7 } } };
	assert.equal(visibleChange(shown, after(shown, morePids)), true, 'PIDs changed: drawn');
	// the network totals too wait up to a cell, with the sparklines
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.01, 32, 900_000))), false, 'the network totals changed: they wait');
	assert.equal(visibleChange(shown, after(shown, at(11_000, 0.01, 32, 900_000))), true, 'the network totals two cells on: drawn');
	assert.equal(visibleChange(shown, after(shown, at(3000, 0.01, 32, 900_000), { type: 'logs/appended' })), true, 'the totals ride with another change');
	const noTotals = after(base, at(1000, 0.01, 32, null));
	assert.equal(visibleChange(noTotals, after(noTotals, at(1500, 0.01, 32, null))), false);
	assert.equal(visibleChange(noTotals, after(noTotals, at(1500, 0.01, 32))), true, 'the first network totals: drawn at once');
	// the sparklines' cells are 5 s of the clock: a move waits one cell for another frame, not two
	assert.equal(visibleChange(shown, after(shown, at(6000, 0.01, 32))), false, 'the next sparkline cell: it waits');
	assert.equal(visibleChange(shown, after(shown, at(6000, 0.01, 32), at(8000, 0.01, 32))), false, 'still the next cell');
	assert.equal(visibleChange(shown, after(shown, at(6000, 0.01, 32), at(11_000, 0.01, 32))), true, 'two cells on: drawn');
	assert.equal(visibleChange(shown, after(shown, at(6000, 5.5, 32))), true, 'the next cell with a new figure: drawn at once');
	assert.equal(visibleChange(shown, after(shown, at(6000, 0.01, 32), { type: 'logs/appended' })), true, 'the move rides with another change');
	const blank = after(base, { type: 'stats/sampled', samples: { 'agent-runner': { ...sample, timeMs: 1000, cpuPercent: Number.NaN } } });
	assert.equal(visibleChange(blank, after(blank, at(3000, 0.01, 2 / 2 ** 20))), true, 'the first CPU figure of a stream');
	// a service not in the table: nothing drawn
	const other = { type: 'stats/sampled' as const, samples: { elsewhere: sample } };
	assert.equal(visibleChange(shown, after(shown, other)), false);
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
