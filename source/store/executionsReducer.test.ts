import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureExecutions } from '../dashboard/fixtureExecutions.js';
import { initialDashboardState, maxExecutions } from './dashboardState.js';
import { executionsReducer, executionsWindow } from './executionsReducer.js';

const empty = initialDashboardState.executions;

test('rows are keyed by id, newest first, capped; repeats change nothing', () => {
	const rows = fixtureExecutions(Date.now(), 6);
	const view = executionsReducer(empty, { type: 'executions/upserted', summaries: [...rows].reverse() });
	assert.deepEqual(
		view.rows.map((r) => r.id),
		rows.map((r) => r.id),
	);
	assert.equal(executionsReducer(view, { type: 'executions/upserted', summaries: rows }), view, 'the same picture again: no new state');
	const many = executionsReducer(empty, { type: 'executions/upserted', summaries: fixtureExecutions(Date.now(), maxExecutions + 50) });
	assert.equal(many.rows.length, maxExecutions);
});

test('the selection follows the newest row while it is on it, and stays where the user moved it', () => {
	const [a, b, c] = fixtureExecutions(Date.now(), 3).reverse();
	let view = executionsReducer(empty, { type: 'executions/upserted', summaries: [a!] });
	assert.equal(view.selectedId, a!.id);
	view = executionsReducer(view, { type: 'executions/upserted', summaries: [b!] });
	assert.equal(view.selectedId, b!.id, 'on the newest: follows');
	view = executionsReducer(view, { type: 'executions/move', delta: 1 });
	assert.equal(view.selectedId, a!.id);
	view = executionsReducer(view, { type: 'executions/upserted', summaries: [c!] });
	assert.equal(view.selectedId, a!.id, 'moved away: stays');
});

test('the window is the page of rows holding the selection', () => {
	const rows = fixtureExecutions(Date.now(), 25);
	let view = executionsReducer(empty, { type: 'executions/upserted', summaries: rows });
	assert.equal(executionsWindow(view, 10).from, 0);
	view = executionsReducer(view, { type: 'executions/move', delta: 12 });
	const page = executionsWindow(view, 10);
	assert.equal(page.from, 10);
	assert.equal(page.rows.length, 10);
});
