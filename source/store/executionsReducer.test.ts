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

test('a batch of changes to known rows replaces them in place; new rows are sorted in and the positions stay right', () => {
	const rows = fixtureExecutions(Date.now(), 30);
	let view = executionsReducer(empty, { type: 'executions/upserted', summaries: rows.slice(10) });
	view = executionsReducer(view, { type: 'executions/move', delta: 7 });
	const selected = view.selectedId;
	for (let step = 1; step <= 3; step++) {
		const changed = view.rows.filter((_, i) => i % 3 === 0).map((r) => ({ ...r, steps: r.steps + step }));
		const next = executionsReducer(view, { type: 'executions/upserted', summaries: changed });
		assert.deepEqual(
			next.rows.map((r) => r.id),
			view.rows.map((r) => r.id),
			'same order',
		);
		assert.ok(
			next.rows.every((r, i) => (i % 3 === 0 ? r !== view.rows[i] : r === view.rows[i])),
			'only the changed rows are new objects',
		);
		assert.equal(next.selectedId, selected);
		view = next;
	}
	// newer executions arrive, and a known one changes in the same batch
	const known = { ...view.rows[5]!, steps: 99 };
	view = executionsReducer(view, { type: 'executions/upserted', summaries: [...rows.slice(0, 10), known, { ...rows[3]!, steps: 42 }] });
	assert.deepEqual(
		view.rows.map((r) => r.id),
		rows.map((r) => r.id),
		'newest first',
	);
	assert.equal(view.rows.find((r) => r.id === known.id)?.steps, 99);
	assert.equal(view.rows[3]?.steps, 42, 'a row added and changed in one batch keeps its last state');
	assert.equal(view.selectedId, selected, 'moved away from the newest: the selection stays');
	assert.equal(
		executionsWindow(view, 10).rows.some((r) => r.id === selected),
		true,
	);
	// then a change to a known row finds it at its new position
	const again = executionsReducer(view, { type: 'executions/upserted', summaries: [{ ...rows[0]!, steps: 7 }] });
	assert.equal(again.rows[0]?.steps, 7);
	assert.equal(again.rows.length, 30);
});
