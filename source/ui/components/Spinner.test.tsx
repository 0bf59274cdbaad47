/** @jsxRuntime automatic */
/** @jsxImportSource react */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SpinnerClock, spinnerIntervalMs } from './Spinner.js';

test('one clock for every spinner: one timer while any is mounted, none otherwise', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const clock = new SpinnerClock();
	assert.equal(clock.running, false);
	const seen: number[][] = [[], [], []];
	const unsubscribe = seen.map((frames) => clock.subscribe(() => frames.push(clock.getSnapshot())));
	assert.equal(clock.running, true);
	t.mock.timers.tick(spinnerIntervalMs);
	t.mock.timers.tick(spinnerIntervalMs);
	assert.deepEqual(seen, [
		[1, 2],
		[1, 2],
		[1, 2],
	]);
	for (const stop of unsubscribe.slice(0, 2)) stop();
	assert.equal(clock.running, true, 'one spinner left');
	unsubscribe[2]!();
	assert.equal(clock.running, false, 'no spinner: no timer');
	t.mock.timers.tick(10 * spinnerIntervalMs);
	assert.deepEqual(seen[2], [1, 2]);
});

test('a nudge moves the spinners with the update being drawn, and their own timer then waits', (t) => {
	t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
	const clock = new SpinnerClock();
	let ticks = 0;
	const stop = clock.subscribe(() => ticks++);
	clock.nudge();
	assert.equal(ticks, 0, 'too soon after the last move');
	t.mock.timers.tick(spinnerIntervalMs / 2);
	clock.nudge();
	assert.equal(ticks, 1, 'moved with the update, in the same task');
	t.mock.timers.tick(spinnerIntervalMs / 2);
	assert.equal(ticks, 1, 'the timer did not move them again');
	// updates every 80 ms: the spinners move with them only
	for (let i = 0; i < 10; i++) {
		t.mock.timers.tick(80);
		clock.nudge();
	}
	assert.equal(ticks, 11);
	// updates every 200 ms (the store's batches under load): still no frame of the spinners' own between them
	for (let i = 0; i < 10; i++) {
		t.mock.timers.tick(200);
		clock.nudge();
	}
	assert.equal(ticks, 21);
	// nothing else draws: after two intervals the timer moves them, then every interval
	t.mock.timers.tick(spinnerIntervalMs);
	assert.equal(ticks, 21, 'one interval after the last draw: the store may still be drawing');
	t.mock.timers.tick(spinnerIntervalMs);
	assert.equal(ticks, 22);
	t.mock.timers.tick(spinnerIntervalMs);
	assert.equal(ticks, 23);
	stop();
	clock.nudge();
	assert.equal(ticks, 23, 'no spinner: a nudge does nothing');
});
