import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Key } from 'ink';
import { fixtureExecutions } from '../dashboard/fixtureExecutions.js';
import { fixtureServices } from '../dashboard/FixtureBackend.js';
import { dashboardReducer } from '../store/dashboardReducer.js';
import { type DashboardState, initialDashboardState } from '../store/dashboardState.js';
import { keyEffect, splitKeys } from './keyDispatch.js';

const noKey: Key = {
	upArrow: false,
	downArrow: false,
	leftArrow: false,
	rightArrow: false,
	pageDown: false,
	pageUp: false,
	home: false,
	end: false,
	return: false,
	escape: false,
	ctrl: false,
	shift: false,
	tab: false,
	backspace: false,
	delete: false,
	meta: false,
	super: false,
	hyper: false,
	capsLock: false,
	numLock: false,
} as Key;
const named = (patch: Partial<Key>): Key => ({ ...noKey, ...patch });

/** One moment for every fixture of a test: the executions' ids derive from it */
const fixtureNow = Date.now();

function state(...actions: Parameters<typeof dashboardReducer>[1][]): DashboardState {
	let s = dashboardReducer(initialDashboardState, { type: 'services/replaced', services: fixtureServices() });
	s = dashboardReducer(s, { type: 'executions/upserted', summaries: fixtureExecutions(fixtureNow) });
	for (const action of actions) s = dashboardReducer(s, action);
	return s;
}

test('services view: keys map to lifecycle actions on the selected service', () => {
	const s = state();
	assert.deepEqual(keyEffect(s, 'r', noKey), { type: 'service', kind: 'restart', name: 'stigmer-server' });
	assert.deepEqual(keyEffect(s, 'x', noKey), { type: 'service', kind: 'stop', name: 'stigmer-server' });
	assert.deepEqual(keyEffect(s, 'j', noKey), { type: 'dispatch', action: { type: 'select/move', delta: 1 } });
	assert.deepEqual(keyEffect(s, '', named({ pageUp: true })), { type: 'scroll', to: 'pageUp' });
	assert.deepEqual(keyEffect(s, 'b', named({ ctrl: true })), { type: 'scroll', to: 'pageUp' });
	assert.deepEqual(keyEffect(s, 'd', named({ ctrl: true })), { type: 'scroll', to: 'pageDown' });
	assert.deepEqual(keyEffect(s, '', named({ home: true })), { type: 'scroll', to: 'top' });
	assert.deepEqual(keyEffect(s, '', named({ end: true })), { type: 'dispatch', action: { type: 'scroll/to', anchorSeq: null } });
	assert.deepEqual(keyEffect(s, 'c', named({ ctrl: true })), { type: 'quit' });
	assert.deepEqual(keyEffect(s, '\t', named({ tab: true })), { type: 'dispatch', action: { type: 'view/toggle' } });
	assert.deepEqual(keyEffect(s, '', named({ return: true })), { type: 'none' }, 'Enter opens executions only');
});

test('executions view: select, open, back, cancel with a confirmation', () => {
	const s = state({ type: 'view/toggle' });
	const [running, , failed] = fixtureExecutions(fixtureNow);
	assert.deepEqual(keyEffect(s, 'j', noKey), { type: 'dispatch', action: { type: 'executions/move', delta: 1 } });
	assert.deepEqual(keyEffect(s, '', named({ return: true })), { type: 'openExecution', id: running!.id });
	assert.deepEqual(keyEffect(s, 'x', noKey), { type: 'dispatch', action: { type: 'executions/confirmCancel', id: running!.id } });
	const confirming = dashboardReducer(s, { type: 'executions/confirmCancel', id: running!.id });
	assert.deepEqual(keyEffect(confirming, 'y', noKey), { type: 'cancelExecution', id: running!.id });
	assert.deepEqual(keyEffect(confirming, 'q', noKey), { type: 'dispatch', action: { type: 'executions/confirmCancel', id: null } }, 'any other key keeps it');
	// while the question is on screen no key is a dashboard key: each only answers it (no)
	for (const [input, key] of [
		['x', noKey],
		['s', noKey],
		['r', noKey],
		['e', noKey],
		['', named({ tab: true })],
		['', named({ return: true })],
		['', named({ escape: true })],
	] as const) {
		assert.deepEqual(keyEffect(confirming, input, key), { type: 'dispatch', action: { type: 'executions/confirmCancel', id: null } }, `${input || 'a named key'} only answers no`);
	}
	const onFailed = dashboardReducer(s, { type: 'executions/move', delta: 2 });
	assert.equal(onFailed.executions.selectedId, failed!.id);
	assert.equal(keyEffect(onFailed, 'x', noKey).type, 'dispatch');
	assert.match(JSON.stringify(keyEffect(onFailed, 'x', noKey)), /already ended: failed/);
	const open = dashboardReducer(s, { type: 'executions/open', id: running!.id });
	assert.deepEqual(keyEffect(open, '', named({ escape: true })), { type: 'closeExecution' });
	const filtered = dashboardReducer(dashboardReducer(s, { type: 'filter/input', text: 'x' }), { type: 'filter/apply' });
	assert.deepEqual(keyEffect(filtered, '', named({ escape: true })), { type: 'dispatch', action: { type: 'filter/cancel' } });
});

