import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { processTree } from '../supervisor/processStats.js';
import { NativeTreeSampler, walkProcessTree } from './NativeTreeSampler.js';

test('the walk finds the same tree as a full /proc scan, grandchildren included', async () => {
	// sh → sleep (grandchild of this process)
	const child = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
	try {
		for (let i = 0; i < 50 && walkProcessTree(child.pid!).length < 3; i++) await sleep(20);
		const walked = walkProcessTree(process.pid).map((p) => p.pid).sort();
		const scanned = processTree(process.pid).map((p) => p.pid).sort();
		assert.deepEqual(walked, scanned);
		assert.equal(walkProcessTree(child.pid!).length, 3);
		assert.deepEqual(walkProcessTree(2 ** 22 + 1), []);
	} finally {
		child.kill('SIGKILL');
	}
});

test('samples: CPU from the second sample on, RSS and PIDs of the tree', () => {
	let now = 0;
	const sampler = new NativeTreeSampler(() => now);
	const first = sampler.sample({ me: process.pid, gone: undefined });
	assert.equal(first.me?.cpuPercent, null);
	assert.ok((first.me?.rssBytes ?? 0) > 1024 * 1024);
	assert.ok((first.me?.pids ?? 0) >= 1);
	assert.equal(first.gone, null);
	const start = Date.now();
	while (Date.now() - start < 50) {
		// burn a little CPU
	}
	now = 1000;
	const second = sampler.sample({ me: process.pid });
	assert.equal(typeof second.me?.cpuPercent, 'number');
});
