import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuPercent, processTree, rssBytes } from './processStats.js';

test('CPU % is of one core: ticks (1/100 s) over wall time', () => {
	assert.equal(cpuPercent(0, 100, 1000), 100);
	assert.equal(cpuPercent(100, 150, 1000), 50);
	assert.equal(cpuPercent(0, 300, 1000), 300); // three busy cores
	assert.equal(cpuPercent(200, 100, 1000), 0); // a descendant left between samples
	assert.equal(cpuPercent(0, 10, 0), 0);
});

test('the tree of this process holds at least itself, with its memory', () => {
	const tree = processTree(process.pid);
	assert.equal(tree[0]?.pid, process.pid);
	assert.ok(rssBytes(process.pid) > 1024 * 1024);
	assert.deepEqual(processTree(2 ** 22 + 1), []);
});
