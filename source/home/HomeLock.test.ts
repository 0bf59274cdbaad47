// The home lock's owner check through the process facts (run with STIGMER_PROCESS_FACTS=ps as well):
// a live owner holds it, the same pid with another start time (a reused pid) does not.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { acquireHomeLock } from './HomeLock.ts';
import { StigmerHome } from './StigmerHome.ts';
import { processFacts, processStartTime } from '../platform/ProcessFacts.ts';

test(`a live owner holds the lock, a reused pid does not (${processFacts().kind})`, async (t) => {
	const home = new StigmerHome(mkdtempSync(path.join(os.tmpdir(), 'stigmer-lock-')), false);
	t.after(() => rmSync(home.dir, { recursive: true, force: true }));
	home.ensureLayout();
	const owner = spawn('sleep', ['30'], { stdio: 'ignore' });
	t.after(() => owner.kill('SIGKILL'));
	const start = processStartTime(owner.pid!);
	assert.ok(start, 'the owner has a start time');

	writeFileSync(home.lockFile, `${owner.pid} ${start}\n`);
	await assert.rejects(acquireHomeLock(home, { timeoutMs: 300, what: 'starting' }), /another stigmer \(pid \d+\) is starting this stack/);

	writeFileSync(home.lockFile, `${owner.pid} ${start}-before\n`);
	const taken = await acquireHomeLock(home, { timeoutMs: 2000 });
	taken.release();
});
