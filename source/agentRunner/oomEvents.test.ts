import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dieWindowMs, eventsApiTime, foldOomEvents, type OomEvent, oomUndecided } from './oomEvents.ts';

const t0 = Date.parse('2026-12-06T22:00:00Z');
const at = (ms: number, action: OomEvent['action']): OomEvent => ({ action, timeNano: (t0 + ms) * 1e6 });

test('an oom burst followed by a die is the main process: killed at the die', () => {
	// as Docker 20.10 sent them: several ooms, then the die, within the same second
	const events = [at(0, 'oom'), at(100, 'oom'), at(300, 'oom'), at(400, 'die')];
	const record = foldOomEvents(null, 'c1', events, t0 + 500);
	assert.equal(record.killedAt, new Date(t0 + 400).toISOString());
	assert.equal(record.processKills, 0);
});

test('an oom burst with no die is one process inside, once the window has passed since its last event', () => {
	const events = [at(0, 'oom'), at(200, 'oom'), at(700, 'oom'), at(900, 'oom')];
	const early = foldOomEvents(null, 'c1', events, t0 + 900 + dieWindowMs - 100);
	assert.equal(early.processKills, 0, 'a die may still come');
	assert.equal(oomUndecided(events, early), true);
	const record = foldOomEvents(early, 'c1', events, t0 + 900 + dieWindowMs + 100);
	assert.equal(record.processKills, 1);
	assert.equal(record.lastProcessKillAt, new Date(t0 + 900).toISOString());
	assert.equal(record.killedAt, null);
	assert.equal(oomUndecided(events, record), false);
	// the same events again (status asks the engine since the container was made): counted once
	assert.deepEqual(foldOomEvents(record, 'c1', events, t0 + 60_000), record);
	// a later kill adds one
	const later = foldOomEvents(record, 'c1', [...events, at(30_000, 'oom')], t0 + 60_000);
	assert.equal(later.processKills, 2);
});

test('a process killed long before the main process counts apart; another container starts a new record', () => {
	const record = foldOomEvents(null, 'c1', [at(0, 'oom'), at(10_000, 'oom'), at(10_050, 'die')], t0 + 11_000);
	assert.equal(record.processKills, 1);
	assert.equal(record.killedAt, new Date(t0 + 10_050).toISOString());
	const other = foldOomEvents(record, 'c2', [], t0 + 11_000);
	assert.equal(other.containerId, 'c2');
	assert.equal(other.killedAt, null);
	// a die with no oom before it (a kill, a crash) is no OOM kill
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'die')], t0 + 5000).killedAt, null);
});

test('the events API is asked until now to the millisecond, never a second rounded up (an engine waits for a future until)', () => {
	assert.equal(eventsApiTime(Date.parse('2026-12-07T00:36:53.463Z')), '1796603813.463000000');
	assert.equal(eventsApiTime(Date.parse('2026-12-07T00:36:53.000Z')), '1796603813.000000000');
	assert.equal(eventsApiTime(Date.parse('2026-12-07T00:36:53.007Z') + 0.6), '1796603813.007000000');
});

test('where the engine sends no oom event (Podman), a die by SIGKILL that no kill or stop came before is the main process', () => {
	const die137 = (ms: number): OomEvent => ({ ...at(ms, 'die'), exitCode: 137 });
	assert.equal(foldOomEvents(null, 'c1', [die137(0)], t0 + 1000, true).killedAt, new Date(t0).toISOString());
	// on Docker the same die is a kill with no oom event: not the OOM killer's
	assert.equal(foldOomEvents(null, 'c1', [die137(0)], t0 + 1000, false).killedAt, null);
	// the user's kill or stop (stop's SIGKILL after its timeout) came first: not an OOM kill
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'kill'), die137(50)], t0 + 1000, true).killedAt, null);
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'stop'), die137(10_000)], t0 + 11_000, true).killedAt, null);
	// another exit code (a crash, a stop honoured) is no OOM kill; a user kill long before does not hide a later one
	assert.equal(foldOomEvents(null, 'c1', [{ ...at(0, 'die'), exitCode: 1 }], t0 + 1000, true).killedAt, null);
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'kill'), die137(120_000)], t0 + 121_000, true).killedAt, new Date(t0 + 120_000).toISOString());
});
