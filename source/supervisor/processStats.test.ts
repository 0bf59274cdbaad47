import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { processFacts } from '../platform/ProcessFacts.js';
import { ProcessTreeSampler, cpuPercent } from './processStats.js';

const processTree = (pid: number) => processFacts().tree(pid);

/** The tree as a full scan of every process finds it (the reference for the walk). */
function scannedTree(rootPid: number): number[] {
	const children = new Map<number, number[]>();
	for (const info of processFacts().all()) {
		if (info.state !== 'Z') children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
	}
	const tree = [rootPid];
	for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
	return tree;
}

test('CPU % is of one core: CPU time over wall time', () => {
	assert.equal(cpuPercent(0, 1000, 1000), 100);
	assert.equal(cpuPercent(1000, 1500, 1000), 50);
	assert.equal(cpuPercent(0, 3000, 1000), 300); // three busy cores
	assert.equal(cpuPercent(2000, 1000, 1000), 0); // a descendant left between samples
	assert.equal(cpuPercent(0, 100, 0), 0);
});

test(`the walk finds the same tree as a full scan, grandchildren included (${processFacts().kind})`, async () => {
	// sh → sleep (grandchild of this process)
	const child = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
	try {
		for (let i = 0; i < 50 && processTree(child.pid!).length < 3; i++) await sleep(20);
		const walked = processTree(child.pid!)
			.map((p) => p.pid)
			.sort();
		assert.deepEqual(walked, scannedTree(child.pid!).sort());
		assert.equal(walked.length, 3);
		// from this process down (with ps, each ps run is a short-lived child of its own: compare sh's subtree)
		const mine = processTree(process.pid).map((p) => p.pid);
		assert.equal(mine[0], process.pid);
		for (const pid of walked) assert.ok(mine.includes(pid), `${pid} is in this process's tree`);
		assert.deepEqual(processTree(2 ** 22 + 1), []);
	} finally {
		child.kill('SIGKILL');
	}
});

test('samples: CPU from the second sample on, RSS and PIDs of the tree', () => {
	let now = 0;
	const sampler = new ProcessTreeSampler(() => now);
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

test(`a settled tree is read from its processes, walked again every rewalkMs and when one ends (${processFacts().kind})`, async () => {
	// a root that starts a child (a grandchild of this process) when it reads a line
	const root = spawn(process.execPath, ['-e', "process.stdin.on('data', () => require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }))"], {
		stdio: ['pipe', 'ignore', 'ignore'],
	});
	const pids = (sampler: ProcessTreeSampler) => sampler.sample({ root: root.pid }).root?.pids;
	try {
		let now = 0;
		const sampler = new ProcessTreeSampler(() => now, 10_000);
		assert.equal(pids(sampler), 1);
		now = 2000;
		assert.equal(pids(sampler), 1); // walked again: it changed (appeared) less than 10 s ago
		now = 10_000;
		assert.equal(pids(sampler), 1); // settled: its processes' own figures
		root.stdin.write('\n');
		await waitFor(() => processTree(root.pid!).length === 2);
		now = 11_000;
		// the walk is due 10 s after the last one: until then the new child is not seen (with ps, every sample walks)
		assert.equal(pids(sampler), processFacts().kind === 'procfs' ? 1 : 2);
		now = 12_000;
		assert.equal(pids(sampler), 2, 'the next walk finds the child');
		now = 13_000;
		assert.equal(pids(sampler), 2);
		now = 22_000;
		assert.equal(pids(sampler), 2, 'settled again');
		const child = processTree(root.pid!)[1]!.pid;
		process.kill(child, 'SIGKILL');
		await waitFor(() => processTree(root.pid!).length === 1);
		now = 22_500;
		assert.equal(pids(sampler), 1, 'a process that ended: walked at once');
	} finally {
		for (const p of processTree(root.pid!).reverse()) process.kill(p.pid, 'SIGKILL');
	}
});

async function waitFor(condition: () => boolean): Promise<void> {
	for (let i = 0; i < 250 && !condition(); i++) await sleep(20);
	assert.ok(condition(), 'the condition held within 5 s');
}
