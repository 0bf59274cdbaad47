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

test('on every engine, a die by SIGKILL that no kill or stop of the user came before is the main process (an engine that sent no oom)', () => {
	const die137 = (ms: number): OomEvent => ({ ...at(ms, 'die'), exitCode: 137 });
	assert.equal(foldOomEvents(null, 'c1', [die137(0)], t0 + 1000).killedAt, new Date(t0).toISOString());
	// the user's kill or stop (stop's SIGKILL after its timeout) came first: not an OOM kill
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'kill'), die137(50)], t0 + 1000).killedAt, null);
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'stop'), die137(10_000)], t0 + 11_000).killedAt, null);
	// Docker's `docker stop` past its timeout: kill (SIGTERM), kill (SIGKILL), die 137, then stop
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'kill'), at(10_000, 'kill'), die137(10_010), at(10_020, 'stop')], t0 + 11_000).killedAt, null);
	// another exit code (a crash, a stop honoured) is no OOM kill; a user kill long before does not hide a later one
	assert.equal(foldOomEvents(null, 'c1', [{ ...at(0, 'die'), exitCode: 1 }], t0 + 1000).killedAt, null);
	assert.equal(foldOomEvents(null, 'c1', [at(0, 'kill'), die137(120_000)], t0 + 121_000).killedAt, new Date(t0 + 120_000).toISOString());
});

test('an oom then a die by SIGKILL (Docker that sends both) is one kill of the main process, nothing inside', () => {
	const events: OomEvent[] = [at(0, 'oom'), at(30, 'oom'), { ...at(60, 'die'), exitCode: 137 }];
	const record = foldOomEvents(null, 'c1', events, t0 + 5000);
	assert.equal(record.killedAt, new Date(t0 + 60).toISOString());
	assert.equal(record.processKills, 0);
	assert.deepEqual(foldOomEvents(record, 'c1', events, t0 + 9000), record, 'asked again: the same record');
});

test('where the cgroup counts the kills inside, an oom with no die is passed over, never counted twice', () => {
	const events = [at(0, 'oom'), at(200, 'oom')];
	const record = foldOomEvents(null, 'c1', events, t0 + 200 + dieWindowMs + 100, false);
	assert.equal(record.processKills, 0);
	assert.equal(record.lastProcessKillAt, null);
	assert.equal(oomUndecided(events, record), false, 'decided: the window has passed');
	// the main process's kill is still the events'
	const died = foldOomEvents(record, 'c1', [...events, at(60_000, 'oom'), { ...at(60_050, 'die'), exitCode: 137 }], t0 + 61_000, false);
	assert.equal(died.killedAt, new Date(t0 + 60_050).toISOString());
	assert.equal(died.processKills, 0);
});