test('modes: the filter prompt takes the keys; the help closes on any key', () => {
	const typing = state({ type: 'filter/open' });
	assert.deepEqual(keyEffect(typing, 'q', noKey), { type: 'dispatch', action: { type: 'filter/input', text: 'q' } });
	assert.deepEqual(keyEffect(typing, '', named({ return: true })), { type: 'dispatch', action: { type: 'filter/apply' } });
	const help = state({ type: 'help/toggle' });
	assert.deepEqual(keyEffect(help, 'r', noKey), { type: 'dispatch', action: { type: 'help/toggle' } });
	assert.deepEqual(keyEffect(help, 'q', noKey), { type: 'quit' });
});

test('while the terminal is handed to a shell no key is a dashboard key: they are kept for the shell, Esc and Ctrl-C cancel', () => {
	const waiting = state({ type: 'select/name', name: 'agent-runner' }, { type: 'handover/begin', service: 'agent-runner', waitingFor: 'agent-runner to restart' });
	const typed = (input: string, key: Key = noKey) => keyEffect(waiting, input, key);
	for (const c of ['x', 's', 'r', 'q', 'e', '?', '/', 'j']) assert.deepEqual(typed(c), { type: 'dispatch', action: { type: 'handover/typed', text: c } }, c);
	assert.deepEqual(typed('', named({ return: true })), { type: 'dispatch', action: { type: 'handover/typed', text: '\r' } });
	assert.deepEqual(typed('', named({ tab: true })), { type: 'dispatch', action: { type: 'handover/typed', text: '\t' } });
	assert.deepEqual(typed('', named({ upArrow: true })), { type: 'dispatch', action: { type: 'handover/typed', text: '\x1b[A' } });
	assert.deepEqual(typed('d', named({ ctrl: true })), { type: 'dispatch', action: { type: 'handover/typed', text: '\x04' } });
	assert.deepEqual(typed('', named({ escape: true })), { type: 'dispatch', action: { type: 'handover/end' } });
	assert.deepEqual(typed('c', named({ ctrl: true })), { type: 'dispatch', action: { type: 'handover/end' } });
	// a chunk typed faster than a frame: each key in order
	const chunk = splitKeys('echo x\r', noKey).map(([c, k]) => keyEffect(waiting, c, k));
	assert.equal(chunk.map((e) => (e.type === 'dispatch' && e.action.type === 'handover/typed' ? e.action.text : '?')).join(''), 'echo x\r');
	const attached = dashboardReducer(waiting, { type: 'handover/phase', phase: 'attached' });
	for (const c of ['q', 'x']) assert.deepEqual(keyEffect(attached, c, noKey), { type: 'none' });
	assert.deepEqual(keyEffect(attached, '', named({ escape: true })), { type: 'none' }, "Esc is the shell's once it has the terminal");
});

test('a chunk of typed keys is one command each; escape sequences stay whole', () => {
	assert.deepEqual(
		splitKeys('jj', noKey).map(([c]) => c),
		['j', 'j'],
	);
	assert.equal(splitKeys('\x1b[A', noKey).length, 1);
});

test('the engine unreachable: container rows are unknown, not stopped', () => {
	const s = state({ type: 'engine/changed', engine: { reachable: false, error: 'ENOENT' } });
	assert.equal(s.services.find((r) => r.kind === 'container')!.state, 'unknown');
	assert.equal(s.services.find((r) => r.name === 'stigmer-server')!.state, 'running');
});
